/**
 * A retention run: decide (per component, with the effective policies), mark the
 * expired checkpoints, sweep, purge spent confirm tokens, record `retention.run`
 * in history. A dry run computes the same lists without changing anything: what
 * would be expired and by which rule, what is kept and why, which rows, objects
 * and bytes would go.
 */
import { nonNegativeNumberFromEnv } from "../env-number";
import type { Core, Actor } from "../core";
import { SafetyNetError } from "../errors";
import { lockRetention } from "../locks";
import { recordEvent } from "../audit/history";
import { callerDetails } from "../audit/attribution";
import { purgeExpiredTokens } from "../rollback/confirm-token";
import { decideRetention, type ExpireDecision, type KeepDecision, type RetentionDecision } from "./decide";
import { loadInventory } from "./inventory";
import { summarizeDecisions, type DecisionSummary } from "./forecast";
import { loadPolicies, rulesOf, type StoredPolicy } from "./policy";
import { DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_GRACE_MS, ManifestReferences, markExpired, planSweep, sweep, type RemovedCheckpoint, type StoredObject, type UnreadableRoot } from "./sweep";

export interface RetentionRunOptions {
  dryRun?: boolean;
  actor: Actor;
  /** Objects modified less than this before the run are never collected (default SAFETYNET_RETENTION_GRACE_MS or 1 h). */
  graceMs?: number;
  /** How long to wait for in-progress creates before giving up collecting (default SAFETYNET_RETENTION_DRAIN_MS or 60 s). */
  drainTimeoutMs?: number;
}

export interface RetentionRunResult {
  dryRun: boolean;
  outcome: "succeeded" | "failed";
  startedAt: string;
  durationMs: number;
  graceMs: number;
  /** The policies in force ("default" rules apply where none is set). */
  policies: StoredPolicy[];
  /** Checkpoints expired by this run (would be, on a dry run), with the deciding rule. */
  expired: ExpireDecision[];
  /** Active checkpoints kept, with every rule that keeps them. */
  kept: KeepDecision[];
  /** The kept and expired checkpoints counted by rule (each once: forecast.ts), for a summary in words. */
  summary: DecisionSummary;
  /** Checkpoint rows and snapshot records removed by the sweep (this run's and earlier expired or deleted ones). */
  removed: RemovedCheckpoint[];
  /** Objects deleted from the store. */
  objects: StoredObject[];
  objectsDeleted: number;
  bytesFreed: number;
  keptByGrace: { objects: number; bytes: number };
  /** Snapshot records without a database row: removed as garbage, or kept as roots. */
  orphanRecords: { removed: string[]; kept: string[] };
  warnings: string[];
  /** Roots whose manifests could not be read: objects were not collected. */
  unreadable: UnreadableRoot[];
  confirmTokensPurged: number;
  tmpEntriesRemoved: number;
  storeBefore: { objects: number; bytes: number };
  storeAfter: { objects: number; bytes: number };
  historyEventId: string | null;
}

export function retentionGraceMs(): number {
  return nonNegativeNumberFromEnv("SAFETYNET_RETENTION_GRACE_MS", DEFAULT_GRACE_MS);
}

/** Decides every component's active checkpoints; keep and expire lists ordered by component, newest first. */
export async function decideAll(core: Core, now: Date): Promise<{ decisions: RetentionDecision[]; policies: StoredPolicy[] }> {
  const [inventory, policies] = await Promise.all([loadInventory(core, now), loadPolicies(core)]);
  const decisions: RetentionDecision[] = [];
  for (const component of [...inventory.checkpointsByComponent.keys()].sort()) {
    decisions.push(
      ...decideRetention({
        checkpoints: inventory.checkpointsByComponent.get(component) ?? [],
        policyFor: (kind) => policies.effective(component, kind),
        protections: inventory.protections,
        now,
      }),
    );
  }
  return { decisions, policies: policies.all() };
}

const HISTORY_LIST_LIMIT = 1000;

export async function runRetention(core: Core, options: RetentionRunOptions): Promise<RetentionRunResult> {
  const dryRun = options.dryRun ?? false;
  const startedAt = core.now();
  const t0 = performance.now();
  const graceMs = options.graceMs ?? retentionGraceMs();
  const drainTimeoutMs = options.drainTimeoutMs ?? nonNegativeNumberFromEnv("SAFETYNET_RETENTION_DRAIN_MS", DEFAULT_DRAIN_TIMEOUT_MS);
  const release = dryRun ? null : await lockRetention(core.locks);
  let marked: ExpireDecision[] = [];
  try {
    const storeBefore = core.store.stats();
    const { decisions, policies } = await decideAll(core, startedAt);
    const kept = decisions.filter((d): d is KeepDecision => d.action === "keep");
    const toExpire = decisions.filter((d): d is ExpireDecision => d.action === "expire");
    const manifests = new ManifestReferences(core.store);
    const sweepOptions = { now: startedAt, graceMs, manifests };

    if (dryRun) {
      const plan = await planSweep(core, { ...sweepOptions, assumeExpired: new Map(toExpire.map((d) => [d.checkpointId, `${d.rule}: ${d.reason}`])) });
      return {
        dryRun,
        outcome: "succeeded",
        startedAt: startedAt.toISOString(),
        durationMs: Math.round(performance.now() - t0),
        graceMs,
        policies,
        expired: toExpire,
        kept,
        summary: summarizeDecisions([...kept, ...toExpire]),
        removed: plan.checkpoints,
        objects: plan.objects,
        objectsDeleted: plan.objects.length,
        bytesFreed: plan.bytesFreed,
        keptByGrace: plan.keptByGrace,
        orphanRecords: plan.orphanRecords,
        warnings: plan.warnings,
        unreadable: plan.unreadable,
        confirmTokensPurged: 0,
        tmpEntriesRemoved: 0,
        storeBefore,
        storeAfter: { objects: storeBefore.objects - plan.objects.length, bytes: storeBefore.bytes - plan.bytesFreed },
        historyEventId: null,
      };
    }

    marked = await markExpired(core, toExpire);
    // The agent and task stay in each expiry's event: the sweep below removes the checkpoint rows.
    const callers = new Map(
      (await core.db.checkpoint.findMany({ where: { id: { in: marked.map((d) => d.checkpointId) } }, select: { id: true, callerMeta: true } })).map((row) => [row.id, row.callerMeta]),
    );
    for (const decision of marked) {
      await recordEvent(core, {
        kind: "checkpoint.expire",
        component: decision.component,
        checkpointId: decision.checkpointId,
        actor: options.actor,
        outcome: "succeeded",
        startedAt,
        durationMs: 0,
        details: { rule: decision.rule, policy: decision.policy, reason: decision.reason, ...callerDetails(callers.get(decision.checkpointId)) },
      });
    }
    const swept = await sweep(core, { ...sweepOptions, drainTimeoutMs });
    const confirmTokensPurged = await purgeExpiredTokens(core);
    const storeAfter = core.store.stats();
    const durationMs = Math.round(performance.now() - t0);
    const outcome = swept.unreadable.length === 0 ? "succeeded" : "failed";
    const result: RetentionRunResult = {
      dryRun,
      outcome,
      startedAt: startedAt.toISOString(),
      durationMs,
      graceMs,
      policies,
      expired: marked,
      kept,
      summary: summarizeDecisions([...kept, ...marked]),
      removed: swept.checkpoints,
      objects: swept.objects,
      objectsDeleted: swept.objects.length,
      bytesFreed: swept.bytesFreed,
      keptByGrace: swept.keptByGrace,
      orphanRecords: swept.orphanRecords,
      warnings: swept.warnings,
      unreadable: swept.unreadable,
      confirmTokensPurged,
      tmpEntriesRemoved: swept.tmpEntriesRemoved,
      storeBefore,
      storeAfter,
      historyEventId: null,
    };
    result.historyEventId = await recordEvent(core, {
      kind: "retention.run",
      actor: options.actor,
      outcome,
      startedAt,
      durationMs,
      files: result.objectsDeleted,
      bytes: result.bytesFreed,
      error: outcome === "failed" ? `objects not collected: ${swept.unreadable.length} live manifest(s) unreadable: ${swept.unreadable.slice(0, 3).map((u) => u.error).join("; ")}` : undefined,
      details: {
        expired: marked.length,
        kept: kept.length,
        removedCheckpoints: swept.checkpoints.length,
        objectsDeleted: result.objectsDeleted,
        bytesFreed: result.bytesFreed,
        keptByGrace: swept.keptByGrace,
        confirmTokensPurged,
        tmpEntriesRemoved: swept.tmpEntriesRemoved,
        storeBefore,
        storeAfter,
        graceMs,
        policies: policies.map((p) => ({ scope: p.scope, ...rulesOf(p) })),
        expiredCheckpoints: marked.slice(0, HISTORY_LIST_LIMIT).map((d) => ({ id: d.checkpointId, component: d.component, rule: d.rule, reason: d.reason })),
        orphanRecordsRemoved: swept.orphanRecords.removed.length,
        warnings: swept.warnings,
        unreadable: swept.unreadable.slice(0, 20),
      },
    });
    return result;
  } catch (error) {
    if (!dryRun) {
      await recordEvent(core, {
        kind: "retention.run",
        actor: options.actor,
        outcome: "failed",
        startedAt,
        durationMs: performance.now() - t0,
        error: error instanceof Error ? error.message : String(error),
        details: { errorCode: error instanceof SafetyNetError ? error.code : "FAILED", expired: marked.length, graceMs },
      }).catch(() => undefined);
    }
    throw error;
  } finally {
    await release?.();
  }
}
