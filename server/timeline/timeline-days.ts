/**
 * The days a component's timeline has items on (UTC), newest first, with counts:
 * what the date jump offers. Grouped in SQL over the (component, time) indexes, so
 * ten thousand checkpoints cost one index scan, not ten thousand rows in memory.
 * The day of a timestamp is computed in SQL by the store's dialect.
 */
import type { Core } from "../core";
import { findComponentRow } from "../registry/components";
import { sqlDialect } from "../db/sql-dialect";

export interface TimelineDay {
  /** YYYY-MM-DD (UTC). */
  day: string;
  checkpoints: number;
  rollbacks: number;
  /** Verifications and removals. */
  events: number;
}

interface DayCount {
  day: string;
  n: bigint | number;
}

export async function timelineDays(core: Core, componentName: string): Promise<{ days: TimelineDay[] }> {
  const component = await findComponentRow(core, componentName);
  const sql = sqlDialect(core.config.dataDir);
  const [checkpoints, rollbacks, events] = await Promise.all([
    core.db.$queryRaw<DayCount[]>`
      SELECT ${sql.utcDay("createdAt")} AS day, count(*) AS n FROM ${sql.table("Checkpoint")}
      WHERE "componentId" = ${component.id} AND "status" <> 'deleted' GROUP BY 1`,
    core.db.$queryRaw<DayCount[]>`
      SELECT ${sql.utcDay("startedAt")} AS day, count(*) AS n FROM ${sql.table("Rollback")}
      WHERE "componentId" = ${component.id} GROUP BY 1`,
    core.db.$queryRaw<DayCount[]>`
      SELECT ${sql.utcDay("startedAt")} AS day, count(*) AS n FROM ${sql.table("AuditEvent")}
      WHERE "component" = ${component.name} AND "kind" IN ('checkpoint.verify', 'checkpoint.expire', 'checkpoint.delete') GROUP BY 1`,
  ]);
  const byDay = new Map<string, TimelineDay>();
  const add = (rows: DayCount[], key: "checkpoints" | "rollbacks" | "events") => {
    for (const row of rows) {
      const entry = byDay.get(row.day) ?? { day: row.day, checkpoints: 0, rollbacks: 0, events: 0 };
      entry[key] += Number(row.n);
      byDay.set(row.day, entry);
    }
  };
  add(checkpoints, "checkpoints");
  add(rollbacks, "rollbacks");
  add(events, "events");
  return { days: [...byDay.values()].sort((a, b) => (a.day < b.day ? 1 : a.day > b.day ? -1 : 0)) };
}
