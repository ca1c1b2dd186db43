/**
 * Crash recovery (invariant 4): every journal left behind by an interrupted
 * rollback is completed by re-applying its plan, which is idempotent. Runs at
 * every CLI and server start and on `safetynet recover`.
 */
import type { Core, Actor } from "../core";
import { dataPaths } from "../core";
import { withComponentLock } from "../locks";
import { recordEvent } from "../audit/history";
import { entriesByPath, readManifest } from "../checkpoints/manifest";
import { checkManifestObjects } from "../checkpoints/verify";
import { IntegrityError } from "../errors";
import { applyRollbackPlan } from "./apply";
import { listJournals, removeJournal, type RollbackJournal } from "./journal";
import { finishRollback } from "./execute";
import { pathsNeedingContent } from "./plan";

export interface RecoveredRollback {
  rollbackId: string;
  component: string;
  checkpointId: string;
  restored: number;
  deleted: number;
  outcome: "recovered" | "failed";
  error?: string;
}

export function hasPendingJournals(core: Core): boolean {
  return listJournals(dataPaths(core.config.dataDir).journal).length > 0;
}

async function recoverOne(core: Core, journal: RollbackJournal, actor: Actor): Promise<RecoveredRollback> {
  const startedAt = core.now();
  const t0 = performance.now();
  const paths = dataPaths(core.config.dataDir);
  try {
    const result = await withComponentLock(paths.locks, { id: journal.componentId, name: journal.componentName }, async () => {
      const manifest = readManifest(core.store, journal.manifestSha256);
      const { problems } = await checkManifestObjects(core, manifest, pathsNeedingContent(journal));
      if (problems.length > 0) {
        throw new IntegrityError(`cannot complete rollback ${journal.rollbackId}: objects damaged: ${problems.map((p) => p.path).join(", ")}`, { problems });
      }
      const applied = await applyRollbackPlan(core.store, journal.root, entriesByPath(manifest.entries), journal);
      const checkpoint = await core.db.checkpoint.findUnique({ where: { id: journal.checkpointId } });
      const rollbackRow = await core.db.rollback.findUnique({ where: { id: journal.rollbackId } });
      if (rollbackRow) {
        await finishRollback(core, { rollbackId: journal.rollbackId, componentId: journal.componentId, componentMeta: checkpoint?.componentMeta ?? {}, outcome: "recovered" }, applied, t0);
      }
      removeJournal(paths.journal, journal.rollbackId);
      return applied;
    });
    await recordEvent(core, {
      kind: "recover",
      component: journal.componentName,
      checkpointId: journal.checkpointId,
      actor,
      outcome: "succeeded",
      startedAt,
      durationMs: performance.now() - t0,
      files: result.restored + result.deleted,
      bytes: result.bytes,
      checksum: journal.manifestSha256,
      details: { rollbackId: journal.rollbackId, safetyCheckpointId: journal.safetyCheckpointId },
    });
    return { rollbackId: journal.rollbackId, component: journal.componentName, checkpointId: journal.checkpointId, restored: result.restored, deleted: result.deleted, outcome: "recovered" };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await recordEvent(core, {
      kind: "recover",
      component: journal.componentName,
      checkpointId: journal.checkpointId,
      actor,
      outcome: "failed",
      startedAt,
      durationMs: performance.now() - t0,
      error: message,
      details: { rollbackId: journal.rollbackId },
    });
    return { rollbackId: journal.rollbackId, component: journal.componentName, checkpointId: journal.checkpointId, restored: 0, deleted: 0, outcome: "failed", error: message };
  }
}

export async function recoverInterruptedRollbacks(core: Core, actor: Actor): Promise<RecoveredRollback[]> {
  const results: RecoveredRollback[] = [];
  for (const journal of listJournals(dataPaths(core.config.dataDir).journal)) results.push(await recoverOne(core, journal, actor));
  return results;
}
