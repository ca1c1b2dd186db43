import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  addComponent,
  assertCliBundleFresh,
  cleanUpAfterEach,
  corruptObject,
  journalFiles,
  openWorkspace,
  readTree,
  runCli,
  TEST_ACTOR,
  treeDifferences,
  type Workspace,
} from "../../test/support/workspace";
import { editEdgeCaseTree, writeEdgeCaseTree } from "../../test/support/fixtures";
import { createCheckpoint } from "../checkpoints/create";
import { readManifest } from "../checkpoints/manifest";
import { listHistory } from "../audit/history";
import { getComponent } from "../registry/components";
import { lockComponent } from "../locks";
import { computePlanForCheckpoint } from "./preview";
import { hasPendingJournals, RECOVER_WAIT_MS, recoverInterruptedRollbacks } from "./recover";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

/** A component with every kind of entry, checkpointed, then edited by an agent. */
async function editedComponent(ws: Workspace) {
  writeEdgeCaseTree(ws.root, path.join(ws.base, "outside"));
  const component = await addComponent(ws, { metadata: { owner: "alice" } });
  const original = readTree(ws.root);
  const checkpoint = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
  editEdgeCaseTree(ws.root);
  const plan = await computePlanForCheckpoint(ws.core, checkpoint.id);
  return { component, original, checkpoint, writes: plan.restore.length + plan.delete.length };
}

/** `safetynet rollback --yes`, SIGKILLed (test/support/fault-seam.mjs) at its Nth file-system change inside the workspace. */
async function crashAfter(ws: Workspace, checkpointId: string, changes: number): Promise<void> {
  const result = await runCli(ws, ["rollback", checkpointId, "--yes"], { fault: { after: changes, under: ws.root } });
  expect(result.signal, `${result.stdout}\n${result.stderr}`).toBe("SIGKILL");
}

describe("recovery of an interrupted rollback", () => {
  it.each([
    ["its first change", 1],
    ["its 12th change", 12],
    ["its 30th change", 30],
  ])("completes a rollback that crashed at %s of the workspace, from its journal alone", async (_label, at) => {
    const ws = openWorkspace();
    const { original, checkpoint, writes } = await editedComponent(ws);
    expect(writes).toBeGreaterThan(10);

    await crashAfter(ws, checkpoint.id, at);

    expect(journalFiles(ws.dataDir)).toHaveLength(1);
    expect(hasPendingJournals(ws.core)).toBe(true);
    // Half old, half new (after the last write, the folders' mtimes are still the agent's).
    expect(treeDifferences(original, readTree(ws.root), { mtime: "all" }).length).toBeGreaterThan(0);

    const recovered = await recoverInterruptedRollbacks(ws.core, TEST_ACTOR);

    expect(recovered).toEqual([expect.objectContaining({ component: "app", checkpointId: checkpoint.id, outcome: "recovered" })]);
    expect(treeDifferences(original, readTree(ws.root), { mtime: "all" })).toEqual([]);
    expect(journalFiles(ws.dataDir)).toEqual([]);
    const rollbackRow = await ws.core.db.rollback.findUniqueOrThrow({ where: { id: recovered[0]?.rollbackId } });
    expect(rollbackRow.outcome).toBe("recovered");
    expect((await getComponent(ws.core, "app")).metadata).toEqual({
      owner: "alice",
      status: "rolled-back",
      rolledBack: { rollbackId: rollbackRow.id, checkpointId: checkpoint.id, at: expect.any(String), statusBefore: "active" },
    });
  });

  it("records the interrupted rollback as failed with its journal kept, and the recovery as succeeded", async () => {
    const ws = openWorkspace();
    const { checkpoint } = await editedComponent(ws);
    await crashAfter(ws, checkpoint.id, 3);

    await recoverInterruptedRollbacks(ws.core, "system");

    const history = (await listHistory(ws.core, {})).items;
    const rollback = history.find((e) => e.kind === "rollback");
    const recover = history.find((e) => e.kind === "recover");
    expect(rollback).toMatchObject({ outcome: "failed", checkpointId: checkpoint.id, details: expect.objectContaining({ journalKept: true }) });
    expect(rollback?.error).toMatch(/^interrupted/);
    expect(recover).toMatchObject({ outcome: "succeeded", checkpointId: checkpoint.id, actor: "system", checksum: checkpoint.manifestSha256 });
  });

  it("has nothing to do the second time", async () => {
    const ws = openWorkspace();
    const { checkpoint } = await editedComponent(ws);
    await crashAfter(ws, checkpoint.id, 2);
    await recoverInterruptedRollbacks(ws.core, TEST_ACTOR);
    const settled = readTree(ws.root);

    expect(await recoverInterruptedRollbacks(ws.core, TEST_ACTOR)).toEqual([]);
    expect(treeDifferences(settled, readTree(ws.root), { inode: true, mtime: "all" })).toEqual([]);
  });

  it("keeps the journal and names the file when an object the rest of the rollback needs is now corrupt", async () => {
    const ws = openWorkspace();
    const { checkpoint } = await editedComponent(ws);
    await crashAfter(ws, checkpoint.id, 1);
    const entry = readManifest(ws.core.store, checkpoint.manifestSha256).entries.find((e) => e.path === "bin/blob.bin");
    await corruptObject(ws.dataDir, entry?.sha256 as string);
    const before = readTree(ws.root);

    const [result] = await recoverInterruptedRollbacks(ws.core, TEST_ACTOR);

    expect(result).toMatchObject({ outcome: "failed" });
    expect(result?.error).toMatch(/bin\/blob\.bin/);
    expect(journalFiles(ws.dataDir)).toHaveLength(1);
    expect(treeDifferences(before, readTree(ws.root), { inode: true, mtime: "all" })).toEqual([]);
    expect((await listHistory(ws.core, { kind: "recover" })).items[0]).toMatchObject({ outcome: "failed" });
  });

  it("never deletes through a symlink that the interrupted rollback had already put back (nothing outside the root is touched)", async () => {
    const ws = openWorkspace();
    const outside = path.join(ws.base, "outside");
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, "x.txt"), "outside the root\n");
    fs.symlinkSync(outside, path.join(ws.root, "shared"));
    fs.writeFileSync(path.join(ws.root, "a.txt"), "a\n");
    await addComponent(ws);
    const original = readTree(ws.root);
    const checkpoint = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    // The agent replaces the link by a real folder holding a file of the same name as the one outside.
    fs.rmSync(path.join(ws.root, "shared"));
    fs.mkdirSync(path.join(ws.root, "shared"));
    fs.writeFileSync(path.join(ws.root, "shared", "x.txt"), "the agent's file\n");
    const plan = await computePlanForCheckpoint(ws.core, checkpoint.id);
    expect(plan.delete.map((d) => d.path)).toEqual(["shared/x.txt"]);

    // Crash once the link is back (unlink x.txt, rmdir shared, symlink, rename; killed at the lutimes that follows):
    // recovery replays the deletion of shared/x.txt, which is now behind the link.
    await crashAfter(ws, checkpoint.id, 5);
    expect(fs.lstatSync(path.join(ws.root, "shared")).isSymbolicLink()).toBe(true);
    const [result] = await recoverInterruptedRollbacks(ws.core, TEST_ACTOR);

    expect(fs.readFileSync(path.join(outside, "x.txt"), "utf8")).toBe("outside the root\n");
    expect(result).toMatchObject({ outcome: "recovered" });
    expect(treeDifferences(original, readTree(ws.root))).toEqual([]);
  });

  it("waits for the component lock, and does not re-apply a rollback that its own process finished meanwhile", async () => {
    const ws = openWorkspace();
    const { component, checkpoint } = await editedComponent(ws);
    await crashAfter(ws, checkpoint.id, 2);
    // The rollback's own process still holds the component.
    const release = await lockComponent(ws.core.locks, component, "rollback");

    const recovering = recoverInterruptedRollbacks(ws.core, TEST_ACTOR, { waitMs: RECOVER_WAIT_MS });
    // It finishes, removes its journal, releases the lock; then somebody edits a file the plan restores.
    for (const name of journalFiles(ws.dataDir)) fs.rmSync(path.join(ws.dataDir, "journal", name));
    fs.writeFileSync(path.join(ws.root, "empty.txt"), "edited after the rollback finished\n");
    await release();

    expect(await recovering).toEqual([]);
    expect(fs.readFileSync(path.join(ws.root, "empty.txt"), "utf8")).toBe("edited after the rollback finished\n");
    expect((await listHistory(ws.core, { kind: "recover" })).items).toEqual([]);
  });
});
