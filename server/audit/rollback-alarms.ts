/**
 * Failed rollbacks, for the dashboard's component list and its summary: those
 * that ran and failed apart from those refused by a check before any change
 * (rollback-failure.ts). One grouped query over the failed rollback events
 * (index on kind), so both count exactly what the history's `failure=ran` and
 * `failure=refused` filters list; an event recorded before the distinction
 * counts as failed.
 */
import { Prisma } from "../generated/prisma/client";
import type { Core } from "../core";
import { sqlDialect } from "../db/sql-dialect";

export interface RollbackAlarms {
  /** Rollbacks that ran and failed. */
  failed: number;
  /** Rollbacks refused before any change (damaged data, stale confirmation, files in the way, busy, space). */
  refused: number;
}

export const NO_ALARMS: RollbackAlarms = { failed: 0, refused: 0 };

/** Which components to count: every one (null) or these names. */
type AlarmScope = readonly string[] | null;

interface FailedRollbackGroup {
  component: string | null;
  alarm: keyof RollbackAlarms;
  /** Whether these events' rollbacks have a row in the rollback table (a refusal after planning does; a spent confirmation does not). */
  hasRollbackRow: boolean;
  count: number;
}

async function failedRollbackGroups(core: Core, scope: AlarmScope): Promise<FailedRollbackGroup[]> {
  if (scope !== null && scope.length === 0) return [];
  const sql = sqlDialect(core.config.dataDir);
  const inScope = scope === null ? Prisma.empty : Prisma.sql`AND e."component" IN (${Prisma.join([...scope])})`;
  const rows = await core.db.$queryRaw<{ component: string | null; failure: string | null; has_row: bigint | number | boolean; n: bigint | number }[]>`
    SELECT e."component" AS component, ${sql.jsonString("e.details", "failure")} AS failure,
      CASE WHEN EXISTS (SELECT 1 FROM ${sql.table("Rollback")} r WHERE r."id" = ${sql.jsonText("e.details", "rollbackId")}) THEN 1 ELSE 0 END AS has_row,
      count(*) AS n
    FROM ${sql.table("AuditEvent")} e
    WHERE e."kind" = 'rollback' AND e."outcome" = 'failed' ${inScope}
    GROUP BY 1, 2, 3`;
  return rows.map((row) => ({
    component: row.component,
    alarm: row.failure === "refused" ? "refused" : "failed",
    hasRollbackRow: Number(row.has_row) === 1,
    count: Number(row.n),
  }));
}

/** By component name; components without failed rollbacks are absent (use NO_ALARMS). */
export async function rollbackAlarmsByComponent(core: Core): Promise<Map<string, RollbackAlarms>> {
  const alarms = new Map<string, RollbackAlarms>();
  for (const group of await failedRollbackGroups(core, null)) {
    if (group.component === null) continue;
    const counts = alarms.get(group.component) ?? { ...NO_ALARMS };
    counts[group.alarm] += group.count;
    alarms.set(group.component, counts);
  }
  return alarms;
}

export interface RollbackAlarmTotals extends RollbackAlarms {
  /** Of the refused, those with a row in the rollback table: to leave out of rates computed from that table. */
  refusedWithRollbackRow: number;
}

/**
 * The alarms of every component in scope added up (unscoped, events without a
 * component count too: the history's unfiltered failure filter lists them).
 */
export async function rollbackAlarmTotals(core: Core, scope: AlarmScope): Promise<RollbackAlarmTotals> {
  const totals: RollbackAlarmTotals = { ...NO_ALARMS, refusedWithRollbackRow: 0 };
  for (const group of await failedRollbackGroups(core, scope)) {
    totals[group.alarm] += group.count;
    if (group.alarm === "refused" && group.hasRollbackRow) totals.refusedWithRollbackRow += group.count;
  }
  return totals;
}
