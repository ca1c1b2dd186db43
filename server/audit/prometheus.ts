/**
 * Prometheus metrics (prom-client, default registry) fed by the audit observer:
 *
 *   safetynet_operations_total{kind,outcome}          every audited operation
 *   safetynet_checkpoints_created_total                manual checkpoints created
 *   safetynet_rollbacks_total{outcome}                 succeeded | failed | conflict | refused | recovered
 *   safetynet_rollback_duration_seconds                histogram of rollbacks that ran (succeeded or failed)
 *   safetynet_slow_rollbacks_total                     rollbacks that took longer than 30 s
 *   safetynet_verification_failures_total              verify runs that found corrupt or missing objects
 *   safetynet_retention_deleted_checkpoints_total      checkpoints removed by retention runs
 *   safetynet_retention_bytes_freed_total              bytes freed by retention runs
 *   safetynet_database_snapshots_total{engine}         database snapshots taken with checkpoints (sqlite | postgres)
 *   safetynet_database_snapshot_bytes_total{engine}    their sizes in the store
 *   safetynet_database_restores_total{engine}          databases replaced by rollbacks (and recoveries that completed one)
 *   safetynet_store_bytes / _store_objects / _logical_bytes / _dedup_ratio   gauges, read at scrape time
 *   safetynet_component_scans{method}                 whole-component scans since the server started: watchman (re-read
 *                                                      only what Watchman reported) | walk (server/scan/change-tracker.ts)
 *                                                      | unchanged | patched (the last tree reused or patched: no scan)
 *   safetynet_process_* / safetynet_nodejs_*           prom-client default process metrics
 *
 * Counters count since the server started (Prometheus handles resets).
 *
 * A token scoped to some components gets a narrowed exposition instead: gauges
 * read from the database for its components only (scopedMetricsText), without
 * the counters and store gauges above, which describe every component.
 * Retention runs are read from their audit record (server/retention/run.ts):
 * `details.removedCheckpoints` (checkpoint rows the sweep removed) and
 * `details.bytesFreed` (else `bytes`).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, register, Registry, type Metric } from "prom-client";
import type { Core } from "../core";
import type { AuditRecord } from "./history";
import { setAuditObserver } from "./metrics";
import { unchangedCaptureStats } from "../checkpoints/unchanged-capture";
import { changeTracker } from "../scan/change-tracker";
import { SLOW_ROLLBACK_MS, statsSummary, storeStorageStats } from "./stats";

function getOrCreate<M extends Metric>(name: string, create: () => M): M {
  return (register.getSingleMetric(name) as M | undefined) ?? create();
}

function metrics() {
  return {
    operations: getOrCreate(
      "safetynet_operations_total",
      () => new Counter({ name: "safetynet_operations_total", help: "Audited operations by kind and outcome", labelNames: ["kind", "outcome"] as const }),
    ),
    checkpointsCreated: getOrCreate("safetynet_checkpoints_created_total", () => new Counter({ name: "safetynet_checkpoints_created_total", help: "Checkpoints created" })),
    rollbacks: getOrCreate(
      "safetynet_rollbacks_total",
      () => new Counter({ name: "safetynet_rollbacks_total", help: "Rollbacks by outcome (succeeded, failed, conflict, refused, recovered)", labelNames: ["outcome"] as const }),
    ),
    rollbackDuration: getOrCreate(
      "safetynet_rollback_duration_seconds",
      () =>
        new Histogram({
          name: "safetynet_rollback_duration_seconds",
          help: "Duration of rollbacks that ran (succeeded or failed)",
          labelNames: ["outcome"] as const,
          buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
        }),
    ),
    slowRollbacks: getOrCreate("safetynet_slow_rollbacks_total", () => new Counter({ name: "safetynet_slow_rollbacks_total", help: "Rollbacks that took longer than 30 s" })),
    verificationFailures: getOrCreate(
      "safetynet_verification_failures_total",
      () => new Counter({ name: "safetynet_verification_failures_total", help: "Verify runs that found corrupt or missing objects" }),
    ),
    retentionDeleted: getOrCreate(
      "safetynet_retention_deleted_checkpoints_total",
      () => new Counter({ name: "safetynet_retention_deleted_checkpoints_total", help: "Checkpoints deleted by retention runs" }),
    ),
    retentionBytesFreed: getOrCreate(
      "safetynet_retention_bytes_freed_total",
      () => new Counter({ name: "safetynet_retention_bytes_freed_total", help: "Bytes freed in the store by retention runs" }),
    ),
    databaseSnapshots: getOrCreate(
      "safetynet_database_snapshots_total",
      () => new Counter({ name: "safetynet_database_snapshots_total", help: "Database snapshots taken with checkpoints", labelNames: ["engine"] as const }),
    ),
    databaseSnapshotBytes: getOrCreate(
      "safetynet_database_snapshot_bytes_total",
      () => new Counter({ name: "safetynet_database_snapshot_bytes_total", help: "Bytes of the database snapshots taken with checkpoints", labelNames: ["engine"] as const }),
    ),
    databaseRestores: getOrCreate(
      "safetynet_database_restores_total",
      () => new Counter({ name: "safetynet_database_restores_total", help: "Databases replaced by their snapshot in rollbacks", labelNames: ["engine"] as const }),
    ),
    storeBytes: getOrCreate("safetynet_store_bytes", () => new Gauge({ name: "safetynet_store_bytes", help: "Bytes of all objects in the store" })),
    storeObjects: getOrCreate("safetynet_store_objects", () => new Gauge({ name: "safetynet_store_objects", help: "Objects in the store" })),
    logicalBytes: getOrCreate(
      "safetynet_logical_bytes",
      () => new Gauge({ name: "safetynet_logical_bytes", help: "Bytes described by live checkpoints, before dedup" }),
    ),
    dedupRatio: getOrCreate("safetynet_dedup_ratio", () => new Gauge({ name: "safetynet_dedup_ratio", help: "logical bytes / store bytes (1 = no saving)" })),
    componentScans: getOrCreate(
      "safetynet_component_scans",
      () =>
        new Gauge({
          name: "safetynet_component_scans",
          help: "Whole-component scans since the server started: watchman (re-read only what Watchman reported), walk, unchanged (a checkpoint, rollback plan or rollback that reused the last tree: Watchman vouched nothing changed, nothing was scanned), or patched (one made from the last tree and the paths Watchman reported)",
          labelNames: ["method"] as const,
        }),
    ),
  };
}

function numberDetail(details: Record<string, unknown> | undefined, ...keys: string[]): number | undefined {
  for (const key of keys) {
    const value = details?.[key];
    if (typeof value === "number" && Number.isFinite(value)) return value;
  }
  return undefined;
}

/** The database snapshots an audit record lists in `details.databases` (checkpoint create, rollback). */
function databasesIn(record: AuditRecord): { engine: string; bytes: number }[] {
  const list = record.details?.databases;
  if (!Array.isArray(list)) return [];
  return list.flatMap((d: unknown) => {
    const entry = d as { engine?: unknown; bytes?: unknown };
    return typeof entry?.engine === "string" ? [{ engine: entry.engine, bytes: typeof entry.bytes === "number" ? entry.bytes : 0 }] : [];
  });
}

function rollbackOutcome(record: AuditRecord): "succeeded" | "failed" | "conflict" | "refused" {
  if (record.outcome === "succeeded") return "succeeded";
  const code = record.details?.errorCode;
  if (code === "CONFLICT") return "conflict";
  if (code === "INVALID_INPUT" || code === "NOT_FOUND") return "refused";
  return "failed";
}

export function observeForPrometheus(record: AuditRecord): void {
  const m = metrics();
  m.operations.inc({ kind: record.kind, outcome: record.outcome });
  switch (record.kind) {
    case "checkpoint.create":
      if (record.outcome !== "succeeded") break;
      m.checkpointsCreated.inc();
      for (const database of databasesIn(record)) {
        m.databaseSnapshots.inc({ engine: database.engine });
        m.databaseSnapshotBytes.inc({ engine: database.engine }, database.bytes);
      }
      break;
    case "checkpoint.verify":
      if (record.outcome === "failed") m.verificationFailures.inc();
      break;
    case "rollback": {
      const outcome = rollbackOutcome(record);
      m.rollbacks.inc({ outcome });
      if (outcome === "succeeded") for (const database of databasesIn(record)) m.databaseRestores.inc({ engine: database.engine });
      if (outcome === "succeeded" || outcome === "failed") {
        m.rollbackDuration.observe({ outcome }, record.durationMs / 1000);
        if (record.durationMs > SLOW_ROLLBACK_MS) m.slowRollbacks.inc();
      }
      break;
    }
    case "recover":
      m.rollbacks.inc({ outcome: record.outcome === "succeeded" ? "recovered" : "failed" });
      break;
    case "retention.run": {
      if (record.outcome !== "succeeded") break;
      const deleted = numberDetail(record.details, "removedCheckpoints") ?? 0;
      const freed = numberDetail(record.details, "bytesFreed") ?? record.bytes ?? 0;
      if (deleted > 0) m.retentionDeleted.inc(deleted);
      if (freed > 0) m.retentionBytesFreed.inc(freed);
      break;
    }
  }
}

const INSTALLED = Symbol.for("safetynet.prometheusInstalled");

/** Idempotent: registers the default process metrics and the audit observer once per process. */
export function installPrometheusObserver(): void {
  const slot = globalThis as { [INSTALLED]?: boolean };
  if (slot[INSTALLED]) return;
  slot[INSTALLED] = true;
  if (!register.getSingleMetric("safetynet_process_cpu_seconds_total")) collectDefaultMetrics({ prefix: "safetynet_" });
  metrics();
  setAuditObserver(observeForPrometheus);
}

/** The Prometheus text exposition, with the storage gauges refreshed. */
export async function metricsText(core: Core): Promise<{ body: string; contentType: string }> {
  installPrometheusObserver();
  const m = metrics();
  const storage = await storeStorageStats(core);
  m.storeBytes.set(storage.storeBytes);
  m.storeObjects.set(storage.storeObjects);
  m.logicalBytes.set(storage.logicalBytes);
  m.dedupRatio.set(storage.dedupRatio ?? 1);
  const scans = changeTracker()?.stats;
  m.componentScans.set({ method: "watchman" }, scans?.incremental ?? 0);
  m.componentScans.set({ method: "walk" }, scans?.fullWalks ?? 0);
  m.componentScans.set({ method: "unchanged" }, unchangedCaptureStats.reused);
  m.componentScans.set({ method: "patched" }, unchangedCaptureStats.patched);
  return { body: await register.metrics(), contentType: register.contentType };
}

/**
 * The exposition for a token scoped to `components`: what the database knows
 * about those components only, as gauges (values since the data directory was
 * created, not since the server started).
 */
export async function scopedMetricsText(core: Core, components: string[]): Promise<{ body: string; contentType: string }> {
  const summary = await statsSummary(core, components);
  const registry = new Registry();
  const gauge = (name: string, help: string, value: number) => new Gauge({ name, help, registers: [registry] }).set(value);
  gauge("safetynet_components", "Components in this token's scope", summary.totals.components);
  gauge("safetynet_checkpoints", "Live (not deleted) checkpoints of these components, safety checkpoints included", summary.totals.checkpoints);
  gauge("safetynet_safety_checkpoints", "Live safety checkpoints of these components", summary.totals.safetyCheckpoints);
  gauge("safetynet_pinned_checkpoints", "Pinned checkpoints of these components", summary.totals.pinnedCheckpoints);
  gauge("safetynet_verification_failures", "Verify runs of these components that found corrupt or missing objects", summary.totals.verificationFailures);
  gauge("safetynet_slow_rollbacks", "Rollbacks of these components that took longer than 30 s", summary.rollbacks.slow);
  gauge("safetynet_logical_bytes", "Bytes described by live checkpoints of these components, before dedup", summary.storage.logicalBytes);
  const rollbacks = new Gauge({ name: "safetynet_rollbacks", help: "Rollbacks of these components by outcome", labelNames: ["outcome"] as const, registers: [registry] });
  for (const outcome of ["succeeded", "failed", "recovered", "running"] as const) rollbacks.set({ outcome }, summary.rollbacks[outcome]);
  if (summary.lastRollback) {
    gauge("safetynet_last_rollback_timestamp_seconds", "When the last rollback of these components started", Date.parse(summary.lastRollback.startedAt) / 1000);
  }
  return { body: await registry.metrics(), contentType: registry.contentType };
}
