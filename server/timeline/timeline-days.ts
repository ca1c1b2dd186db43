/**
 * The days a component's timeline has items on, in a time zone (UTC unless asked),
 * newest first, with counts: the day headings and the date jump. Grouped in SQL
 * over the (component, time) indexes, so ten thousand checkpoints cost one index
 * scan, not ten thousand rows in memory. In UTC the SQL groups by day; in another
 * zone it groups by UTC quarter hour, and each quarter hour is put on its day in
 * that zone here: every zone in use is a whole number of quarter hours off UTC, so
 * a quarter hour never straddles a local midnight, and neither SQL store has to
 * know the zone database.
 */
import type { Core } from "../core";
import { findComponentRow } from "../registry/components";
import { sqlDialect } from "../db/sql-dialect";
import { dayInZone } from "./zoned-time";

export interface TimelineDay {
  /** YYYY-MM-DD in the zone asked for. */
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

export async function timelineDays(core: Core, componentName: string, timeZone = "UTC"): Promise<{ days: TimelineDay[] }> {
  const component = await findComponentRow(core, componentName);
  const sql = sqlDialect(core.config.dataDir);
  const utc = timeZone === "UTC" || timeZone === "Etc/UTC";
  const bucket = (column: string) => (utc ? sql.utcDay(column) : sql.utcQuarterHour(column));
  const [checkpoints, rollbacks, events] = await Promise.all([
    core.db.$queryRaw<DayCount[]>`
      SELECT ${bucket("createdAt")} AS day, count(*) AS n FROM ${sql.table("Checkpoint")}
      WHERE "componentId" = ${component.id} AND "status" <> 'deleted' GROUP BY 1`,
    core.db.$queryRaw<DayCount[]>`
      SELECT ${bucket("startedAt")} AS day, count(*) AS n FROM ${sql.table("Rollback")}
      WHERE "componentId" = ${component.id} GROUP BY 1`,
    core.db.$queryRaw<DayCount[]>`
      SELECT ${bucket("startedAt")} AS day, count(*) AS n FROM ${sql.table("AuditEvent")}
      WHERE "component" = ${component.name} AND "kind" IN ('checkpoint.verify', 'checkpoint.expire', 'checkpoint.delete') GROUP BY 1`,
  ]);
  const byDay = new Map<string, TimelineDay>();
  const dayOf = (bucketText: string) => (utc ? bucketText : dayInZone(Date.parse(`${bucketText}:00Z`), timeZone));
  const add = (rows: DayCount[], key: "checkpoints" | "rollbacks" | "events") => {
    for (const row of rows) {
      const day = dayOf(row.day);
      const entry = byDay.get(day) ?? { day, checkpoints: 0, rollbacks: 0, events: 0 };
      entry[key] += Number(row.n);
      byDay.set(day, entry);
    }
  };
  add(checkpoints, "checkpoints");
  add(rollbacks, "rollbacks");
  add(events, "events");
  return { days: [...byDay.values()].sort((a, b) => (a.day < b.day ? 1 : a.day > b.day ? -1 : 0)) };
}
