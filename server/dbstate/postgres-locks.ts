/**
 * Waiting for locks other sessions hold on a PostgreSQL target, bounded: a
 * snapshot or a restore waits at most SAFETYNET_DB_LOCK_TIMEOUT_MS for each lock
 * (lock_timeout; pg_dump --lock-wait-timeout), then gives up with a refusal that
 * names what was locked (exit 3), never a wait without end that keeps the
 * component locked.
 */
import { ConflictError } from "../errors";

export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;

/** How long one lock is waited for (SAFETYNET_DB_LOCK_TIMEOUT_MS), whole milliseconds. */
export function lockTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.SAFETYNET_DB_LOCK_TIMEOUT_MS);
  return Number.isFinite(value) && value > 0 ? Math.max(1, Math.round(value)) : DEFAULT_LOCK_TIMEOUT_MS;
}

/** The statement that takes a table's lock up front in a restore, so a refusal can name the table. */
export function lockTableStatement(qualifiedName: string): string {
  return `LOCK TABLE ${qualifiedName} IN ACCESS EXCLUSIVE MODE`;
}

/** A lock wait given up (SQLSTATE 55P03), with what was waited for: "table public.orders". */
export class LockWaitError extends Error {
  constructor(readonly waitedFor: string) {
    super(`lock wait given up: ${waitedFor}`);
  }
}

export function isLockTimeout(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "55P03";
}

/**
 * What the statement that gave up was waiting for: the table of a LOCK TABLE
 * (ours, or pg_dump's "LOCK TABLE public.orders IN ACCESS SHARE MODE"), else the
 * statement itself.
 */
export function waitedForIn(statement: string): string {
  const text = statement.trim().replace(/;$/, "");
  const lock = /^LOCK TABLE (?:ONLY )?(.+?) IN [A-Z ]+ MODE$/i.exec(text);
  if (lock) return `table ${lock[1]}`;
  return `what "${text.length > 200 ? `${text.slice(0, 200)}…` : text}" needs`;
}

/** The refusal: names the target, what another session kept locked, the bound, and what did not happen (`outcome`). */
export function lockRefusal(targetName: string, waitedFor: string, timeoutMs: number, outcome: string): ConflictError {
  return new ConflictError(
    `database target ${targetName}: another session holds a lock on ${waitedFor} and kept it longer than SAFETYNET_DB_LOCK_TIMEOUT_MS (${timeoutMs} ms); ${outcome}, try again when it is done`,
    { target: targetName, waitedFor, lockTimeoutMs: timeoutMs },
  );
}
