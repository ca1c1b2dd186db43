/**
 * Rollback execution. Under the component's lock (after completing any journal
 * the component still has): capture the live state, storing it (the safety
 * checkpoint, with a snapshot of each database the checkpoint holds), plan
 * against the target with the same function a confirmed plan used, re-hash
 * every object the plan needs, check the databases can be written, write the
 * journal, replace the databases (databases.ts: a failure puts back those already
 * replaced and leaves the files untouched), apply the files, restore the
 * component metadata, remove the journal, record history.
 */
import { hostname } from "node:os";
import type { Core, Actor } from "../core";
import { dataPaths } from "../core";
import { asSafetyNetError, InvalidInputError, SafetyNetError } from "../errors";
import { newId } from "../ids";
import { recordEvent } from "../audit/history";
import { callerDetails } from "../audit/attribution";
import { toComponentView } from "../registry/components";
import { assertComponentRootUsable, assertRootIntact } from "../registry/roots";
import { commitCheckpoint } from "../checkpoints/commit";
import { openCheckpointManifest } from "../checkpoints/integrity-record";
import { findCheckpointRow, type CheckpointRow } from "../checkpoints/queries";
import { applyRollbackPlan, type ApplyOptions } from "./apply";
import { assertNeededObjectsIntact } from "./object-check";
import { planHash, type DeleteItem, type RestoreItem } from "./plan";
import { pathRestrictionOf, planAgainstWorkspace } from "./preview";
import { describePaths, restrictedScope } from "./path-restriction";
import { journalPath, writeJournal, removeJournal, type RollbackJournal } from "./journal";
import { restoreJournalDatabases } from "./databases";
import { assertDatabasesRestorable, assertSnapshotsIntact, describeSnapshots, snapshotDatabases } from "../dbstate/databases";
import type { DatabaseSnapshot } from "../dbstate/snapshot-types";
import { assertRollbackFits } from "./space";
import { consumeConfirmToken, type ConsumedToken } from "./confirm-token";
import { finishRollback } from "./finish";
import { withComponentMutation } from "./mutation-barrier";
import { RollbackTracker, rollbackStoppedError, type StopRecord } from "./stopped";
import type { RollbackExecuteInput } from "../schemas";
import { recordText } from "../byte-paths";
import { moveObstaclesAside, movedObstaclesDetails, type MovedObstacle } from "./quarantine";
import { classifyRollbackFailure } from "../audit/rollback-failure";
import { rollbackOfSafetyCheckpoint } from "./undo-links";

export { ROLLED_BACK_STATUS } from "./finish";

export interface RollbackResult {
  rollbackId: string;
  checkpointId: string;
  component: string;
  /**
   * recovered: only for a rollback handed to another instance (server/instances/)
   * that stopped mid-way and completed it from its journal when it restarted.
   */
  outcome: "succeeded" | "failed" | "recovered";
  durationMs: number;
  restored: number;
  deleted: number;
  unchanged: number;
  /** Paths left as they are because the checkpoint recorded them as unstable (no content to restore). */
  unstable: string[];
  bytes: number;
  safetyCheckpointId: string | null;
  restoredPaths: RestoreItem[];
  deletedPaths: DeleteItem[];
  /** The databases replaced by their snapshots (targets). */
  restoredDatabases: string[];
  /** Ignored or out-of-scope entries that stood in the way, moved into the quarantine (asked for with moveObstacles). */
  movedObstacles: MovedObstacle[];
  /** A rollback restricted to these paths (nothing else was touched); null: the whole checkpoint. */
  paths: string[] | null;
}

export interface ExecuteOptions extends Pick<ApplyOptions, "onProgress"> {
  /**
   * Spends the confirm token, under the lock (a refused lock leaves the token
   * usable). The workspace and the plan must then be those the token was issued on.
   */
  confirm?: () => Promise<ConsumedToken>;
  /** Move obstacles into the quarantine instead of refusing (the confirmed plan must have been made with it too). */
  moveObstacles?: boolean;
  /** Restore only these paths (the confirmed plan must have been made for the same ones). */
  paths?: readonly string[];
  /** The id the rollback gets (a routed job records it before it starts); a new one by default. */
  rollbackId?: string;
}

/** Validates and spends the confirm token, then performs the rollback it confirms. */
export async function executeRollback(core: Core, input: RollbackExecuteInput, actor: Actor, options: Pick<ExecuteOptions, "onProgress" | "rollbackId"> = {}): Promise<RollbackResult> {
  const row = await findCheckpointRow(core, input.checkpointId);
  const confirm = () => consumeConfirmToken(core, input.confirmToken, { purpose: "rollback", targetId: input.checkpointId, actor });
  return performRollback(core, row, actor, { ...options, confirm, moveObstacles: input.moveObstacles, paths: input.paths });
}

function refuseToken(why: string): InvalidInputError {
  return new InvalidInputError(`confirmToken refused: ${why}; plan again`, { field: "confirmToken" });
}

/** Rolls back to `row`. Callers confirm first: executeRollback (token), or the CLI's prompt / --yes. */
export async function performRollback(core: Core, row: CheckpointRow, actor: Actor, options: ExecuteOptions = {}): Promise<RollbackResult> {
  const startedAt = core.now();
  const t0 = performance.now();
  const component = toComponentView(row.component);
  const paths = dataPaths(core.config.dataDir);
  const rollbackId = options.rollbackId ?? newId("rb", startedAt.getTime());
  let safetyCheckpointId: string | null = null;
  let started = false;
  let rowCreated = false;
  // Set inside the locked section, read when it fails: how far the rollback got.
  const progress: { journal: RollbackJournal | null; tracker: RollbackTracker | null } = { journal: null, tracker: null };
  try {
    if (row.status !== "active") throw new InvalidInputError(`checkpoint ${row.id} is ${row.status} and cannot be rolled back to`, { checkpointId: row.id });
    assertComponentRootUsable(core, component);
    return await withComponentMutation(core, component, "rollback", actor, async () => {
      const confirmed = options.confirm ? await options.confirm() : null;
      const checkpoint = await openCheckpointManifest(core, row);
      const restriction = pathRestrictionOf(component.root, row.id, checkpoint, options.paths);
      const { state, plan } = await planAgainstWorkspace(core, component, checkpoint, { storeObjects: true, moveObstacles: options.moveObstacles, restriction, checkpointId: row.id });
      if (confirmed?.liveSha && confirmed.liveSha !== state.liveSha) throw refuseToken(`the workspace changed since the plan was made${restriction ? " (or the paths differ from the plan's)" : ""}`);
      if (confirmed && confirmed.boundTo !== planHash(row.id, plan)) throw refuseToken("the plan changed since it was confirmed (a rollback of some paths must name the same paths as its plan)");
      await assertNeededObjectsIntact(core, row.id, state.target, plan);
      assertRollbackFits(component.root, plan, state.changedLive, "nothing was changed. Free some space on that disk, then roll back again");
      // A rollback of some paths puts back files only: a database is no path, and is left as it is.
      const snapshots = restriction ? [] : checkpoint.databases;
      let safetyDatabases: Awaited<ReturnType<typeof snapshotDatabases>> | undefined;
      if (snapshots.length > 0) {
        await assertSnapshotsIntact(core, snapshots, "rollback");
        await assertDatabasesRestorable(component, snapshots);
        // What each database holds now, so the rollback can be undone (and a failure put back); a SQLite
        // file that is no database any more (what the rollback is there to repair) is kept as its bytes.
        safetyDatabases = await snapshotDatabases(core, component, snapshots.map((s) => s.target), { keepUnreadable: true }).catch(asSafetySnapshotFailure);
      }
      // A rollback of some paths takes its safety checkpoint of those paths only (what the
      // comparison captured): undoing it then puts back exactly them, as they were, and
      // leaves alone everything changed elsewhere since; a whole one would roll back those too.
      const safety = await commitCheckpoint(core, {
        component,
        scope: restriction ? restrictedScope(restriction.paths) : checkpoint.scope,
        live: state.live,
        builtTree: state.builtTree,
        kind: "safety",
        primaries: restriction ? restriction.paths : ((row.paths as string[] | null) ?? []),
        reason: `safety checkpoint before rollback ${rollbackId} to ${row.id}${restriction ? ` (${describePaths(restriction.paths)})` : ""}`,
        callerMeta: { rollbackId, targetCheckpointId: row.id, ...(restriction ? { paths: restriction.paths } : {}) },
        git: null,
        actor,
        startedAt,
        startedAtMs: t0,
        databases: safetyDatabases,
      });
      state.remember?.();
      safetyCheckpointId = safety.id;
      await core.db.rollback.create({
        data: { id: rollbackId, componentId: component.id, checkpointId: row.id, safetyCheckpointId, actor, outcome: "running", startedAt },
      });
      rowCreated = true;
      const journal: RollbackJournal = {
        version: snapshots.length > 0 ? 2 : 1,
        rollbackId,
        componentId: component.id,
        componentName: component.name,
        root: component.root,
        checkpointId: row.id,
        manifestSha256: row.manifestSha,
        safetyCheckpointId,
        actor,
        startedAt: startedAt.toISOString(),
        pid: process.pid,
        host: hostname(),
        restore: plan.restore,
        delete: plan.delete,
        ...(plan.obstaclesToMove?.length ? { moveObstacles: true } : {}),
        ...(restriction ? { paths: restriction.paths } : {}),
        ...(snapshots.length > 0
          ? { phase: "databases" as const, databases: snapshots.map((restore, i) => ({ restore, safety: safetyDatabases?.snapshots[i] as DatabaseSnapshot })) }
          : {}),
      };
      writeJournal(paths.journal, journal);
      started = true;
      const steps = new RollbackTracker(component.root, plan);
      progress.journal = journal;
      progress.tracker = steps;
      assertRootIntact(component);
      if (snapshots.length > 0) {
        try {
          await restoreJournalDatabases(core, journal, component);
        } catch (error) {
          // Undone: nothing of this rollback is left to recover.
          if (error instanceof SafetyNetError && error.details.undone) started = false;
          throw error;
        }
        steps.databasesReplaced = true;
      }
      steps.filesStarting();
      const movedObstacles = await moveObstaclesAside(component.root, core.config.dataDir, rollbackId, plan.obstaclesToMove ?? []);
      const applied = await applyRollbackPlan(core.store, component.root, state.target, plan, {
        onProgress: (done, total) => {
          steps.onProgress(done);
          options.onProgress?.(done, total);
        },
        tempTag: rollbackId,
      });
      steps.filesDone();
      const durationMs = Math.round(performance.now() - t0);
      await finishRollback(core, { rollbackId, mark: { rollbackId, checkpointId: row.id }, undoOf: rollbackOfSafetyCheckpoint(row), componentId: component.id, componentMeta: row.componentMeta, outcome: "succeeded", restrictedTo: restriction?.paths }, applied, t0, {
        kind: "rollback",
        component: component.name,
        checkpointId: row.id,
        actor,
        outcome: "succeeded",
        startedAt,
        durationMs,
        files: applied.restored + applied.deleted,
        bytes: applied.bytes,
        checksum: row.manifestSha,
        details: {
          rollbackId,
          safetyCheckpointId,
          ...callerDetails(row.callerMeta),
          restored: applied.restored,
          deleted: applied.deleted,
          unchanged: plan.unchanged,
          ...(restriction ? { paths: restriction.paths } : {}),
          ...(plan.unstable.length > 0 ? { unstable: plan.unstable } : {}),
          ...(snapshots.length > 0 ? { databases: describeSnapshots(snapshots) } : {}),
          ...movedObstaclesDetails(movedObstacles),
        },
      });
      removeJournal(paths.journal, rollbackId);
      return {
        rollbackId,
        checkpointId: row.id,
        component: component.name,
        outcome: "succeeded" as const,
        durationMs,
        restored: applied.restored,
        deleted: applied.deleted,
        unchanged: plan.unchanged,
        unstable: plan.unstable,
        bytes: applied.bytes,
        safetyCheckpointId,
        restoredPaths: plan.restore,
        deletedPaths: plan.delete,
        restoredDatabases: snapshots.map((s) => s.target),
        movedObstacles,
        paths: restriction ? restriction.paths : null,
      };
    });
  } catch (caught) {
    // (A failed database part says itself what happened to the journal.)
    const databasePart = Boolean(asSafetyNetError(caught)?.details.databasePart);
    let error = caught;
    let pending: StopRecord | null = null;
    if (started && !databasePart) {
      // Journaled and pending: the message says so, and the journal keeps how far it got for the recovery.
      const journalFile = journalPath(paths.journal, rollbackId);
      const stopped = rollbackStoppedError(caught, { rollbackId, component: component.name, checkpointId: row.id, root: component.root, journal: journalFile }, progress.tracker);
      error = stopped.error;
      pending = stopped.record;
      if (progress.journal) {
        try {
          writeJournal(paths.journal, { ...progress.journal, stopped: stopped.record });
        } catch {
          // Best effort: the journal as first written still completes the rollback.
        }
      }
    }
    const message = error instanceof Error ? error.message : String(error);
    const durationMs = Math.round(performance.now() - t0);
    // Best effort (on a full disk these writes fail too, and the rollback's own error is the one to report), but never silent.
    const unrecorded = (writeError: unknown) => core.log.error({ rollbackId, err: writeError }, "the failed rollback could not be recorded in the metadata store");
    if (rowCreated) {
      await core.db.rollback.update({ where: { id: rollbackId }, data: { outcome: "failed", error: recordText(message), durationMs } }).catch(unrecorded);
    } else if (ranOrTried(error)) {
      await core.db.rollback
        .create({ data: { id: rollbackId, componentId: component.id, checkpointId: row.id, safetyCheckpointId, actor, outcome: "failed", error: recordText(message), startedAt, durationMs } })
        .catch(unrecorded);
    }
    // Best effort: on a full disk this write fails too, and the original error is the one to report.
    await recordEvent(core, {
      kind: "rollback",
      component: component.name,
      checkpointId: row.id,
      actor,
      outcome: "failed",
      startedAt,
      durationMs,
      checksum: row.manifestSha,
      error: message,
      details: {
        rollbackId,
        safetyCheckpointId,
        ...callerDetails(row.callerMeta),
        errorCode: asSafetyNetError(error)?.code ?? "FAILED",
        journalKept: started,
        ...classifyRollbackFailure(error, started || databasePart),
        ...(databasePart ? { databasePart: true, undone: (error as SafetyNetError).details.undone } : {}),
        ...(pending ? { pending: true, partlyApplied: pending.partlyApplied, failedAt: pending.failedAt, changesMade: pending.changesMade, changesPlanned: pending.changesPlanned } : {}),
      },
    }).catch(unrecorded);
    throw error;
  }
}

/**
 * Whether a failure before the rollback's row existed still gets one: a rollback
 * refused for integrity, space or obstacles was tried; a busy component or a
 * refused confirm token never started one (history records those; the rollback
 * table, which success rates are computed from, does not).
 */
function ranOrTried(error: unknown): boolean {
  if (!(error instanceof SafetyNetError)) return true;
  if (error.code === "CONFLICT" && error.details.lock) return false;
  return !(error.code === "INVALID_INPUT" && error.details.field === "confirmToken");
}

/**
 * A database snapshot that fails says "nothing was checkpointed"; taken as the
 * rollback's safety snapshot, what the caller needs to know is that the rollback
 * has not started and nothing was changed.
 */
function asSafetySnapshotFailure(error: unknown): never {
  const known = asSafetyNetError(error);
  if (known) known.message = known.message.replace(/nothing was checkpointed/, "the rollback's safety snapshot could not be taken, so nothing was changed");
  throw error;
}
