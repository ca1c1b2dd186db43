/**
 * Sessions: a component's checkpoints grouped by the task their caller named
 * (`--task`, `--meta task=...`, an agent hook's session id), latest activity
 * first, a page at a time. See ./README.md for what a session's facts mean.
 *
 * One GROUP BY over the checkpoints (through the (componentId, createdAt) index
 * when a component is named) finds a page of sessions; each session of the page
 * then costs a few indexed lookups (its first and last checkpoint, the checkpoint
 * after it) and one aggregate over the change records of its stretch
 * (./net-changes.ts). Nothing reads the trees.
 */
import type { Core } from "../core";
import { Prisma } from "../generated/prisma/client";
import { sqlDialect } from "../db/sql-dialect";
import { findComponentRow } from "../registry/components";
import type { ChangeCounts } from "../checkpoints/change-records";
import type { SessionListInput } from "../schemas";
import { decodeSessionCursor, encodeSessionCursor } from "./cursor";
import { netChangesBetween } from "./net-changes";

export const SESSIONS_PAGE = 50;

export interface SessionView {
  component: string;
  /** The task every checkpoint of the session named. */
  task: string;
  /** The agent its first checkpoint named (else its last); null when none did. */
  agent: string | null;
  /** The first checkpoint's time: just before the session's first step. */
  startedAt: string;
  /** The last checkpoint's time: just before its last step. */
  lastAt: string;
  /** Checkpoints taken in the session (one per step for an agent hook). */
  steps: number;
  /** Net files and symlinks added, modified and deleted from the first checkpoint to the state after the last step (README). */
  changes: ChangeCounts;
  firstCheckpointId: string;
  lastCheckpointId: string;
  /**
   * The checkpoint that puts the component back as it was before the session:
   * its first checkpoint. null when that checkpoint has expired (its content may be gone).
   */
  rollbackTo: string | null;
  /**
   * The component's next checkpoint after the session's last one: it holds the
   * state after the last step, and its changes count as the session's. null while
   * none has been taken (the last step's changes are not counted yet).
   */
  closedBy: string | null;
}

export interface SessionPage {
  items: SessionView[];
  nextCursor: string | null;
}

interface GroupRow {
  component: string;
  componentId: string;
  task: string;
  startedAt: Date | string;
  lastAt: Date | string;
  steps: bigint | number;
}

interface CheckpointFacts {
  id: string;
  createdAt: Date;
  status: string;
  callerMeta: unknown;
}

const FACTS = { id: true, createdAt: true, status: true, callerMeta: true } as const;

function metaString(meta: unknown, key: string): string | null {
  const value = (meta as Record<string, unknown> | null)?.[key];
  return typeof value === "string" && value !== "" ? value : null;
}

/** A timestamp as the driver returns it from raw SQL: a Date (PostgreSQL) or the stored ISO text (SQLite). */
function dateOf(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

export async function listSessions(core: Core, input: SessionListInput): Promise<SessionPage> {
  const limit = input.limit ?? SESSIONS_PAGE;
  const componentId = input.component === undefined ? undefined : (await findComponentRow(core, input.component)).id;
  const after = input.cursor === undefined ? null : decodeSessionCursor(input.cursor);
  const sql = sqlDialect(core.config.dataDir);
  const task = sql.jsonString("c.callerMeta", "task");
  const lastAt = Prisma.sql`max(c."createdAt")`;
  const afterCursor = after
    ? Prisma.sql`HAVING ${lastAt} < ${sql.timestamp(new Date(after.lastMs))}
        OR (${lastAt} = ${sql.timestamp(new Date(after.lastMs))}
            AND (k."name" > ${after.component} OR (k."name" = ${after.component} AND ${task} > ${after.task})))`
    : Prisma.empty;
  const groups = await core.db.$queryRaw<GroupRow[]>(Prisma.sql`
    SELECT k."name" AS component, c."componentId" AS "componentId", ${task} AS task,
           min(c."createdAt") AS "startedAt", ${lastAt} AS "lastAt", count(*) AS steps
    FROM ${sql.table("Checkpoint")} c
    JOIN ${sql.table("Component")} k ON k."id" = c."componentId"
    WHERE c."status" <> 'deleted' AND ${task} IS NOT NULL AND ${task} <> ''
      ${componentId === undefined ? Prisma.empty : Prisma.sql`AND c."componentId" = ${componentId}`}
    GROUP BY c."componentId", k."name", ${task}
    ${afterCursor}
    ORDER BY "lastAt" DESC, component ASC, task ASC
    LIMIT ${limit + 1}`);
  const page = groups.slice(0, limit);
  const items: SessionView[] = [];
  for (const group of page) items.push(await describeSession(core, group));
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: groups.length > limit && last ? encodeSessionCursor({ lastMs: Date.parse(last.lastAt), component: last.component, task: last.task }) : null,
  };
}

/** The checkpoints of `task` taken at one instant, in id order. */
async function checkpointsAt(core: Core, componentId: string, task: string, at: Date): Promise<CheckpointFacts[]> {
  const rows = await core.db.checkpoint.findMany({ where: { componentId, createdAt: at, status: { not: "deleted" } }, select: FACTS, orderBy: { id: "asc" } });
  return rows.filter((row) => metaString(row.callerMeta, "task") === task);
}

async function describeSession(core: Core, group: GroupRow): Promise<SessionView> {
  const startedAt = dateOf(group.startedAt);
  const lastAt = dateOf(group.lastAt);
  const [atStart, atEnd] = await Promise.all([checkpointsAt(core, group.componentId, group.task, startedAt), checkpointsAt(core, group.componentId, group.task, lastAt)]);
  const first = atStart[0];
  const last = atEnd[atEnd.length - 1];
  if (!first || !last) throw new Error(`session ${group.task} of ${group.component}: its checkpoints changed while it was read`);
  const closing = await core.db.checkpoint.findFirst({
    where: { componentId: group.componentId, status: { not: "deleted" }, OR: [{ createdAt: { gt: last.createdAt } }, { createdAt: last.createdAt, id: { gt: last.id } }] },
    select: { id: true, createdAt: true },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  const changes = await netChangesBetween(core, group.componentId, first, closing ?? last);
  return {
    component: group.component,
    task: group.task,
    agent: metaString(first.callerMeta, "agent") ?? metaString(last.callerMeta, "agent"),
    startedAt: startedAt.toISOString(),
    lastAt: lastAt.toISOString(),
    steps: Number(group.steps),
    changes,
    firstCheckpointId: first.id,
    lastCheckpointId: last.id,
    rollbackTo: first.status === "active" ? first.id : null,
    closedBy: closing?.id ?? null,
  };
}
