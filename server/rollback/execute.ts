/**
 * Rollback execution. Under the component lock: capture the live state (which
 * stores it: the safety checkpoint), plan against the target, re-hash every
 * object the plan needs (invariant 1), write the journal, apply, restore the
 * component metadata, remove the journal, record history.
 */
import { hostname } from "node:os";
import type { Core, Actor } from "../core";
import { dataPaths } from "../core";
import { IntegrityError, InvalidInputError, SafetyNetError } from "../errors";
import { newId } from "../ids";
import { withComponentLock } from "../locks";
import { recordEvent } from "../audit/history";
import { setComponentMetadata, toComponentView } from "../registry/components";
import { assertRootAllowed } from "../scan/paths";
import { captureLiveState, scanScope } from "../checkpoints/live-state";
import { commitCheckpoint } from "../checkpoints/commit";
import { encodeManifest, entriesByPath, readManifest } from "../checkpoints/manifest";
import { sha256Hex } from "../store/object-store";
import { checkManifestObjects } from "../checkpoints/verify";
import { findCheckpointRow, type CheckpointRow } from "../checkpoints/queries";
import { applyRollbackPlan, type ApplyOptions } from "./apply";
import { computeRollbackPlan, pathsNeedingContent, planHash, type DeleteItem, type RestoreItem, type RollbackPlanBody } from "./plan";
import { writeJournal, removeJournal } from "./journal";
import { assertRollbackFits } from "./space";
import { consumeConfirmToken } from "./confirm-token";
import type { RollbackExecuteInput } from "../schemas";

export interface RollbackResult {
  rollbackId: string;
  checkpointId: string;
  component: string;
  outcome: "succeeded" | "failed";
  durationMs: number;
  restored: number;
  deleted: number;
  unchanged: number;
  bytes: number;
  safetyCheckpointId: string | null;
  restoredPaths: RestoreItem[];
  deletedPaths: DeleteItem[];
}

export interface ExecuteOptions extends ApplyOptions {
  /** The live manifest sha the confirmed plan was computed on; a different workspace is refused. */
  expectedLiveSha?: string;
  expectedPlanHash?: string;
  /** Plan and stop (dry run under the lock, no safety checkpoint). */
  dryRun?: boolean;
}

export const ROLLED_BACK_STATUS = "rolled-back";


/** Validates and spends the confirm token, then performs the rollback it confirms. */
export async function executeRollback(core: Core, input: RollbackExecuteInput, actor: Actor, options: ApplyOptions = {}): Promise<RollbackResult> {
  const row = await findCheckpointRow(core, input.checkpointId);
  const token = await consumeConfirmToken(core, input.confirmToken, { purpose: "rollback", targetId: input.checkpointId });
  return performRollback(core, row, actor, { ...options, expectedLiveSha: token.liveSha ?? undefined, expectedPlanHash: token.boundTo });
}

/** Rolls back to `row`. Callers confirm first: executeRollback (token), or the CLI's prompt / --yes. */
export async function performRollback(core: Core, row: CheckpointRow, actor: Actor, options: ExecuteOptions = {}): Promise<RollbackResult> {
  const startedAt = core.now();
  const t0 = performance.now();
  const component = toComponentView(row.component);
  const paths = dataPaths(core.config.dataDir);
  const rollbackId = newId("rb", startedAt.getTime());
  let safetyCheckpointId: string | null = null;
  let plan: RollbackPlanBody | null = null;
  let started = false;
  try {
    if (row.status !== "active") throw new InvalidInputError(`checkpoint ${row.id} is ${row.status} and cannot be rolled back to`, { checkpointId: row.id });
    assertRootAllowed(component.root, core.config.allowedRoots);
    return await withComponentLock(paths.locks, component, async () => {
      const manifest = readManifest(core.store, row.manifestSha);
      const targetByPath = entriesByPath(manifest.entries);
      // The safety checkpoint records each path with the reason the target had for it
      // (a whole-component checkpoint has only primaries: nothing to look up).
      const reasons = manifest.scope.kind === "all" ? undefined : { get: (p: string) => targetByPath.get(p)?.reason };
      const scanned = scanScope(core, component, manifest.scope);
      const live = await captureLiveState(core, component, manifest.scope, { storeObjects: true, reasons }, scanned);
      const encodedLive = encodeManifest(manifest.scope, live.entries);
      const liveSha = sha256Hex(encodedLive);
      if (options.expectedLiveSha && options.expectedLiveSha !== liveSha) {
        throw new InvalidInputError("confirmToken refused: the workspace changed since the plan was made; plan again", { field: "confirmToken" });
      }
      plan = computeRollbackPlan(manifest.entries, live.entries);
      if (options.expectedPlanHash && options.expectedPlanHash !== planHash(row.id, plan)) {
        throw new InvalidInputError("confirmToken refused: the plan changed since it was confirmed; plan again", { field: "confirmToken" });
      }
      const { problems } = await checkManifestObjects(core, manifest, pathsNeedingContent(plan));
      if (problems.length > 0) {
        const named = problems.slice(0, 10).map((p) => `${p.path} (${p.state})`).join(", ");
        throw new IntegrityError(`rollback refused: ${problems.length} stored object(s) needed are damaged: ${named}; the workspace was not changed`, {
          problems,
        });
      }
      assertRollbackFits(component.root, plan, live.entries);
      const safety = await commitCheckpoint(core, {
        component,
        scope: manifest.scope,
        live,
        encodedManifest: encodedLive,
        kind: "safety",
        primaries: (row.paths as string[] | null) ?? [],
        reason: `safety checkpoint before rollback ${rollbackId} to ${row.id}`,
        callerMeta: { rollbackId, targetCheckpointId: row.id },
        git: null,
        actor,
        startedAt,
        startedAtMs: t0,
      });
      safetyCheckpointId = safety.id;
      await core.db.rollback.create({
        data: { id: rollbackId, componentId: component.id, checkpointId: row.id, safetyCheckpointId, actor, outcome: "running", startedAt },
      });
      writeJournal(paths.journal, {
        version: 1,
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
      });
      started = true;
      const applied = await applyRollbackPlan(core.store, component.root, targetByPath, plan, options);
      await finishRollback(core, { rollbackId, componentId: component.id, componentMeta: row.componentMeta, outcome: "succeeded" }, applied, t0);
      removeJournal(paths.journal, rollbackId);
      const durationMs = Math.round(performance.now() - t0);
      await recordEvent(core, {
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
        details: { rollbackId, safetyCheckpointId, restored: applied.restored, deleted: applied.deleted, unchanged: plan.unchanged },
      });
      return {
        rollbackId,
        checkpointId: row.id,
        component: component.name,
        outcome: "succeeded" as const,
        durationMs,
        restored: applied.restored,
        deleted: applied.deleted,
        unchanged: plan.unchanged,
        bytes: applied.bytes,
        safetyCheckpointId,
        restoredPaths: plan.restore,
        deletedPaths: plan.delete,
      };
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const interrupted = started ? `; the journal was kept: run \`safetynet recover\` to complete the rollback` : "";
    if (started) {
      await core.db.rollback.update({ where: { id: rollbackId }, data: { outcome: "failed", error: message + interrupted, durationMs: Math.round(performance.now() - t0) } }).catch(() => undefined);
    } else if (!(error instanceof SafetyNetError && error.code === "CONFLICT")) {
      await core.db.rollback
        .create({ data: { id: rollbackId, componentId: component.id, checkpointId: row.id, safetyCheckpointId, actor, outcome: "failed", error: message, startedAt, durationMs: Math.round(performance.now() - t0) } })
        .catch(() => undefined);
    }
    await recordEvent(core, {
      kind: "rollback",
      component: component.name,
      checkpointId: row.id,
      actor,
      outcome: "failed",
      startedAt,
      durationMs: performance.now() - t0,
      checksum: row.manifestSha,
      error: message + interrupted,
      details: { rollbackId, safetyCheckpointId, errorCode: error instanceof SafetyNetError ? error.code : "FAILED", journalKept: started },
    });
    throw error;
  }
}

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
