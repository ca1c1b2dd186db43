/** The last database step of a rollback (in its own process or completed by recovery). */
import type { Core } from "../core";
import { setComponentMetadata } from "../registry/components";

export const ROLLED_BACK_STATUS = "rolled-back";

/** Marks the rollback done and puts back the component's metadata document with its status set. */
export async function finishRollback(
  core: Core,
  done: { rollbackId: string; componentId: string; componentMeta: unknown; outcome: "succeeded" | "recovered" },
  applied: { restored: number; deleted: number; bytes: number },
  t0: number,
): Promise<void> {
  const metadata = { ...((done.componentMeta as Record<string, unknown> | null) ?? {}), status: ROLLED_BACK_STATUS };
  await setComponentMetadata(core, done.componentId, metadata);
  await core.db.rollback.update({
    where: { id: done.rollbackId },
    data: { outcome: done.outcome, restored: applied.restored, deleted: applied.deleted, bytes: BigInt(applied.bytes), durationMs: Math.round(performance.now() - t0) },
  });
}
