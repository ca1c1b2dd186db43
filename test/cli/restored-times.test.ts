/**
 * A rollback puts modification times back to the microsecond (what utimes can
 * set): a time that is not a whole millisecond comes back as it was, not one
 * microsecond early, so the next checkpoint finds nothing touched.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, makeWorkspaceDirs, writeTree } from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

describe("restored modification times", () => {
  it("come back to the microsecond, and the checkpoint after the rollback finds nothing changed", async () => {
    const ws = makeWorkspaceDirs("cli-restored-times");
    writeTree(ws.root, { "src/a.txt": "a1\n", "b.txt": "b\n" });
    // Microseconds that a double of milliseconds holds just below their value (…497998 is …497997.99…).
    for (const rel of ["src/a.txt", "src", "b.txt"]) execFileSync("touch", ["-h", "-d", "@1733600048.497998", path.join(ws.root, rel)]);
    const mtimeNs = (rel: string) => fs.statSync(path.join(ws.root, rel), { bigint: true }).mtimeNs;
    expect(mtimeNs("src/a.txt")).toBe(1733600048497998000n);
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
    const first = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);

    fs.writeFileSync(path.join(ws.root, "src/a.txt"), "a2\n");
    await cliJson(ws, ["rollback", first.id, "--yes"]);
    expect([mtimeNs("src/a.txt"), mtimeNs("src")]).toEqual([1733600048497998000n, 1733600048497998000n]);
    const after = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    expect(after.manifestSha256).toBe(first.manifestSha256);
  });
});
