/**
 * The append-only history: one AuditEvent per operation (who, when, how long,
 * outcome, counts, bytes, checksum, error), mirrored as a structured log line.
 */
import type { Core, Actor } from "../core";
import { newId } from "../ids";
import type { HistoryListInput } from "../schemas";
import { observeAuditEvent } from "./metrics";

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
        error: record.error ?? null,
        details: (details ?? {}) as object,
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

export interface HistoryItem {
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
}

export async function listHistory(core: Core, input: HistoryListInput): Promise<{ items: HistoryItem[]; nextCursor: string | null }> {
  const limit = input.limit ?? 50;
  const rows = await core.db.auditEvent.findMany({
    where: {
      component: input.component,
      kind: input.kind,
      outcome: input.outcome,
      actor: input.actor,
      startedAt: { gte: input.since ? new Date(input.since) : undefined, lte: input.until ? new Date(input.until) : undefined },
      id: input.cursor ? { lt: input.cursor } : undefined,
    },
    orderBy: { id: "desc" },
    take: limit + 1,
  });
  const page = rows.slice(0, limit);
  return {
    items: page.map((row) => ({
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
    })),
    nextCursor: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
  };
}
