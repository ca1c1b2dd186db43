/**
 * Crash recovery (invariant 4): every journal left behind by an interrupted
 * rollback is completed by re-applying its plan, which is idempotent. Runs at
 * every CLI and server start and on `safetynet recover`.
 */
import { existsSync } from "node:fs";
import type { Core, Actor } from "../core";
import { dataPaths } from "../core";
import { LOCK_TAKEOVER_WAIT_MS, withComponentLock } from "../locks";
import { recordEvent } from "../audit/history";
import { entriesByPath, readManifest } from "../checkpoints/manifest";
import { checkManifestObjects } from "../checkpoints/verify";
import { IntegrityError } from "../errors";
import { applyRollbackPlan } from "./apply";
import { journalOwnerAlive, journalPath, listJournals, removeJournal, type RollbackJournal } from "./journal";
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

export const INTERRUPTED_ERROR = "interrupted: the process ended before the rollback finished; its journal was kept for recovery";

/**
 * A rollback whose process died (SIGKILL, power loss) never recorded its end: its row
 * still says "running" and history has no event for it. Record it as failed, once,
 * so history shows the interrupted rollback before the recovery that completes it.
 * (A rollback that failed in-process already did both, with its own error.)
 */
async function recordInterruption(core: Core, journal: RollbackJournal): Promise<void> {
  const row = await core.db.rollback.findUnique({ where: { id: journal.rollbackId } });
  if (row?.outcome !== "running") return;
  await core.db.rollback.update({ where: { id: journal.rollbackId }, data: { outcome: "failed", error: INTERRUPTED_ERROR } });
  await recordEvent(core, {
    kind: "rollback",
    component: journal.componentName,
    checkpointId: journal.checkpointId,
    actor: journal.actor,
    outcome: "failed",
    startedAt: new Date(journal.startedAt),
    // How long it ran before it died is unknown.
    durationMs: 0,
    checksum: journal.manifestSha256,
    error: INTERRUPTED_ERROR,
    details: { rollbackId: journal.rollbackId, safetyCheckpointId: journal.safetyCheckpointId, errorCode: "FAILED", journalKept: true, interrupted: true },
  });
}

/** Completes one interrupted rollback; null when its own process finished it while we waited for the lock. */
async function recoverOne(core: Core, journal: RollbackJournal, actor: Actor): Promise<RecoveredRollback | null> {
  const startedAt = core.now();
  const t0 = performance.now();
  const paths = dataPaths(core.config.dataDir);
  try {
    // A journal's component lock may still be held: by the rollback itself, still running in another
    // process, or by a process that crashed, whose lock only goes stale after a few seconds. Wait for it.
    const lockOptions = { waitMs: LOCK_TAKEOVER_WAIT_MS };
    const result = await withComponentLock(paths.locks, { id: journal.componentId, name: journal.componentName }, async () => {
      if (!existsSync(journalPath(paths.journal, journal.rollbackId))) return null;
      await recordInterruption(core, journal);
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
    }, lockOptions);
    if (result === null) return null;
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

export interface RecoverOptions {
  /**
   * Start-up mode: skip journals whose rollback is still running in a live process
   * (a read-only command must not wait for someone else's rollback). `safetynet recover`
   * waits for them instead.
   */
  skipLiveOwners?: boolean;
}

export async function recoverInterruptedRollbacks(core: Core, actor: Actor, options: RecoverOptions = {}): Promise<RecoveredRollback[]> {
  const results: RecoveredRollback[] = [];
  for (const journal of listJournals(dataPaths(core.config.dataDir).journal)) {
    if (options.skipLiveOwners && journalOwnerAlive(journal)) continue;
    const recovered = await recoverOne(core, journal, actor);
    if (recovered) results.push(recovered);
  }
  return results;
}
