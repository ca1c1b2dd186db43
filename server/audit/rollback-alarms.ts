/**
 * Failed rollbacks per component, for the dashboard's component list: those that
 * ran and failed apart from those refused by a check before any change
 * (rollback-failure.ts). One grouped query over the failed rollback events
 * (index on kind); an event recorded before the distinction counts as failed.
 */
import type { Core } from "../core";
import { sqlDialect } from "../db/sql-dialect";

export interface RollbackAlarms {
  /** Rollbacks that ran and failed. */
  failed: number;
  /** Rollbacks refused before any change (damaged data, stale confirmation, files in the way, busy, space). */
  refused: number;
}

export const NO_ALARMS: RollbackAlarms = { failed: 0, refused: 0 };

/** By component name; components without failed rollbacks are absent (use NO_ALARMS). */
export async function rollbackAlarmsByComponent(core: Core): Promise<Map<string, RollbackAlarms>> {
  const sql = sqlDialect(core.config.dataDir);
  const rows = await core.db.$queryRaw<{ component: string | null; failure: string | null; n: bigint | number }[]>`
    SELECT e."component" AS component, ${sql.jsonString("e.details", "failure")} AS failure, count(*) AS n
    FROM ${sql.table("AuditEvent")} e
    WHERE e."kind" = 'rollback' AND e."outcome" = 'failed' AND e."component" IS NOT NULL
    GROUP BY e."component", ${sql.jsonString("e.details", "failure")}`;
  const alarms = new Map<string, RollbackAlarms>();
  for (const row of rows) {
    if (row.component === null) continue;
    const counts = alarms.get(row.component) ?? { ...NO_ALARMS };
    if (row.failure === "refused") counts.refused += Number(row.n);
    else counts.failed += Number(row.n);
    alarms.set(row.component, counts);
  }
  return alarms;
}
