/**
 * The dashboard's summary (stats.summary) and the gauges of /api/metrics, from
 * one set of queries: totals, rollback success rate, average and p95 rollback
 * duration, the last rollback, and storage (store bytes, logical bytes, dedup).
 */
import type { Core } from "../core";

export interface StorageStats {
  /** Bytes of all objects in the store (each content once). */
  storeBytes: number;
  storeObjects: number;
  /** Bytes the live (not deleted) checkpoints describe, counting every file of every checkpoint. */
  logicalBytes: number;
  /** logicalBytes / storeBytes: how many times over dedup saves (1 = no saving); null when the store is empty. */
  dedupRatio: number | null;
}

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
    failed: number;
    /** Interrupted by a crash and completed by recovery: counted as successes. */
    recovered: number;
    running: number;
    /**
     * Rollbacks refused before they started (a stale or spent confirm token, the
     * component locked by another operation): in the history, not in the rate.
     */
    refused: number;
    /** (succeeded + recovered) / finished: of the rollbacks that ran; null when none finished yet. */
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

export async function storageStats(core: Core): Promise<StorageStats> {
  const { objects, bytes } = core.store.stats();
  const logical = await core.db.checkpoint.aggregate({ where: { status: { not: "deleted" } }, _sum: { bytes: true } });
  const logicalBytes = Number(logical._sum.bytes ?? 0n);
  return { storeBytes: bytes, storeObjects: objects, logicalBytes, dedupRatio: bytes > 0 ? round(logicalBytes / bytes, 3) : null };
}

/** The p-th percentile (nearest rank) of finished rollback durations, read with one indexed row fetch. */
async function rollbackDurationPercentile(core: Core, count: number, p: number): Promise<number | null> {
  if (count === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * count));
  const row = await core.db.rollback.findFirst({
    where: { outcome: { in: FINISHED }, durationMs: { not: null } },
    orderBy: { durationMs: "asc" },
    skip: rank - 1,
    select: { durationMs: true },
  });
  return row?.durationMs ?? null;
}

export async function statsSummary(core: Core): Promise<StatsSummary> {
  const [components, checkpoints, safetyCheckpoints, pinnedCheckpoints, historyEvents, verificationFailures, byOutcome, durations, slow, last, storage] =
    await Promise.all([
      core.db.component.count(),
      core.db.checkpoint.count({ where: { status: { not: "deleted" } } }),
      core.db.checkpoint.count({ where: { status: { not: "deleted" }, kind: "safety" } }),
      core.db.checkpoint.count({ where: { status: { not: "deleted" }, pinned: true } }),
      core.db.auditEvent.count(),
      core.db.auditEvent.count({ where: { kind: "checkpoint.verify", outcome: "failed" } }),
      core.db.rollback.groupBy({ by: ["outcome"], _count: { _all: true } }),
      core.db.rollback.aggregate({ where: { outcome: { in: FINISHED }, durationMs: { not: null } }, _avg: { durationMs: true }, _count: { durationMs: true } }),
      core.db.rollback.count({ where: { outcome: { in: FINISHED }, durationMs: { gt: SLOW_ROLLBACK_MS } } }),
      core.db.rollback.findFirst({ orderBy: [{ startedAt: "desc" }, { id: "desc" }], include: { component: { select: { name: true } } } }),
      storageStats(core),
    ]);
  const refused = await refusedRollbacks(core);
  const count = (outcome: string) => byOutcome.find((g) => g.outcome === outcome)?._count._all ?? 0;
  const succeeded = count("succeeded");
  const failed = count("failed");
  const recovered = count("recovered");
  const finished = succeeded + failed + recovered;
  const p95 = await rollbackDurationPercentile(core, durations._count.durationMs, 95);
  return {
    generatedAt: core.now().toISOString(),
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
      failed,
      recovered,
      running: count("running"),
      refused,
      successRate: finished > 0 ? round((succeeded + recovered) / finished, 4) : null,
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

/** Failed rollback events with no rollback row: refused before a rollback started (see ranOrTried in rollback/execute.ts). */
async function refusedRollbacks(core: Core): Promise<number> {
  const rows = await core.db.$queryRaw<{ refused: bigint | number }[]>`
    SELECT count(*) AS refused FROM "AuditEvent" e
    WHERE e."kind" = 'rollback' AND e."outcome" = 'failed'
      AND NOT EXISTS (SELECT 1 FROM "Rollback" r WHERE r."id" = json_extract(e."details", '$.rollbackId'))`;
  return Number(rows[0]?.refused ?? 0);
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
