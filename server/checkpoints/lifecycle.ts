/**
 * Pinning and deleting checkpoints. Deletion is confirmed with a token like a
 * rollback; it marks the checkpoint deleted and drops its snapshot record; the
 * objects it alone referenced are collected by the retention sweep.
 */
import type { Core, Actor } from "../core";
import { InvalidInputError } from "../errors";
import { recordEvent } from "../audit/history";
import { callerDetails } from "../audit/attribution";
import { consumeConfirmToken, issueConfirmToken, type IssuedToken } from "../rollback/confirm-token";
import { withComponentMutation } from "../rollback/mutation-barrier";
import { deleteSnapshotRecord, updateSnapshotRecord } from "./snapshot-record";
import { findCheckpointRow, toCheckpointView, type CheckpointView } from "./queries";

export async function pinCheckpoint(core: Core, id: string, pinned: boolean, actor: Actor): Promise<CheckpointView> {
  const startedAt = core.now();
  const existing = await findCheckpointRow(core, id);
  const row = await withComponentMutation(core, existing.component, pinned ? "checkpoint pin" : "checkpoint unpin", actor, async () => {
    const updated = await core.db.checkpoint.update({ where: { id }, data: { pinned }, include: { component: true } });
    // The store's record too: a database rebuilt from the store keeps the pin.
    updateSnapshotRecord(core.store, id, { pinned });
    await core.store.flushRemote();
    return updated;
  });
  await recordEvent(core, { kind: "checkpoint.pin", component: row.component.name, checkpointId: id, actor, outcome: "succeeded", startedAt, durationMs: 0, details: { pinned, ...callerDetails(row.callerMeta) } });
  return toCheckpointView(row, core.store);
}

export interface DeletePlan extends IssuedToken {
  checkpointId: string;
  component: string;
  files: number;
  bytes: number;
}

export async function planCheckpointDelete(core: Core, id: string, actor: Actor): Promise<DeletePlan> {
  const row = await findCheckpointRow(core, id);
  if (row.pinned) throw new InvalidInputError(`checkpoint ${id} is pinned; unpin it before deleting`, { checkpointId: id });
  const token = await issueConfirmToken(core, { purpose: "checkpoint.delete", targetId: id, boundTo: row.manifestSha, actor });
  return { checkpointId: id, component: row.component.name, files: row.files, bytes: Number(row.bytes), ...token };
}

export async function deleteCheckpoint(core: Core, id: string, confirmToken: string, actor: Actor): Promise<{ checkpointId: string; status: "deleted" }> {
  const startedAt = core.now();
  const row = await findCheckpointRow(core, id);
  if (row.pinned) throw new InvalidInputError(`checkpoint ${id} is pinned; unpin it before deleting`, { checkpointId: id });
  await withComponentMutation(core, row.component, "checkpoint delete", actor, async () => {
    await consumeConfirmToken(core, confirmToken, { purpose: "checkpoint.delete", targetId: id, actor });
    await core.db.checkpoint.update({ where: { id }, data: { status: "deleted" } });
    deleteSnapshotRecord(core.store, id);
    await core.store.flushRemote();
  });
  await recordEvent(core, {
    kind: "checkpoint.delete",
    component: row.component.name,
    checkpointId: id,
    actor,
    outcome: "succeeded",
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
    files: row.files,
    bytes: Number(row.bytes),
    checksum: row.manifestSha,
    // The row is swept later: the event keeps what the checkpoint was about.
    details: { reason: row.reason, ...callerDetails(row.callerMeta) },
  });
  return { checkpointId: id, status: "deleted" };
}
