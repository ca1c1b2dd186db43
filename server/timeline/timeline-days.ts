/**
 * The days a component's timeline has items on (UTC), newest first, with counts:
 * what the date jump offers. Grouped in SQL over the (component, time) indexes, so
 * ten thousand checkpoints cost one index scan, not ten thousand rows in memory.
 * Timestamps are stored as ISO 8601 text in UTC, so the day is their first ten characters.
 */
import type { Core } from "../core";
import { findComponentRow } from "../registry/components";

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
  const [checkpoints, rollbacks, events] = await Promise.all([
    core.db.$queryRaw<DayCount[]>`
      SELECT substr("createdAt", 1, 10) AS day, count(*) AS n FROM "Checkpoint"
      WHERE "componentId" = ${component.id} AND "status" <> 'deleted' GROUP BY day`,
    core.db.$queryRaw<DayCount[]>`
      SELECT substr("startedAt", 1, 10) AS day, count(*) AS n FROM "Rollback"
      WHERE "componentId" = ${component.id} GROUP BY day`,
    core.db.$queryRaw<DayCount[]>`
      SELECT substr("startedAt", 1, 10) AS day, count(*) AS n FROM "AuditEvent"
      WHERE "component" = ${component.name} AND "kind" IN ('checkpoint.verify', 'checkpoint.expire', 'checkpoint.delete') GROUP BY day`,
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
