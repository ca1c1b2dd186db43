import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  assertCliBundleFresh,
  cleanUpAfterEach,
  cliJson,
  filterTree,
  isIgnoredByDefault,
  makeTree,
  makeWorkspaceDirs,
  mutateTree,
  readTree,
  treeDifferences,
  writeTree,
} from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import type { RollbackPlanBody } from "../../server/rollback/plan";
import type { RollbackResult } from "../../server/rollback/execute";
import type { CheckpointView } from "../../server/checkpoints/queries";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

type RollbackJson = Omit<RollbackResult, "restoredPaths" | "deletedPaths"> & { restoredPaths: string[]; deletedPaths: string[] };
const notIgnored = (rel: string) => !isIgnoredByDefault(rel);

describe("safetynet checkpoint create / rollback (SC-001 through the CLI)", () => {
  it("puts an agent's refactor back exactly, prints the documented JSON, and can undo its own rollback", async () => {
    const ws = makeWorkspaceDirs("cli-roundtrip");
    makeTree(ws.root, { files: 300, mb: 2 });
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
    const original = readTree(ws.root);

    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web", "--reason", "before the refactor"]);
    expect(created).toMatchObject({
      id: expect.stringMatching(/^cp_/),
      component: "web",
      files: [...filterTree(original, notIgnored).values()].filter((n) => n.kind === "file").length,
      bytes: expect.any(Number),
      newBytes: expect.any(Number),
      durationMs: expect.any(Number),
      manifestSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(created.newBytes).toBeGreaterThanOrEqual(created.bytes);

    mutateTree(ws.root, { changes: 60 });
    writeTree(ws.root, { "node_modules/new-dep/index.js": "x\n", "dist/new.js": "x\n", "after.log": "x\n" });
    const agentVersion = readTree(ws.root);

    const plan = await cliJson<RollbackPlanBody & { checkpointId: string }>(ws, ["rollback", created.id, "--dry-run"]);
    expect(plan).toMatchObject({ checkpointId: created.id, restore: expect.any(Array), delete: expect.any(Array), unchanged: expect.any(Number) });
    expect(plan.restore.length).toBeGreaterThan(20);
    expect(plan.delete.length).toBeGreaterThan(5);
    expect(treeDifferences(agentVersion, readTree(ws.root), { inode: true, mtime: "all" })).toEqual([]);

    const rollback = await cliJson<RollbackJson>(ws, ["rollback", created.id, "--yes"]);
    expect(rollback).toMatchObject({
      rollbackId: expect.stringMatching(/^rb_/),
      checkpointId: created.id,
      outcome: "succeeded",
      durationMs: expect.any(Number),
      restored: plan.restore.length,
      deleted: plan.delete.length,
      unchanged: plan.unchanged,
      safetyCheckpointId: expect.stringMatching(/^cp_/),
    });
    const after = readTree(ws.root);
    expect(treeDifferences(filterTree(original, notIgnored), filterTree(after, notIgnored))).toEqual([]);
    expect(treeDifferences(filterTree(agentVersion, isIgnoredByDefault), filterTree(after, isIgnoredByDefault), { inode: true })).toEqual([]);

    const undo = await cliJson<RollbackJson>(ws, ["rollback", rollback.safetyCheckpointId as string, "--yes"]);
    expect(undo.outcome).toBe("succeeded");
    expect(treeDifferences(agentVersion, readTree(ws.root))).toEqual([]);

    const list = await cliJson<{ items: CheckpointView[] }>(ws, ["checkpoint", "list", "web"]);
    expect(list.items.map((c) => [c.id, c.kind])).toEqual([
      [undo.safetyCheckpointId, "safety"],
      [rollback.safetyCheckpointId, "safety"],
      [created.id, "manual"],
    ]);
  });

  it("writes nothing when a second rollback to the same checkpoint has nothing to do", async () => {
    const ws = makeWorkspaceDirs("cli-idempotent");
    writeTree(ws.root, { "a.txt": "a\n", "b/c.txt": "c\n" });
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    fs.writeFileSync(path.join(ws.root, "a.txt"), "changed\n");
    await cliJson(ws, ["rollback", created.id, "--yes"]);
    const settled = readTree(ws.root);

    const again = await cliJson<RollbackJson>(ws, ["rollback", created.id, "--yes"]);

    expect(again).toMatchObject({ restored: 0, deleted: 0, restoredPaths: [], deletedPaths: [] });
    expect(treeDifferences(settled, readTree(ws.root), { inode: true, mtime: "all" })).toEqual([]);
  });
});
