/**
 * Crash recovery: every journal left behind by an interrupted rollback is
 * completed by re-applying its plan, which is idempotent: its databases replaced
 * again first when it stopped in that phase, then its files; a rollback whose
 * database part had failed is finished the other way, by putting back the
 * databases it had replaced (journal.ts describes the phases). Runs at every CLI and
 * server start, on `safetynet recover`, and, under the component's lock, before
 * any other mutation of a component that has a journal (mutation-barrier.ts).
 *
 * Also reconciles rollback rows left "running" by a process that died before it
 * wrote its journal: nothing in the workspace had changed yet, so they are
 * recorded as failed (they would otherwise pin their checkpoints forever).
 */
import { existsSync } from "node:fs";
import type { Core, Actor } from "../core";
import { dataPaths } from "../core";
import { isComponentLocked, withComponentLock } from "../locks";
import { recordEvent } from "../audit/history";
import { entriesByPath, readManifest } from "../checkpoints/manifest";
import { openManifest } from "../checkpoints/tree-read";
import { checkManifestObjects } from "../checkpoints/verify";
import { asSafetyNetError, ConflictError, IntegrityError, SafetyNetError } from "../errors";
import { toComponentView } from "../registry/components";
import { commitCheckpoint } from "../checkpoints/commit";
import type { Manifest } from "../checkpoints/manifest-types";
import { planAgainstWorkspace } from "./preview";
import { restrictedScope } from "./path-restriction";
import { assertRollbackFits } from "./space";
import { assertRootIntact } from "../registry/roots";
import { applyRollbackPlan, removeTempSiblings } from "./apply";
import { journalPath, listJournals, removeJournal, type RollbackJournal } from "./journal";
import { restoreJournalDatabases, undoDatabases } from "./databases";
import { assertSnapshotsIntact } from "../dbstate/databases";
import { finishRollback } from "./finish";
import { rollbackOfSafetyCheckpoint } from "./undo-links";
import { pathsNeedingContent, type RollbackPlanBody } from "./plan";
import { pendingReport, RollbackTracker, type PendingReport } from "./stopped";
import { recordText } from "../byte-paths";
import { moveObstaclesAside, movedObstaclesDetails } from "./quarantine";
import { ensureManifestLocal } from "../checkpoints/tree-fetch";
import { metadataStore } from "../db";
import { isInside } from "../scan/paths";

export interface RecoveredRollback extends Partial<Omit<PendingReport, "error">> {
  rollbackId: string;
  component: string;
  checkpointId: string;
  restored: number;
  deleted: number;
  /** The rollback's databases failed: the journal was completed by putting back those already replaced (the component is as before the rollback). */
  undone?: boolean;
  /**
   * recovered: completed now; failed: could not be completed (error says why, and the
   * PendingReport fields that the rollback is still pending); in-progress: its own process is still running it.
   */
  outcome: "recovered" | "failed" | "in-progress";
  error?: string;
}

export function hasPendingJournals(core: Core): boolean {
  return listJournals(dataPaths(core.config.dataDir).journal).length > 0;
}

export const INTERRUPTED_ERROR = "interrupted: the process ended before the rollback finished; its journal was kept for recovery";
export const INTERRUPTED_BEFORE_CHANGES_ERROR = "interrupted: the process ended before the rollback changed anything (no journal was written); the workspace was left as it was";

/**
 * A rollback whose process died (SIGKILL, power loss) never recorded its end: its row
 * still says "running" and history has no event for it. Record it as failed, once,
 * so history shows the interrupted rollback before the recovery that completes it.
 * (A rollback that failed in-process already did both, with its own error.)
 */
async function recordInterruption(core: Core, journal: { rollbackId: string; componentName: string; checkpointId: string; actor: string; startedAt: string; manifestSha256: string; safetyCheckpointId: string | null }, error: string): Promise<void> {
  const row = await core.db.rollback.findUnique({ where: { id: journal.rollbackId } });
  if (row?.outcome !== "running") return;
  const updated = await core.db.rollback.updateMany({ where: { id: journal.rollbackId, outcome: "running" }, data: { outcome: "failed", error: recordText(error) } });
  if (updated.count !== 1) return;
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
    error,
    details: { rollbackId: journal.rollbackId, safetyCheckpointId: journal.safetyCheckpointId, errorCode: "FAILED", journalKept: error === INTERRUPTED_ERROR, interrupted: true, failure: "ran" },
  });
}

/**
 * Completes one interrupted rollback. The caller holds the component's lock.
 * Returns null when the journal is gone (its own process finished it meanwhile).
 */
export async function completeJournal(core: Core, journal: RollbackJournal, actor: Actor): Promise<RecoveredRollback | null> {
  const startedAt = core.now();
  const t0 = performance.now();
  const paths = dataPaths(core.config.dataDir);
  if (!existsSync(journalPath(paths.journal, journal.rollbackId))) return null;
  let tracker: RollbackTracker | null = null;
  const done = await core.db.rollback.findUnique({ where: { id: journal.rollbackId }, select: { outcome: true } });
  if (done && (done.outcome === "succeeded" || done.outcome === "recovered")) {
    // It finished (recorded in the same transaction as its history row) and died before removing its journal:
    // applying the plan again would overwrite whatever changed since. Nothing to do but forget the journal.
    removeJournal(paths.journal, journal.rollbackId);
    return null;
  }
  try {
    await recordInterruption(core, journal, INTERRUPTED_ERROR);
    assertRootIntact({ name: journal.componentName, root: journal.root });
    const owner = { name: journal.componentName, root: journal.root };
    if (journal.phase === "undo") {
      const undoing = (journal.databases ?? []).slice(0, journal.databasesRestored ?? 0);
      await assertSnapshotsIntact(core, undoing.map((d) => d.safety), "completing the undo of rollback " + journal.rollbackId);
      await undoDatabases(core, journal, owner);
      await recordEvent(core, {
        kind: "recover",
        component: journal.componentName,
        checkpointId: journal.checkpointId,
        actor,
        outcome: "succeeded",
        startedAt,
        durationMs: performance.now() - t0,
        checksum: journal.manifestSha256,
        details: { rollbackId: journal.rollbackId, safetyCheckpointId: journal.safetyCheckpointId, undone: true, databases: undoing.map((d) => d.safety.target), failure: journal.failure ?? null },
      });
      return { rollbackId: journal.rollbackId, component: journal.componentName, checkpointId: journal.checkpointId, restored: 0, deleted: 0, outcome: "recovered", undone: true };
    }
    if (journal.phase === "databases") {
      await assertSnapshotsIntact(core, (journal.databases ?? []).map((d) => d.restore), "completing rollback " + journal.rollbackId);
      // Replaced again from the first (each replacement is whole and atomic); a failure undoes them and leaves the files alone.
      await restoreJournalDatabases(core, journal, owner);
    }
    await ensureManifestLocal(core.store, journal.manifestSha256);
    const manifest = readManifest(core.store, journal.manifestSha256);
    const applyOptions = { tempTag: journal.rollbackId };
    removeTempSiblings(journal.root, journal, applyOptions);
    const plan = await planCompletion(core, journal, manifest, actor, startedAt, t0);
    const { problems } = await checkManifestObjects(core, manifest, pathsNeedingContent(plan));
    if (problems.length > 0) {
      throw new IntegrityError(`cannot complete rollback ${journal.rollbackId}: objects damaged: ${problems.map((p) => p.path).join(", ")}`, { problems });
    }
    const steps = new RollbackTracker(journal.root, plan);
    tracker = steps;
    steps.filesStarting();
    const movedObstacles = await moveObstaclesAside(journal.root, core.config.dataDir, journal.rollbackId, plan.obstaclesToMove ?? []);
    const applied = await applyRollbackPlan(core.store, journal.root, entriesByPath(manifest.entries), plan, {
      ...applyOptions,
      settleFoldersOf: [...journal.restore, ...journal.delete],
      onProgress: steps.onProgress,
    });
    steps.filesDone();
    const checkpoint = await core.db.checkpoint.findUnique({ where: { id: journal.checkpointId } });
    const rollbackRow = await core.db.rollback.findUnique({ where: { id: journal.rollbackId } });
    await finishRollback(
      core,
      {
        rollbackId: rollbackRow ? journal.rollbackId : null,
        mark: { rollbackId: journal.rollbackId, checkpointId: journal.checkpointId },
        undoOf: checkpoint ? rollbackOfSafetyCheckpoint(checkpoint) : null,
        componentId: journal.componentId,
        componentMeta: checkpoint?.componentMeta ?? {},
        outcome: "recovered",
        restrictedTo: journal.paths,
      },
      applied,
      t0,
      {
        kind: "recover",
        component: journal.componentName,
        checkpointId: journal.checkpointId,
        actor,
        outcome: "succeeded",
        startedAt,
        durationMs: performance.now() - t0,
        files: applied.restored + applied.deleted,
        bytes: applied.bytes,
        checksum: journal.manifestSha256,
        details: {
          rollbackId: journal.rollbackId,
          safetyCheckpointId: journal.safetyCheckpointId,
          ...(journal.databases?.length ? { databases: journal.databases.map((d) => d.restore.target) } : {}),
          ...movedObstaclesDetails(movedObstacles),
        },
      },
    );
    removeJournal(paths.journal, journal.rollbackId);
    return { rollbackId: journal.rollbackId, component: journal.componentName, checkpointId: journal.checkpointId, restored: applied.restored, deleted: applied.deleted, outcome: "recovered" };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof SafetyNetError && error.details.undone) {
      // Its databases could not be replaced: they were put back instead, and the journal is gone. Resolved, as a failure of the rollback.
      await recordEvent(core, {
        kind: "recover",
        component: journal.componentName,
        checkpointId: journal.checkpointId,
        actor,
        outcome: "succeeded",
        startedAt,
        durationMs: performance.now() - t0,
        checksum: journal.manifestSha256,
        error: message,
        details: { rollbackId: journal.rollbackId, safetyCheckpointId: journal.safetyCheckpointId, undone: true },
      }).catch(() => undefined);
      return { rollbackId: journal.rollbackId, component: journal.componentName, checkpointId: journal.checkpointId, restored: 0, deleted: 0, outcome: "recovered", undone: true, error: message };
    }
    // Still pending: say so, how far it got and what completes it (never a cause's "nothing was changed").
    const pending = pendingReport(error, journal, journalPath(paths.journal, journal.rollbackId), tracker);
    await recordEvent(core, {
      kind: "recover",
      component: journal.componentName,
      checkpointId: journal.checkpointId,
      actor,
      outcome: "failed",
      startedAt,
      durationMs: performance.now() - t0,
      error: pending.message,
      details: {
        rollbackId: journal.rollbackId,
        errorCode: asSafetyNetError(error)?.code ?? "FAILED",
        pending: true,
        partlyApplied: pending.partlyApplied,
        journal: pending.journal,
        failedAt: pending.failedAt,
      },
    }).catch(() => undefined);
    return { rollbackId: journal.rollbackId, component: journal.componentName, checkpointId: journal.checkpointId, restored: 0, deleted: 0, outcome: "failed", ...pending };
  }
}

/**
 * What completing the rollback takes now. The workspace is planned against again
 * rather than the journal's plan replayed: after a crash, anything may have been
 * changed before this runs (a folder turned into a file, a file into a link), and
 * the journal's plan would then stop half-way. What the workspace holds is stored
 * first, as a safety checkpoint of its own, so nothing changed since is lost.
 * (A component removed since has no rules to plan with: its journal's plan is replayed.)
 */
async function planCompletion(core: Core, journal: RollbackJournal, manifest: Manifest, actor: Actor, startedAt: Date, t0: number): Promise<Pick<RollbackPlanBody, "restore" | "delete" | "obstaclesToMove">> {
  const row = await core.db.component.findUnique({ where: { id: journal.componentId } });
  if (!row) return journal;
  const component = toComponentView(row);
  if (component.root !== journal.root) {
    throw new ConflictError(`component "${component.name}" was moved from ${journal.root} to ${component.root} since rollback ${journal.rollbackId} was interrupted; put it back to complete the rollback`, {
      rollbackId: journal.rollbackId,
    });
  }
  // A rollback of some paths is completed over those paths only (they were checked when it started).
  const restriction = journal.paths ? { paths: journal.paths, asked: [] } : null;
  await ensureManifestLocal(core.store, journal.manifestSha256);
  const { state, plan } = await planAgainstWorkspace(core, component, openManifest(core.store, journal.manifestSha256), {
    storeObjects: true,
    whole: true,
    moveObstacles: journal.moveObstacles,
    restriction,
  });
  if (plan.restore.length + plan.delete.length > 0) {
    assertRollbackFits(component.root, plan, state.changedLive);
    await commitCheckpoint(core, {
      component,
      scope: journal.paths ? restrictedScope(journal.paths) : manifest.scope,
      live: state.live,
      kind: "safety",
      primaries: journal.paths ?? (manifest.scope.kind === "paths" ? manifest.scope.paths : []),
      reason: `state found when completing interrupted rollback ${journal.rollbackId} to ${journal.checkpointId}`,
      callerMeta: { rollbackId: journal.rollbackId, targetCheckpointId: journal.checkpointId, recovery: true },
      git: null,
      actor,
      startedAt,
      startedAtMs: t0,
    });
  }
  return plan;
}

export interface RecoverOptions {
  /**
   * How long to wait for a journal's component while another process holds it
   * (its own rollback still running). Start-up passes 0: a command must not wait
   * for someone else's rollback; `safetynet recover` waits a while.
   */
  waitMs?: number;
}

/** How long `safetynet recover` waits for a rollback still running in another process. */
export const RECOVER_WAIT_MS = 60_000;

export async function recoverInterruptedRollbacks(core: Core, actor: Actor, options: RecoverOptions = {}): Promise<RecoveredRollback[]> {
  const results: RecoveredRollback[] = [];
  for (const journal of listJournals(dataPaths(core.config.dataDir).journal)) {
    const component = { id: journal.componentId, name: journal.componentName };
    try {
      const result = await withComponentLock(core.locks, component, "recover", () => completeJournal(core, journal, actor), { waitMs: options.waitMs ?? 0 });
      if (result) results.push(result);
    } catch (error) {
      if (!(error instanceof SafetyNetError && error.code === "CONFLICT")) throw error;
      results.push({ rollbackId: journal.rollbackId, component: journal.componentName, checkpointId: journal.checkpointId, restored: 0, deleted: 0, outcome: "in-progress", error: error.message });
    }
  }
  await reconcileOrphanedRollbacks(core);
  return results;
}

/**
 * Rollback rows still "running" with no journal and no live holder of their
 * component's lock: their process died before it wrote the journal, so the
 * workspace was never touched. Recorded as failed, with a history event.
 */
export async function reconcileOrphanedRollbacks(core: Core): Promise<number> {
  const found = await core.db.rollback.findMany({ where: { outcome: "running" }, include: { component: { select: { name: true, root: true } } } });
  // With metadata shared by instances on several hosts, a rollback running on another
  // host keeps its journal in that host's data directory: only the instances that
  // reach a component's root may judge its rollbacks orphaned.
  const shared = metadataStore(core.config.dataDir)?.kind === "postgres";
  const running = shared ? found.filter((row) => core.config.allowedRoots.some((allowed) => isInside(allowed, row.component.root))) : found;
  if (running.length === 0) return 0;
  const paths = dataPaths(core.config.dataDir);
  let reconciled = 0;
  for (const row of running) {
    if (existsSync(journalPath(paths.journal, row.id))) continue;
    if (await isComponentLocked(core.locks, row.componentId)) continue;
    const checkpoint = await core.db.checkpoint.findUnique({ where: { id: row.checkpointId }, select: { manifestSha: true } });
    const orphan = {
      rollbackId: row.id,
      componentName: row.component.name,
      checkpointId: row.checkpointId,
      actor: row.actor,
      startedAt: row.startedAt.toISOString(),
      manifestSha256: checkpoint?.manifestSha ?? "",
      safetyCheckpointId: row.safetyCheckpointId,
    };
    await withComponentLock(core.locks, { id: row.componentId, name: row.component.name }, "recover", async () => {
      // Re-checked under the lock: a rollback that started meanwhile writes its journal before it lets go.
      if (existsSync(journalPath(paths.journal, row.id))) return;
      await recordInterruption(core, orphan, INTERRUPTED_BEFORE_CHANGES_ERROR);
      reconciled++;
    }).catch((error: unknown) => {
      if (!(error instanceof SafetyNetError && error.code === "CONFLICT")) throw error;
    });
  }
  return reconciled;
}

/**
 * What every CLI command and the server do when they start: complete interrupted
 * rollbacks whose component nobody holds (never waiting for someone else's
 * rollback) and reconcile orphaned "running" rows.
 */
export async function recoverAtStartup(core: Core, actor: Actor): Promise<RecoveredRollback[]> {
  if (hasPendingJournals(core)) return recoverInterruptedRollbacks(core, actor, { waitMs: 0 });
  await reconcileOrphanedRollbacks(core);
  return [];
}
