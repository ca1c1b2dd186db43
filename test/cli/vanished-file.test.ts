/**
 * A file deleted while a checkpoint is being taken (listed by the scan, gone when
 * read) is a conflict with whoever is changing the workspace, not an unknown
 * component: the capture is retried once, then refused with exit 3 naming the file.
 */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, inspectData, jsonOf, makeWorkspaceDirs, runCli, writeTree, type CliErrorJson } from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

describe("a file that vanishes during checkpoint create", () => {
  it("is retried once: when the second scan reads it, the checkpoint succeeds with it", async () => {
    const ws = makeWorkspaceDirs("cli-vanish-once");
    writeTree(ws.root, { "a.txt": "a\n", "b.txt": "b\n" });
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"], 0, { vanish: { file: path.join(ws.root, "b.txt"), times: 1 } });
    expect(created.files).toBe(2);
    const entries = await inspectData(ws).db.checkpoint.findUniqueOrThrow({ where: { id: created.id } });
    expect(entries.files).toBe(2);
  });

  it("vanishing again on the retry is a conflict (exit 3) naming the file, and nothing is recorded as a checkpoint", async () => {
    const ws = makeWorkspaceDirs("cli-vanish-twice");
    writeTree(ws.root, { "a.txt": "a\n", "b.txt": "b\n" });
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
    const file = path.join(ws.root, "b.txt");
    const result = await runCli(ws, ["checkpoint", "create", "web", "--json"], { vanish: { file, times: 2 } });
    expect(result.status, result.stderr).toBe(3);
    const error = jsonOf<CliErrorJson>(result).error;
    expect(error.code).toBe("CONFLICT");
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/vanished/);
    expect(error.message).not.toMatch(/no such file or directory/);
    expect(fs.readFileSync(file, "utf8")).toBe("b\n");

    const data = inspectData(ws);
    expect(await data.db.checkpoint.count()).toBe(0);
    const history = await data.db.auditEvent.findFirstOrThrow({ where: { kind: "checkpoint.create" } });
    expect(history).toMatchObject({ outcome: "failed", component: "web" });
    expect(history.error).toContain(file);
    // The component is still known, and the next checkpoint works.
    await cliJson(ws, ["checkpoint", "create", "web"]);
  });
});
