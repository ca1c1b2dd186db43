/**
 * A component's timeline: its checkpoints, rollbacks (outcome, duration),
 * verifications and removals (retention expiry, operator delete) on one time axis,
 * newest first, a page at a time.
 *
 * Each source is read with its own (component, time) index: Checkpoint
 * (componentId, createdAt), Rollback (componentId, startedAt), AuditEvent
 * (component, startedAt). A page takes the `limit + 1` newest rows of each source
 * before the cursor and merges them, so the cost of a page is independent of how
 * many items the component has; a date jump is the same query with the cursor at
 * the end of that day. Items are ordered by (time, source rank, id): at the same
 * instant an event comes above a rollback, a rollback above a checkpoint (a
 * rollback and its safety checkpoint share their start time), and ids break the
 * remaining ties. The cursor is that triple.
 */
import type { Core } from "../core";
import type { Prisma } from "../generated/prisma/client";
import { sqlDialect } from "../db/sql-dialect";
import { anyContains, needsExactCheck, readMatching } from "../db/text-search";
import { findComponentRow } from "../registry/components";
import { toCheckpointView, type CheckpointView } from "../checkpoints/queries";
import type { ComponentTimelineInput } from "../schemas";
import { undoLinksOf, type UndoLinks } from "../rollback/undo-links";
import { storedRollbackFailure, type RollbackFailureDetails } from "../audit/rollback-failure";

export const TIMELINE_PAGE = 25;
const DAY_MS = 86_400_000;

/** Audit kinds shown on the timeline besides checkpoints and rollbacks. */
const EVENT_KINDS = ["checkpoint.verify", "checkpoint.expire", "checkpoint.delete"] as const;
/** A checkpoint whose last check found these is damaged (the component list counts the same). */
const DAMAGED_STATES = ["corrupt", "missing"] as const;

export interface TimelineRollback {
  id: string;
  checkpointId: string;
  safetyCheckpointId: string | null;
  actor: string;
  outcome: string;
  startedAt: string;
  durationMs: number | null;
  restored: number;
  deleted: number;
  bytes: number;
  error: string | null;
  /** The rollback this one undid (it went back to that rollback's safety checkpoint), or null. */
  undoOf: UndoLinks["undoOf"];
  /** The rollback that undid this one, or null. */
  undoneBy: UndoLinks["undoneBy"];
  /** A failed rollback: refused by a check before any change, or ran and failed (from its history event; null otherwise). */
  failure: RollbackFailureDetails | null;
}

export interface TimelineEvent {
  id: string;
  kind: (typeof EVENT_KINDS)[number];
  checkpointId: string | null;
  actor: string;
  outcome: string;
  startedAt: string;
  durationMs: number;
  error: string | null;
  /** verify: state and damaged file count; expire: rule and reason. */
  state: string | null;
  problems: number | null;
  rule: string | null;
  reason: string | null;
}

export type TimelineItem =
  | { type: "checkpoint"; at: string; checkpoint: CheckpointView }
  | { type: "rollback"; at: string; rollback: TimelineRollback }
  | { type: "event"; at: string; event: TimelineEvent };

export interface TimelinePage {
  items: TimelineItem[];
  nextCursor: string | null;
}

/** At the same instant: events above rollbacks above checkpoints. */
const RANK = { checkpoint: 0, rollback: 1, event: 2 } as const;
type Source = keyof typeof RANK;

interface Position {
  ms: number;
  rank: number;
  /** The row id; "" sorts before every id of that instant and rank. */
  id: string;
}

export function parseTimelineCursor(cursor: string): Position {
  const [ms, rank, id] = cursor.split(":");
  return { ms: Number(ms), rank: Number(rank), id: id ?? "" };
}

function cursorOf(position: Position): string {
  return `${position.ms}:${position.rank}:${position.id}`;
}

/** Where a page starts: after the cursor, at the instant `at`, at the end of `day`, or at the newest item. */
function startOf(input: Pick<ComponentTimelineInput, "cursor" | "day" | "at">): Position | null {
  if (input.cursor) return parseTimelineCursor(input.cursor);
  // Above every rank at that millisecond: whatever happened at or before `at` follows.
  if (input.at) return { ms: Date.parse(input.at), rank: RANK.event + 1, id: "" };
  if (input.day) return { ms: Date.parse(`${input.day}T00:00:00Z`) + DAY_MS, rank: RANK.event + 1, id: "" };
  return null;
}

/** Rows of `source` strictly after `start` in (time, rank, id) descending order. */
function before(start: Position | null, timeField: string, source: Source): Record<string, unknown> {
  if (!start) return {};
  const at = new Date(start.ms);
  const rank = RANK[source];
  if (rank > start.rank) return { [timeField]: { lt: at } };
  if (rank < start.rank) return { [timeField]: { lte: at } };
  return { OR: [{ [timeField]: { lt: at } }, { [timeField]: at, id: { lt: start.id } }] };
}

function compareDesc(a: Position, b: Position): number {
  return b.ms - a.ms || b.rank - a.rank || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

export async function componentTimeline(core: Core, input: ComponentTimelineInput): Promise<TimelinePage> {
  const component = await findComponentRow(core, input.component);
  const limit = input.limit ?? TIMELINE_PAGE;
  const start = startOf(input);
  const q = input.q?.trim() || undefined;
  const dialect = sqlDialect(core.config.dataDir);

  const matchingQ = <F>(filters: (needle: string) => F[]) => (q ? { OR: filters(q) } : {});
  const checkpointWhere = (from: Position | null): Prisma.CheckpointWhereInput => ({
    AND: [
      input.damaged ? { componentId: component.id, status: "active", verifyState: { in: [...DAMAGED_STATES] } } : { componentId: component.id, status: { not: "deleted" } },
      before(from, "createdAt", "checkpoint"),
      matchingQ((n) => [
        { id: dialect.contains(n) },
        { reason: dialect.contains(n) },
        { actor: dialect.contains(n) },
        { callerMeta: dialect.jsonKeyContains("agent", n) },
        { callerMeta: dialect.jsonKeyContains("task", n) },
      ]),
    ],
  });
  const rollbackWhere = (from: Position | null): Prisma.RollbackWhereInput => ({
    AND: [
      { componentId: component.id },
      before(from, "startedAt", "rollback"),
      matchingQ((n) => [{ id: dialect.contains(n) }, { checkpointId: dialect.contains(n) }, { safetyCheckpointId: dialect.contains(n) }, { actor: dialect.contains(n) }]),
    ],
  });
  const eventWhere = (from: Position | null): Prisma.AuditEventWhereInput => ({
    AND: [
      { component: component.name, kind: { in: [...EVENT_KINDS] } },
      before(from, "startedAt", "event"),
      matchingQ((n) => [{ checkpointId: dialect.contains(n) }, { actor: dialect.contains(n) }]),
    ],
  });

  // Each source: its `limit + 1` newest rows after the start that match `q` (checked exactly when LIKE cannot be: text-search.ts).
  const exact = needsExactCheck(q);
  const newestMatching = <Row>(read: (from: Position | null, take: number) => Promise<Row[]>, positionOf: (row: Row) => Position, texts: (row: Row) => (string | null)[]) =>
    readMatching({ want: limit + 1, exact, read: (after: Row | undefined, take) => read(after ? positionOf(after) : start, take), matches: (row) => anyContains(texts(row), q as string) });
  const checkpointAt = (row: { createdAt: Date; id: string }): Position => ({ ms: row.createdAt.getTime(), rank: RANK.checkpoint, id: row.id });
  const rollbackAt = (row: { startedAt: Date; id: string }): Position => ({ ms: row.startedAt.getTime(), rank: RANK.rollback, id: row.id });
  const eventAt = (row: { startedAt: Date; id: string }): Position => ({ ms: row.startedAt.getTime(), rank: RANK.event, id: row.id });
  const newest = [{ createdAt: "desc" as const }, { id: "desc" as const }];
  const newestStarted = [{ startedAt: "desc" as const }, { id: "desc" as const }];

  const [checkpoints, rollbacks, events] = await Promise.all([
    newestMatching(
      (from, take) => core.db.checkpoint.findMany({ where: checkpointWhere(from), include: { component: true }, orderBy: newest, take }),
      checkpointAt,
      (row) => [row.id, row.reason, row.actor, ...metaTexts(row.callerMeta)],
    ),
    // The damaged view lists checkpoints only.
    input.damaged
      ? []
      : newestMatching((from, take) => core.db.rollback.findMany({ where: rollbackWhere(from), orderBy: newestStarted, take }), rollbackAt, (row) => [row.id, row.checkpointId, row.safetyCheckpointId, row.actor]),
    input.damaged ? [] : newestMatching((from, take) => core.db.auditEvent.findMany({ where: eventWhere(from), orderBy: newestStarted, take }), eventAt, (row) => [row.checkpointId, row.actor]),
  ]);

  const [undoLinks, failures] = await Promise.all([undoLinksOf(core, rollbacks), failuresOf(core, component.name, rollbacks)]);
  const merged: { at: Position; item: () => TimelineItem }[] = [
    ...checkpoints.map((row) => ({
      at: checkpointAt(row),
      item: (): TimelineItem => ({ type: "checkpoint", at: row.createdAt.toISOString(), checkpoint: toCheckpointView(row, core.store) }),
    })),
    ...rollbacks.map((row) => ({
      at: rollbackAt(row),
      item: (): TimelineItem => ({ type: "rollback", at: row.startedAt.toISOString(), rollback: toRollback(row, undoLinks.get(row.id), failures.get(row.id) ?? null) }),
    })),
    ...events.map((row) => ({
      at: eventAt(row),
      item: (): TimelineItem => ({ type: "event", at: row.startedAt.toISOString(), event: toEvent(row) }),
    })),
  ];
  merged.sort((a, b) => compareDesc(a.at, b.at));
  const page = merged.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page.map((m) => m.item()), nextCursor: merged.length > limit && last ? cursorOf(last.at) : null };
}

/** The caller metadata a search looks into: the agent and the task it named. */
function metaTexts(callerMeta: unknown): (string | null)[] {
  if (!callerMeta || typeof callerMeta !== "object") return [];
  const meta = callerMeta as Record<string, unknown>;
  return ["agent", "task"].map((key) => (typeof meta[key] === "string" ? (meta[key] as string) : null));
}

type RollbackRow = Awaited<ReturnType<Core["db"]["rollback"]["findFirstOrThrow"]>>;
type EventRow = Awaited<ReturnType<Core["db"]["auditEvent"]["findFirstOrThrow"]>>;

/**
 * How each failed rollback of a page failed, from its history event: an event and
 * its rollback row share the start time, so the (component, time) index finds them.
 */
async function failuresOf(core: Core, componentName: string, rows: readonly RollbackRow[]): Promise<Map<string, RollbackFailureDetails>> {
  const failed = rows.filter((r) => r.outcome === "failed");
  if (failed.length === 0) return new Map();
  const events = await core.db.auditEvent.findMany({
    where: { component: componentName, kind: "rollback", outcome: "failed", startedAt: { in: failed.map((r) => r.startedAt) } },
    select: { details: true },
  });
  const byRollback = new Map<string, RollbackFailureDetails>();
  for (const event of events) {
    const id = (event.details as Record<string, unknown> | null)?.rollbackId;
    const failure = storedRollbackFailure(event.details);
    if (typeof id === "string" && failure) byRollback.set(id, failure);
  }
  return byRollback;
}

function toRollback(row: RollbackRow, links: UndoLinks | undefined, failure: RollbackFailureDetails | null): TimelineRollback {
  return {
    id: row.id,
    checkpointId: row.checkpointId,
    safetyCheckpointId: row.safetyCheckpointId,
    actor: row.actor,
    outcome: row.outcome,
    startedAt: row.startedAt.toISOString(),
    durationMs: row.durationMs,
    restored: row.restored,
    deleted: row.deleted,
    bytes: Number(row.bytes),
    error: row.error,
    undoOf: links?.undoOf ?? null,
    undoneBy: links?.undoneBy ?? null,
    failure,
  };
}

function toEvent(row: EventRow): TimelineEvent {
  const details = (row.details ?? {}) as Record<string, unknown>;
  const text = (key: string) => (typeof details[key] === "string" ? (details[key] as string) : null);
  return {
    id: row.id,
    kind: row.kind as TimelineEvent["kind"],
    checkpointId: row.checkpointId,
    actor: row.actor,
    outcome: row.outcome,
    startedAt: row.startedAt.toISOString(),
    durationMs: row.durationMs,
    error: row.error,
    state: text("state"),
    problems: Array.isArray(details.problems) ? details.problems.length : null,
    rule: text("rule"),
    reason: text("reason"),
  };
}
