/**
 * Sessions: a component's checkpoints grouped by the task their caller named
 * (`--task`, `--meta task=...`, an agent hook's session id), latest activity
 * first, a page at a time. See ./README.md for what a session's facts mean.
 *
 * One GROUP BY over the checkpoints (through the (componentId, createdAt) index
 * when a component is named) finds a page of sessions; three more statements
 * describe the whole page: the sessions' first and last checkpoints, the
 * checkpoint after each (indexed range reads), and the net changes over each
 * session's change records (./net-changes.ts). Nothing reads the trees.
 */
import type { Core } from "../core";
import { Prisma } from "../generated/prisma/client";
import { sqlDialect } from "../db/sql-dialect";
import { findComponentRow } from "../registry/components";
import type { ChangeCounts } from "../checkpoints/change-records";
import type { SessionListInput } from "../schemas";
import { decodeSessionCursor, encodeSessionCursor } from "./cursor";
import { netChangesOf, type CheckpointMark } from "./net-changes";

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
  /** Where a page that ends with this session stops: pass it as `cursor` for the sessions after it (a client that shows only part of a page resumes exactly). */
  cursor: string;
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
  maxId: string;
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

/** `options.components` narrows the list to those components (a scoped token's); null or absent: every component. */
export async function listSessions(core: Core, input: SessionListInput, options: { components?: readonly string[] | null } = {}): Promise<SessionPage> {
  const limit = input.limit ?? SESSIONS_PAGE;
  const componentId = input.component === undefined ? undefined : (await findComponentRow(core, input.component)).id;
  const narrowedTo = input.component === undefined && options.components ? [...options.components] : null;
  if (narrowedTo?.length === 0) return { items: [], nextCursor: null };
  const after = input.cursor === undefined ? null : decodeSessionCursor(input.cursor);
  const sql = sqlDialect(core.config.dataDir);
  const task = sql.jsonString("c.callerMeta", "task");
  const lastAt = Prisma.sql`max(c."createdAt")`;
  const afterCursor = after
    ? Prisma.sql`HAVING ${lastAt} < ${sql.timestamp(new Date(after.lastMs))}
        OR (${lastAt} = ${sql.timestamp(new Date(after.lastMs))} AND max(c."id") < ${after.maxId})`
    : Prisma.empty;
  const groups = await core.db.$queryRaw<GroupRow[]>(Prisma.sql`
    SELECT k."name" AS component, c."componentId" AS "componentId", ${task} AS task,
           min(c."createdAt") AS "startedAt", ${lastAt} AS "lastAt", count(*) AS steps, max(c."id") AS "maxId"
    FROM ${sql.table("Checkpoint")} c
    JOIN ${sql.table("Component")} k ON k."id" = c."componentId"
    WHERE c."status" <> 'deleted' AND ${task} IS NOT NULL AND ${task} <> ''
      ${componentId === undefined ? Prisma.empty : Prisma.sql`AND c."componentId" = ${componentId}`}
      ${narrowedTo === null ? Prisma.empty : Prisma.sql`AND k."name" IN (${Prisma.join(narrowedTo)})`}
    GROUP BY c."componentId", k."name", ${task}
    ${afterCursor}
    ORDER BY "lastAt" DESC, "maxId" DESC
    LIMIT ${limit + 1}`);
  const page = groups.slice(0, limit);
  const items = await describeSessions(core, page);
  const last = page[page.length - 1];
  return {
    items,
    nextCursor: groups.length > limit && last ? cursorAfter(last) : null,
  };
}

function cursorAfter(group: GroupRow): string {
  return encodeSessionCursor({ lastMs: dateOf(group.lastAt).getTime(), maxId: group.maxId });
}

interface SessionEnds {
  first: CheckpointFacts;
  last: CheckpointFacts;
}

/**
 * Each session's first and last checkpoint: the checkpoints of its component at
 * its first and last instant (one indexed lookup for the page), those of its task.
 */
async function endsOf(core: Core, groups: readonly GroupRow[]): Promise<SessionEnds[]> {
  const rows = await core.db.checkpoint.findMany({
    where: {
      status: { not: "deleted" },
      OR: groups.map((g) => ({ componentId: g.componentId, createdAt: { in: [dateOf(g.startedAt), dateOf(g.lastAt)] } })),
    },
    select: { ...FACTS, componentId: true },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  return groups.map((g) => {
    const mine = rows.filter((row) => row.componentId === g.componentId && metaString(row.callerMeta, "task") === g.task);
    const first = mine.find((row) => row.createdAt.getTime() === dateOf(g.startedAt).getTime());
    const last = mine.findLast((row) => row.createdAt.getTime() === dateOf(g.lastAt).getTime());
    if (!first || !last) throw new Error(`session ${g.task} of ${g.component}: its checkpoints changed while it was read`);
    return { first, last };
  });
}

/**
 * For each session, the component's next checkpoint after its last one (any task,
 * any kind): one ordered range read of the (componentId, createdAt) index per
 * session, all in one statement.
 */
async function closingOf(core: Core, groups: readonly GroupRow[], ends: readonly SessionEnds[]): Promise<(CheckpointMark | null)[]> {
  const sql = sqlDialect(core.config.dataDir);
  const arms = groups.map((g, n) => {
    const last = (ends[n] as SessionEnds).last;
    const at = sql.timestamp(last.createdAt);
    return Prisma.sql`SELECT * FROM (
      SELECT ${Prisma.raw(String(n))} AS n, c."id" AS id, c."createdAt" AS "createdAt" FROM ${sql.table("Checkpoint")} c
      WHERE c."componentId" = ${g.componentId} AND c."status" <> 'deleted' AND c."createdAt" >= ${at} AND NOT (c."createdAt" = ${at} AND c."id" <= ${last.id})
      ORDER BY c."createdAt", c."id" LIMIT 1) ${Prisma.raw(`s${n}`)}`;
  });
  const rows = await core.db.$queryRaw<{ n: bigint | number; id: string; createdAt: Date | string }[]>(Prisma.join(arms, " UNION ALL "));
  const closing: (CheckpointMark | null)[] = groups.map(() => null);
  for (const row of rows) closing[Number(row.n)] = { id: row.id, createdAt: dateOf(row.createdAt) };
  return closing;
}

async function describeSessions(core: Core, groups: readonly GroupRow[]): Promise<SessionView[]> {
  if (groups.length === 0) return [];
  const ends = await endsOf(core, groups);
  const closing = await closingOf(core, groups, ends);
  const changes = await netChangesOf(
    core,
    groups.map((g, n) => ({ componentId: g.componentId, from: (ends[n] as SessionEnds).first, through: closing[n] ?? (ends[n] as SessionEnds).last })),
  );
  return groups.map((group, n) => {
    const { first, last } = ends[n] as SessionEnds;
    return {
      component: group.component,
      task: group.task,
      agent: metaString(first.callerMeta, "agent") ?? metaString(last.callerMeta, "agent"),
      startedAt: dateOf(group.startedAt).toISOString(),
      lastAt: dateOf(group.lastAt).toISOString(),
      steps: Number(group.steps),
      changes: changes[n] ?? { added: 0, modified: 0, deleted: 0 },
      firstCheckpointId: first.id,
      lastCheckpointId: last.id,
      rollbackTo: first.status === "active" ? first.id : null,
      closedBy: closing[n]?.id ?? null,
      cursor: cursorAfter(group),
    };
  });
}
