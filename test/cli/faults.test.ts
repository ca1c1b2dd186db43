/**
 * Bad days, through the CLI as a process: a FIFO put in the tree while a
 * rollback runs, and the temp files a crash leaves beside restored files.
 */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, makeWorkspaceDirs, readTree, runCli, treeDifferences, writeTree } from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

/** Everything under `root` whose name marks a rollback's temp file. */
function tempSiblings(root: string): string[] {
  return [...readTree(root).keys()].filter((rel) => /(^|\/)\.[^/]*\.sn-[0-9a-f]+$|(^|\/)\.sn-[0-9a-f]+-[0-9a-f]+$/.test(rel));
}

describe("a FIFO swapped in for a restored file while the rollback runs", () => {
  it("does not block the rollback's final flush: it finishes, and never opens the pipe for reading", async () => {
    const ws = makeWorkspaceDirs("fault-fifo");
    writeTree(ws.root, { "a.txt": "a1\n", "b.txt": "b1\n" });
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
    const first = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    writeTree(ws.root, { "a.txt": "a2\n", "b.txt": "b2\n" });

    // Change 3 in the workspace is the utimes of a.txt, right after it was renamed into place:
    // then a.txt becomes a FIFO that nobody writes to.
    const run = await runCli(ws, ["rollback", first.id, "--yes", "--json"], { fault: { after: 3, under: ws.root, mode: "fifo" } });

    expect(run.status, run.stderr).toBe(0);
    expect(fs.lstatSync(path.join(ws.root, "a.txt")).isFIFO()).toBe(true);
    expect(fs.readFileSync(path.join(ws.root, "b.txt"), "utf8")).toBe("b1\n");
  });
});

describe("the temp files of a rollback killed half-way", () => {
  it("are removed by the recovery that completes it", async () => {
    const ws = makeWorkspaceDirs("fault-temps");
    writeTree(ws.root, { "a.txt": "a1\n", "d/b.txt": "b1\n", "d/c.txt": "c1\n" });
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
    const original = readTree(ws.root);
    const first = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    writeTree(ws.root, { "a.txt": "a2\n", "d/b.txt": "b2\n", "d/c.txt": "c2\n" });
    // Change 1 writes a.txt's temp sibling; the kill lands on change 2, its rename.
    const killed = await runCli(ws, ["rollback", first.id, "--yes"], { fault: { after: 2, under: ws.root } });
    expect(killed.signal).toBe("SIGKILL");
    expect(tempSiblings(ws.root)).toHaveLength(1);

    await cliJson(ws, ["recover"]);

    expect(tempSiblings(ws.root)).toEqual([]);
    expect(treeDifferences(original, readTree(ws.root))).toEqual([]);
  });
});
