/**
 * The append-only history: one AuditEvent per operation (who, when, how long,
 * outcome, counts, bytes, checksum, error), mirrored as a structured log line.
 */
import type { Core, Actor } from "../core";
import { newId } from "../ids";
import { recordText, recordValue } from "../byte-paths";
import { sqlDialect } from "../db/sql-dialect";
import { anyContains, needsExactCheck, readMatching } from "../db/text-search";
import type { HistoryListInput } from "../schemas";
import { observeAuditEvent } from "./metrics";
import { storedProblems, type DamagedObject } from "../checkpoints/integrity-record";
import { storedRollbackFailure, type RollbackFailureDetails } from "./rollback-failure";
import { undoLinksOf, type UndoLinks } from "../rollback/undo-links";
import { attributionFilter, attributionOf, type CheckpointCaller, type EventAttribution } from "./attribution";

export interface AuditRecord {
  kind: string;
  component?: string | null;
  checkpointId?: string | null;
  actor: Actor;
  outcome: "succeeded" | "failed";
  startedAt: Date;
  durationMs: number;
  files?: number;
  bytes?: number;
  checksum?: string;
  error?: string;
  details?: Record<string, unknown>;
}

/**
 * An event ready to be written inside another operation's transaction (so the
 * operation and its history row land together or not at all): `write` is the
 * Prisma operation to put in the transaction, `announce` logs it and counts it
 * in the metrics once the transaction committed.
 */
export interface PreparedEvent {
  id: string;
  write: ReturnType<Core["db"]["auditEvent"]["create"]>;
  announce(): void;
}

export function prepareEvent(core: Core, record: AuditRecord): PreparedEvent {
  const id = newId("ev", record.startedAt.getTime());
  const { details, ...rest } = record;
  return {
    id,
    write: core.db.auditEvent.create({
      data: {
        id,
        kind: record.kind,
        component: record.component ?? null,
        checkpointId: record.checkpointId ?? null,
        actor: record.actor,
        outcome: record.outcome,
        startedAt: record.startedAt,
        durationMs: Math.round(record.durationMs),
        files: record.files ?? null,
        bytes: record.bytes === undefined ? null : BigInt(record.bytes),
        checksum: record.checksum ?? null,
        // A message or detail naming a path that is not UTF-8 is still recorded (shown with \xHH).
        error: record.error === undefined ? null : recordText(record.error),
        details: recordValue(details ?? {}) as object,
      },
    }),
    announce() {
      core.log[record.outcome === "failed" ? "error" : "info"]({ event: record.kind, eventId: id, ...rest, ...details }, `${record.kind} ${record.outcome}`);
      observeAuditEvent(record);
    },
  };
}

export async function recordEvent(core: Core, record: AuditRecord): Promise<string> {
  const event = prepareEvent(core, record);
  // Logged even when the database write fails (a full disk): the log line is then the only trace.
  event.announce();
  await event.write;
  return event.id;
}

/** An event, with what it was about (attribution.ts: reason, agent, task, session, rollbackId). */
export interface HistoryItem extends EventAttribution {
  id: string;
  kind: string;
  component: string | null;
  checkpointId: string | null;
  actor: string;
  outcome: string;
  startedAt: string;
  durationMs: number;
  files: number | null;
  bytes: number | null;
  checksum: string | null;
  error: string | null;
  details: unknown;
  /** A failed rollback: whether it ran and failed or was refused before any change (null for other events and older records). */
  rollbackFailure: RollbackFailureDetails | null;
  /** A rollback: the rollback it undid (null when it was no undo, or for other events). */
  undoOf: UndoLinks["undoOf"];
  /** A rollback: the rollback that undid it. */
  undoneBy: UndoLinks["undoneBy"];
}

/** What a history row needs to offer a rollback to a checkpoint it names (or an undo to a rollback's safety checkpoint). */
export interface HistoryCheckpoint {
  id: string;
  component: string;
  kind: string;
  status: string;
  verifyState: string;
  createdAt: string;
  reason: string | null;
  /** The damaged files the last check found (when verifyState is corrupt or missing). */
  damagedFiles: DamagedObject[];
}

export interface HistoryPage {
  items: HistoryItem[];
  nextCursor: string | null;
  /** The checkpoints the page's items name (checkpointId, a rollback's safetyCheckpointId), by id; absent ones were removed. */
  checkpoints: Record<string, HistoryCheckpoint>;
}

/**
 * The history, newest first. `actor` matches any part of the actor, case-insensitively
 * ("build-bot" finds "token:build-bot"), `_` and `%` included (text-search.ts).
 * `components`: only events of these components (a scoped token's list); null or absent: all.
 */
export async function listHistory(core: Core, input: HistoryListInput, options: { components?: readonly string[] | null } = {}): Promise<HistoryPage> {
  const limit = input.limit ?? 50;
  const actor = input.actor?.trim() || undefined;
  // A scoped token's history holds its components' events only (not the store-wide ones, which name no component).
  const component = input.component ?? (options.components ? { in: [...options.components] } : undefined);
  const dialect = sqlDialect(core.config.dataDir);
  const where = {
    ...(await attributionFilter(core, { agent: input.agent, task: input.task })),
    component,
    kind: input.failure ? "rollback" : input.kind,
    outcome: input.failure ? "failed" : input.outcome,
    details: input.failure ? dialect.jsonKeyContains("failure", input.failure) : undefined,
    actor: actor ? dialect.contains(actor) : undefined,
    startedAt: { gte: input.since ? new Date(input.since) : undefined, lte: input.until ? new Date(input.until) : undefined },
  };
  const found = await readMatching({
    want: limit + 1,
    exact: needsExactCheck(actor),
    read: (after: AuditEventRow | undefined, take) => {
      const cursor = after?.id ?? input.cursor;
      return core.db.auditEvent.findMany({ where: { ...where, id: cursor ? { lt: cursor } : undefined }, orderBy: { id: "desc" }, take });
    },
    matches: (row) => anyContains([row.actor], actor as string),
  });
  const page = found.slice(0, limit);
  const named = await checkpointsNamedBy(core, page);
  const items = await withUndoLinks(
    core,
    page.map((row) => toHistoryItem(row, row.checkpointId ? named.callers.get(row.checkpointId) : undefined)),
  );
  return { items, nextCursor: found.length > limit ? (page[page.length - 1]?.id ?? null) : null, checkpoints: named.checkpoints };
}

type AuditEventRow = Awaited<ReturnType<Core["db"]["auditEvent"]["findFirstOrThrow"]>>;

function toHistoryItem(row: AuditEventRow, checkpoint: CheckpointCaller | undefined): HistoryItem {
  return {
    ...attributionOf(row, checkpoint),
    id: row.id,
    kind: row.kind,
    component: row.component,
    checkpointId: row.checkpointId,
    actor: row.actor,
    outcome: row.outcome,
    startedAt: row.startedAt.toISOString(),
    durationMs: row.durationMs,
    files: row.files,
    bytes: row.bytes === null ? null : Number(row.bytes),
    checksum: row.checksum,
    error: row.error,
    details: row.details,
    rollbackFailure: row.kind === "rollback" && row.outcome === "failed" ? storedRollbackFailure(row.details) : null,
    undoOf: null,
    undoneBy: null,
  };
}

/** The rollback id a rollback (or recover) event names. */
function rollbackIdOf(item: HistoryItem): string | null {
  if (item.kind !== "rollback") return null;
  const id = (item.details as Record<string, unknown> | null)?.rollbackId;
  return typeof id === "string" ? id : null;
}

/** Which rollback each rollback event undid, and which undid it (rollback/undo-links.ts). */
async function withUndoLinks(core: Core, items: HistoryItem[]): Promise<HistoryItem[]> {
  const ids = [...new Set(items.flatMap((i) => rollbackIdOf(i) ?? []))];
  if (ids.length === 0) return items;
  const rows = await core.db.rollback.findMany({ where: { id: { in: ids } }, select: { id: true, componentId: true, checkpointId: true, safetyCheckpointId: true } });
  const links = await undoLinksOf(core, rows);
  return items.map((item) => {
    const link = links.get(rollbackIdOf(item) ?? "");
    return link ? { ...item, ...link } : item;
  });
}

/** The checkpoints the events name, as the page shows them, and their callers (for attribution). */
async function checkpointsNamedBy(
  core: Core,
  events: readonly AuditEventRow[],
): Promise<{ checkpoints: Record<string, HistoryCheckpoint>; callers: Map<string, CheckpointCaller> }> {
  const ids = new Set<string>();
  for (const event of events) {
    if (event.checkpointId) ids.add(event.checkpointId);
    const safety = (event.details as Record<string, unknown> | null)?.safetyCheckpointId;
    if (typeof safety === "string") ids.add(safety);
  }
  if (ids.size === 0) return { checkpoints: {}, callers: new Map() };
  const rows = await core.db.checkpoint.findMany({
    where: { id: { in: [...ids] } },
    select: { id: true, kind: true, status: true, verifyState: true, verifyProblems: true, createdAt: true, reason: true, callerMeta: true, component: { select: { name: true } } },
  });
  const callers = new Map(rows.map((r) => [r.id, { reason: r.reason, callerMeta: r.callerMeta }]));
  const checkpoints = Object.fromEntries(
    rows.map((r) => [
      r.id,
      {
        id: r.id,
        component: r.component.name,
        kind: r.kind,
        status: r.status,
        verifyState: r.verifyState,
        createdAt: r.createdAt.toISOString(),
        reason: r.reason,
        damagedFiles: r.verifyState === "corrupt" || r.verifyState === "missing" ? storedProblems(r.verifyProblems) : [],
      },
    ]),
  );
  return { checkpoints, callers };
}
