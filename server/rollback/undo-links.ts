/**
 * Which rollbacks undo which. Every rollback first saves the live state as its
 * safety checkpoint; a later rollback whose target is that safety checkpoint puts
 * the workspace back as it was before, i.e. undoes it. Nothing extra is stored:
 * a safety checkpoint names its rollback (callerMeta.rollbackId) and a rollback
 * row names its safety checkpoint, so both directions are derived with two
 * indexed queries per page of rollbacks.
 */
import type { Core } from "../core";

/** The rollback that undid this one (the first that finished rolling back to its safety checkpoint). */
export interface UndoneBy {
  rollbackId: string;
  at: string;
}

export interface UndoLinks {
  /** This rollback went back to another's safety checkpoint: the rollback it undid. */
  undoOf: string | null;
  undoneBy: UndoneBy | null;
}

export interface RollbackRef {
  id: string;
  componentId: string;
  checkpointId: string;
  safetyCheckpointId: string | null;
}

const FINISHED_OK = ["succeeded", "recovered"];

/** The rollback whose safety checkpoint this is, from a checkpoint row's kind and caller metadata. */
export function rollbackOfSafetyCheckpoint(checkpoint: { kind: string; callerMeta: unknown }): string | null {
  if (checkpoint.kind !== "safety" || !checkpoint.callerMeta || typeof checkpoint.callerMeta !== "object") return null;
  const id = (checkpoint.callerMeta as Record<string, unknown>).rollbackId;
  return typeof id === "string" ? id : null;
}

/** Undo links of each rollback, by rollback id. */
export async function undoLinksOf(core: Core, rollbacks: readonly RollbackRef[]): Promise<Map<string, UndoLinks>> {
  const links = new Map<string, UndoLinks>(rollbacks.map((r) => [r.id, { undoOf: null, undoneBy: null }]));
  if (rollbacks.length === 0) return links;
  const safetyIds = rollbacks.flatMap((r) => (r.safetyCheckpointId ? [r.safetyCheckpointId] : []));
  const [targets, undos] = await Promise.all([
    core.db.checkpoint.findMany({ where: { id: { in: [...new Set(rollbacks.map((r) => r.checkpointId))] }, kind: "safety" }, select: { id: true, kind: true, callerMeta: true } }),
    safetyIds.length === 0
      ? Promise.resolve([])
      : core.db.rollback.findMany({
          where: { componentId: { in: [...new Set(rollbacks.map((r) => r.componentId))] }, checkpointId: { in: safetyIds }, outcome: { in: FINISHED_OK } },
          select: { id: true, checkpointId: true, startedAt: true },
          orderBy: [{ startedAt: "asc" }, { id: "asc" }],
        }),
  ]);
  const undoneRollbackByTarget = new Map(targets.map((t) => [t.id, rollbackOfSafetyCheckpoint(t)]));
  const firstUndoBySafety = new Map<string, UndoneBy>();
  for (const undo of undos) {
    if (!firstUndoBySafety.has(undo.checkpointId)) firstUndoBySafety.set(undo.checkpointId, { rollbackId: undo.id, at: undo.startedAt.toISOString() });
  }
  for (const r of rollbacks) {
    links.set(r.id, {
      undoOf: undoneRollbackByTarget.get(r.checkpointId) ?? null,
      undoneBy: r.safetyCheckpointId ? (firstUndoBySafety.get(r.safetyCheckpointId) ?? null) : null,
    });
  }
  return links;
}
