/**
 * The dashboard's summary (stats.summary) and the gauges of /api/metrics, from
 * one set of queries: totals, rollback success rate, average and p95 rollback
 * duration, the last rollback, and storage (store bytes, logical bytes, dedup).
 *
 * A summary is global, or narrowed to some components (a token scoped to them
 * must not learn about the others): every count, the last rollback and the
 * logical bytes then cover only those components, and the store-wide figures
 * (objects are shared by every component) are left out.
 */
import type { Core } from "../core";
import { Prisma } from "../generated/prisma/client";
import { rollbackAlarmTotals } from "./rollback-alarms";

export interface StorageStats {
  /** Bytes of all objects in the store (each content once); null in a narrowed summary. */
  storeBytes: number | null;
  storeObjects: number | null;
  /** Bytes the live (not deleted) checkpoints in view describe, counting every file of every checkpoint. */
  logicalBytes: number;
  /** logicalBytes / storeBytes (bytes on disk): how many times over dedup and compression save (1 = no saving); null when the store is empty or the summary narrowed. */
  dedupRatio: number | null;
}

/** Which components a summary covers: every one (null) or these names. */
export type StatsScope = readonly string[] | null;

export interface LastRollback {
  id: string;
  component: string;
  checkpointId: string;
  safetyCheckpointId: string | null;
  actor: string;
  outcome: string;
  startedAt: string;
  durationMs: number | null;
  restored: number;
  deleted: number;
  error: string | null;
}

export interface StatsSummary {
  generatedAt: string;
  /** The components this summary covers; null = all of them. */
  scope: string[] | null;
  totals: {
    components: number;
    /** Active and expired checkpoints (deleted ones are not counted). */
    checkpoints: number;
    safetyCheckpoints: number;
    pinnedCheckpoints: number;
    rollbacks: number;
    historyEvents: number;
    verificationFailures: number;
  };
  rollbacks: {
    succeeded: number;
    /** Rollbacks that ran and failed, counted as the components' alarms count them (rollback-alarms.ts). */
    failed: number;
    /** Interrupted by a crash and completed by recovery: counted as successes. */
    recovered: number;
    running: number;
    /**
     * Rollbacks refused by a check before any change (damaged data, a stale or
     * spent confirmation, files in the way, a busy component, too little space),
     * counted as the components' alarms count them: in the history, not in the rate.
     */
    refused: number;
    /** Finished rollbacks that ran (succeeded, recovered or failed; refusals left out): the rate's denominator. */
    ran: number;
    /** (succeeded + recovered) / ran; null when none ran yet. */
    successRate: number | null;
    avgDurationMs: number | null;
    p95DurationMs: number | null;
    /** Finished rollbacks that took longer than SLOW_ROLLBACK_MS. */
    slow: number;
  };
  lastRollback: LastRollback | null;
  storage: StorageStats;
}

export const SLOW_ROLLBACK_MS = 30_000;

const FINISHED = ["succeeded", "failed", "recovered"];

/** Row filters for a scope, by component id (rows of checkpoints and rollbacks) and by name (history). */
interface ScopeFilter {
  componentId: Prisma.StringFilter | undefined;
  componentName: Prisma.StringNullableFilter | undefined;
  componentRow: Prisma.ComponentWhereInput;
}

async function scopeFilter(core: Core, scope: StatsScope): Promise<ScopeFilter> {
  if (scope === null) return { componentId: undefined, componentName: undefined, componentRow: {} };
  const names = [...scope];
  const ids = (await core.db.component.findMany({ where: { name: { in: names } }, select: { id: true } })).map((c) => c.id);
  return { componentId: { in: ids }, componentName: { in: names }, componentRow: { name: { in: names } } };
}

/** Storage of the whole store: what the objects take on disk, and what every live checkpoint describes. */
export async function storeStorageStats(core: Core): Promise<StorageStats & { storeBytes: number; storeObjects: number }> {
  const logicalBytes = await liveLogicalBytes(core, undefined);
  const { objects, bytes } = core.store.stats();
  return { storeBytes: bytes, storeObjects: objects, logicalBytes, dedupRatio: bytes > 0 ? round(logicalBytes / bytes, 3) : null };
}

async function storageStats(core: Core, scope: StatsScope, filter: ScopeFilter): Promise<StorageStats> {
  if (scope === null) return storeStorageStats(core);
  return { storeBytes: null, storeObjects: null, logicalBytes: await liveLogicalBytes(core, filter.componentId), dedupRatio: null };
}

async function liveLogicalBytes(core: Core, componentId: Prisma.StringFilter | undefined): Promise<number> {
  const logical = await core.db.checkpoint.aggregate({ where: { status: { not: "deleted" }, componentId }, _sum: { bytes: true } });
  return Number(logical._sum.bytes ?? 0n);
}

/** The p-th percentile (nearest rank) of finished rollback durations, read with one indexed row fetch. */
async function rollbackDurationPercentile(core: Core, filter: ScopeFilter, count: number, p: number): Promise<number | null> {
  if (count === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * count));
  const row = await core.db.rollback.findFirst({
    where: { outcome: { in: FINISHED }, durationMs: { not: null }, componentId: filter.componentId },
    orderBy: { durationMs: "asc" },
    skip: rank - 1,
    select: { durationMs: true },
  });
  return row?.durationMs ?? null;
}

/** The summary of every component (scope null), or of the named ones only. */
export async function statsSummary(core: Core, scope: StatsScope = null): Promise<StatsSummary> {
  const filter = await scopeFilter(core, scope);
  const live = { status: { not: "deleted" }, componentId: filter.componentId };
  const finishedRollbacks = { outcome: { in: FINISHED }, durationMs: { not: null }, componentId: filter.componentId };
  const [components, checkpoints, safetyCheckpoints, pinnedCheckpoints, historyEvents, verificationFailures, byOutcome, durations, slow, last, storage] =
    await Promise.all([
      core.db.component.count({ where: filter.componentRow }),
      core.db.checkpoint.count({ where: live }),
      core.db.checkpoint.count({ where: { ...live, kind: "safety" } }),
      core.db.checkpoint.count({ where: { ...live, pinned: true } }),
      core.db.auditEvent.count({ where: { component: filter.componentName } }),
      core.db.auditEvent.count({ where: { kind: "checkpoint.verify", outcome: "failed", component: filter.componentName } }),
      core.db.rollback.groupBy({ by: ["outcome"], where: { componentId: filter.componentId }, _count: { _all: true } }),
      core.db.rollback.aggregate({ where: finishedRollbacks, _avg: { durationMs: true }, _count: { durationMs: true } }),
      core.db.rollback.count({ where: { ...finishedRollbacks, durationMs: { gt: SLOW_ROLLBACK_MS } } }),
      core.db.rollback.findFirst({
        where: { componentId: filter.componentId },
        orderBy: [{ startedAt: "desc" }, { id: "desc" }],
        include: { component: { select: { name: true } } },
      }),
      storageStats(core, scope, filter),
    ]);
  const alarms = await rollbackAlarmTotals(core, scope);
  const count = (outcome: string) => byOutcome.find((g) => g.outcome === outcome)?._count._all ?? 0;
  const succeeded = count("succeeded");
  const recovered = count("recovered");
  // A refusal after planning (damaged data) has a failed row in the rollback table, yet changed nothing.
  const ran = succeeded + recovered + Math.max(0, count("failed") - alarms.refusedWithRollbackRow);
  const p95 = await rollbackDurationPercentile(core, filter, durations._count.durationMs, 95);
  return {
    generatedAt: core.now().toISOString(),
    scope: scope === null ? null : [...scope],
    totals: {
      components,
      checkpoints,
      safetyCheckpoints,
      pinnedCheckpoints,
      rollbacks: byOutcome.reduce((sum, g) => sum + g._count._all, 0),
      historyEvents,
      verificationFailures,
    },
    rollbacks: {
      succeeded,
      failed: alarms.failed,
      recovered,
      running: count("running"),
      refused: alarms.refused,
      ran,
      successRate: ran > 0 ? round((succeeded + recovered) / ran, 4) : null,
      avgDurationMs: durations._avg.durationMs === null ? null : Math.round(durations._avg.durationMs),
      p95DurationMs: p95,
      slow,
    },
    lastRollback: last
      ? {
          id: last.id,
          component: last.component.name,
          checkpointId: last.checkpointId,
          safetyCheckpointId: last.safetyCheckpointId,
          actor: last.actor,
          outcome: last.outcome,
          startedAt: last.startedAt.toISOString(),
          durationMs: last.durationMs,
          restored: last.restored,
          deleted: last.deleted,
          error: last.error,
        }
      : null,
    storage,
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
