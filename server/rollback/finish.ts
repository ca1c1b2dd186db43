/** The last database step of a rollback (in its own process or completed by recovery). */
import type { Core } from "../core";
import { prepareEvent, type AuditRecord } from "../audit/history";
import { clearRolledBack, markRolledBack } from "../registry/component-status";

export { ROLLED_BACK_STATUS } from "../registry/component-status";

/**
 * Marks the rollback done, puts back the component's metadata document with its
 * status set by this rollback (which one, to which checkpoint, when), and writes
 * its history row: one transaction, so a rollback is never recorded as done
 * without its history (or the other way round).
 */
export async function finishRollback(
  core: Core,
  done: {
    /** The rollback row to mark done; null when it was never written (recovery of a crash before it). */
    rollbackId: string | null;
    /** The rollback and its target, recorded in the metadata document's `rolledBack`. */
    mark: { rollbackId: string; checkpointId: string };
    /** The rollback this one undoes (its target is that rollback's safety checkpoint): the document goes back unmarked. */
    undoOf?: string | null;
    componentId: string;
    componentMeta: unknown;
    outcome: "succeeded" | "recovered";
    /**
     * A rollback of these paths only: the component's metadata document is no path,
     * so it stays as it is (neither put back nor marked rolled back).
     */
    restrictedTo?: readonly string[];
  },
  applied: { restored: number; deleted: number; bytes: number },
  t0: number,
  history: AuditRecord,
): Promise<void> {
  const saved = (done.componentMeta as Record<string, unknown> | null) ?? {};
  // An undo puts the component back as it was before the rollback it undoes, so it is not "rolled-back" by it.
  const metadata = done.undoOf ? (clearRolledBack(saved) ?? saved) : markRolledBack(saved, { ...done.mark, at: core.now().toISOString() });
  const event = prepareEvent(core, history);
  await core.db.$transaction([
    ...(done.restrictedTo ? [] : [core.db.component.update({ where: { id: done.componentId }, data: { metadata: metadata as object } })]),
    ...(done.rollbackId
      ? [
          core.db.rollback.update({
            where: { id: done.rollbackId },
            data: { outcome: done.outcome, restored: applied.restored, deleted: applied.deleted, bytes: BigInt(applied.bytes), durationMs: Math.round(performance.now() - t0) },
          }),
        ]
      : []),
    event.write,
  ]);
  event.announce();
}
