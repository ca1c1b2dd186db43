import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  assertCliBundleFresh,
  cleanUpAfterEach,
  cliJson,
  journalFiles,
  jsonOf,
  makeWorkspaceDirs,
  readTree,
  runCli,
  treeDifferences,
  type CliResult,
  type TreeState,
  type WorkspaceDirs,
} from "../support/workspace";
import { editEdgeCaseTree, writeEdgeCaseTree } from "../support/fixtures";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import type { HistoryItem } from "../../server/audit/history";
import type { RecoveredRollback } from "../../server/rollback/recover";
import type { ComponentView } from "../../server/registry/components";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

interface Crashed {
  ws: WorkspaceDirs;
  original: TreeState;
  created: CheckpointCreated;
  crashed: CliResult;
}

/** A rollback SIGKILLed at its Nth change of the workspace (test/support/fault-seam.mjs). */
async function crashedRollback(label: string, changes: number): Promise<Crashed> {
  const ws = makeWorkspaceDirs(label, "file");
  writeEdgeCaseTree(ws.root, path.join(ws.base, "outside"));
  await cliJson(ws, ["component", "add", "web", "--root", ws.root, "--meta", "owner=alice"]);
  const original = readTree(ws.root);
  const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
  editEdgeCaseTree(ws.root);
  const crashed = await runCli(ws, ["rollback", created.id, "--yes", "--json"], { fault: { after: changes, under: ws.root } });
  return { ws, original, created, crashed };
}

function expectRollbackThenRecover(items: HistoryItem[], checkpointId: string) {
  // Newest first: the recovery, then the rollback it completed.
  const [recover, rollback] = items.filter((e) => e.kind === "rollback" || e.kind === "recover");
  expect(rollback).toMatchObject({ kind: "rollback", outcome: "failed", checkpointId, error: expect.stringMatching(/^interrupted/) });
  expect(recover).toMatchObject({ kind: "recover", outcome: "succeeded", checkpointId, durationMs: expect.any(Number), files: expect.any(Number) });
}

describe("a rollback killed half-way (SIGKILL)", () => {
  let viaRecover: Crashed;
  let viaNextCommand: Crashed;
  beforeAll(async () => {
    [viaRecover, viaNextCommand] = await Promise.all([crashedRollback("cli-crash-recover", 14), crashedRollback("cli-crash-next", 3)]);
  });

  it("dies leaving its journal in the data dir and a tree that is half old, half new", () => {
    for (const { ws, original, crashed } of [viaRecover, viaNextCommand]) {
      expect(crashed).toMatchObject({ status: null, signal: "SIGKILL", stdout: "" });
      expect(journalFiles(ws.dataDir)).toHaveLength(1);
      expect(treeDifferences(original, readTree(ws.root)).length).toBeGreaterThan(0);
    }
  });

  it("is completed by `safetynet recover`: the tree equals the checkpoint and history shows the rollback and the recovery", async () => {
    const { ws, original, created } = viaRecover;

    const recovered = await cliJson<{ recovered: RecoveredRollback[] }>(ws, ["recover"]);

    expect(recovered.recovered).toEqual([expect.objectContaining({ component: "web", checkpointId: created.id, outcome: "recovered" })]);
    expect(treeDifferences(original, readTree(ws.root), { mtime: "all" })).toEqual([]);
    expect(journalFiles(ws.dataDir)).toEqual([]);
    expectRollbackThenRecover((await cliJson<{ items: HistoryItem[] }>(ws, ["history", "web"])).items, created.id);
    expect((await cliJson<ComponentView>(ws, ["component", "show", "web"])).metadata).toMatchObject({
      owner: "alice",
      status: "rolled-back",
      rolledBack: { rollbackId: recovered.recovered[0]?.rollbackId, checkpointId: created.id, statusBefore: "active" },
    });
    expect(await cliJson<{ recovered: RecoveredRollback[] }>(ws, ["recover"])).toEqual({ recovered: [] });
  });

  it("is completed by whatever command runs next, which says so on stderr and still prints one JSON object", async () => {
    const { ws, original, created } = viaNextCommand;

    const next = await runCli(ws, ["history", "web", "--json"]);

    expect(next.status).toBe(0);
    expect(next.stderr).toMatch(/completed interrupted rollback rb_\w+ of web to /);
    expectRollbackThenRecover(jsonOf<{ items: HistoryItem[] }>(next).items, created.id);
    expect(treeDifferences(original, readTree(ws.root), { mtime: "all" })).toEqual([]);
    expect(journalFiles(ws.dataDir)).toEqual([]);
  });
});
