/** The last database step of a rollback (in its own process or completed by recovery). */
import type { Core } from "../core";
import { setComponentMetadata } from "../registry/components";
import { markRolledBack } from "../registry/component-status";

export { ROLLED_BACK_STATUS } from "../registry/component-status";

/** Marks the rollback done and puts back the component's metadata document, its status set by this rollback. */
export async function finishRollback(
  core: Core,
  done: { rollbackId: string; checkpointId: string; componentId: string; componentMeta: unknown; outcome: "succeeded" | "recovered" },
  applied: { restored: number; deleted: number; bytes: number },
  t0: number,
): Promise<void> {
  const metadata = markRolledBack((done.componentMeta as Record<string, unknown> | null) ?? {}, {
    rollbackId: done.rollbackId,
    checkpointId: done.checkpointId,
    at: core.now().toISOString(),
  });
  await setComponentMetadata(core, done.componentId, metadata);
  await core.db.rollback.update({
    where: { id: done.rollbackId },
    data: { outcome: done.outcome, restored: applied.restored, deleted: applied.deleted, bytes: BigInt(applied.bytes), durationMs: Math.round(performance.now() - t0) },
  });
}
