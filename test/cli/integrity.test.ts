import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  assertCliBundleFresh,
  cleanUpAfterEach,
  cliJson,
  corruptObject,
  deleteObject,
  journalFiles,
  makeWorkspaceDirs,
  readTree,
  runCli,
  jsonOf,
  sha256Of,
  treeDifferences,
  writeTree,
  type CliErrorJson,
} from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import type { VerifyResult } from "../../server/checkpoints/verify";
import type { HistoryItem } from "../../server/audit/history";
import type { CheckpointView } from "../../server/checkpoints/queries";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

/** Checkpointed, then edited by an agent: a.txt and b.txt modified, c.txt deleted, new.txt added. */
async function editedAfterCheckpoint() {
  const ws = makeWorkspaceDirs("cli-integrity");
  writeTree(ws.root, { "src/a.txt": "version one\n", "src/b.txt": "bee\n", "src/c.txt": "sea\n" });
  await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
  const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
  writeTree(ws.root, { "src/a.txt": "version two\n", "src/b.txt": "bee two\n", "src/new.txt": "agent\n" });
  fs.rmSync(path.join(ws.root, "src/c.txt"));
  return { ws, created };
}

describe("integrity failures (exit 4)", () => {
  it("refuses a rollback when an object is corrupt, names the file, leaves the workspace untouched, and verify reports it corrupt", async () => {
    const { ws, created } = await editedAfterCheckpoint();
    await corruptObject(ws.dataDir, sha256Of("version one\n"));
    const before = readTree(ws.root);

    const rollback = await runCli(ws, ["rollback", created.id, "--yes", "--json"]);

    expect(rollback.status).toBe(4);
    const { error } = jsonOf<CliErrorJson>(rollback);
    expect(error.code).toBe("INTEGRITY");
    expect(error.message).toMatch(/src\/a\.txt \(corrupt\); the workspace was not changed/);
    expect(treeDifferences(before, readTree(ws.root), { inode: true, mtime: "all" })).toEqual([]);
    expect(journalFiles(ws.dataDir)).toEqual([]);

    const verify = await cliJson<VerifyResult>(ws, ["checkpoint", "verify", created.id], 4);
    expect(verify).toMatchObject({ checkpointId: created.id, state: "corrupt", problems: [{ path: "src/a.txt", sha256: sha256Of("version one\n"), state: "corrupt" }] });
    const list = await cliJson<{ items: CheckpointView[] }>(ws, ["checkpoint", "list", "web"]);
    expect(list.items).toEqual([expect.objectContaining({ id: created.id, verifyState: "corrupt" })]);

    const history = await cliJson<{ items: HistoryItem[] }>(ws, ["history", "web", "--kind", "rollback"]);
    expect(history.items).toEqual([expect.objectContaining({ outcome: "failed", checkpointId: created.id, error: error.message })]);
  });

  it("refuses a rollback when an object is missing, names the file, and verify reports it missing", async () => {
    const { ws, created } = await editedAfterCheckpoint();
    await deleteObject(ws.dataDir, sha256Of("sea\n"));
    const before = readTree(ws.root);

    const rollback = await runCli(ws, ["rollback", created.id, "--yes", "--json"]);

    expect(rollback.status).toBe(4);
    expect(jsonOf<CliErrorJson>(rollback).error).toMatchObject({ code: "INTEGRITY", message: expect.stringMatching(/src\/c\.txt \(missing\)/) });
    expect(treeDifferences(before, readTree(ws.root), { inode: true, mtime: "all" })).toEqual([]);
    const verify = await cliJson<VerifyResult>(ws, ["checkpoint", "verify", created.id], 4);
    expect(verify).toMatchObject({ state: "missing", problems: [{ path: "src/c.txt", state: "missing" }] });
  });

  it("verifies an intact checkpoint with exit 0", async () => {
    const { ws, created } = await editedAfterCheckpoint();
    expect(await cliJson<VerifyResult>(ws, ["checkpoint", "verify", created.id])).toMatchObject({ state: "verified", problems: [], objectsChecked: 6 }); // 3 files, the manifest, the root and src/ trees
  });
});
