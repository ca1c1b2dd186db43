/**
 * Routed jobs as records in the metadata store (RoutedJob): made by the instance
 * a caller asked, claimed by the instance that can reach the files, finished with
 * the result or the error the caller then gets. The claim is the at-most-once
 * guarantee: one conditional update moves a job from queued to running, so of
 * any number of workers that are handed it, one runs it; a cancelled job (its
 * caller gave up waiting for a pickup) is never claimed; nothing is retried.
 */
import type { Core } from "../core";
import {
  ConflictError,
  ForbiddenError,
  InsufficientStorageError,
  IntegrityError,
  InvalidInputError,
  NotFoundError,
  OperationFailedError,
  SafetyNetError,
  asSafetyNetError,
  type ErrorCode,
} from "../errors";
import { newId } from "../ids";
import { databaseNow } from "./registry";

export type JobState = "queued" | "running" | "succeeded" | "failed" | "cancelled";

/** A failure as it travels from the executing instance to the caller's. */
export interface JobError {
  /** The core's error code; null for an error the core did not type. */
  code: ErrorCode | null;
  message: string;
  details: Record<string, unknown>;
  /** Prisma's code (P2002, P2025), which the API maps too. */
  prismaCode?: string;
}

export interface JobRecord {
  id: string;
  operation: string;
  component: string | null;
  input: unknown;
  actor: string;
  requestedBy: string;
  instanceId: string;
  state: JobState;
  result: unknown;
  error: JobError | null;
  rollbackId: string | null;
  runId: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

type JobRow = Awaited<ReturnType<Core["db"]["routedJob"]["findUnique"]>>;

function toRecord(row: NonNullable<JobRow>): JobRecord {
  return { ...row, state: row.state as JobState, error: (row.error ?? null) as JobError | null, result: row.result ?? null };
}

export interface NewJob {
  operation: string;
  component: string | null;
  input: unknown;
  actor: string;
  requestedBy: string;
  instanceId: string;
}

export async function createJob(core: Core, job: NewJob): Promise<string> {
  const id = newId("job");
  await core.db.routedJob.create({ data: { id, ...job, input: job.input as object, state: "queued", createdAt: await databaseNow(core) } });
  return id;
}

export async function readJob(core: Core, id: string): Promise<JobRecord | null> {
  const row = await core.db.routedJob.findUnique({ where: { id } });
  return row ? toRecord(row) : null;
}

/**
 * Takes a queued job for this run: returns it, now running, or null when it is not
 * queued any more (claimed by another worker, cancelled, unknown). `rollbackId`:
 * for a rollback, the id it will get, recorded first so that recovery after a
 * crash can tell the caller how that rollback ended.
 */
export async function claimJob(core: Core, id: string, runId: string, options: { rollbackId?: (job: JobRecord) => string | null } = {}): Promise<JobRecord | null> {
  const row = await core.db.routedJob.findUnique({ where: { id } });
  if (!row || row.state !== "queued") return null;
  const rollbackId = options.rollbackId?.(toRecord(row)) ?? null;
  const { count } = await core.db.routedJob.updateMany({ where: { id, state: "queued" }, data: { state: "running", runId, rollbackId, startedAt: await databaseNow(core) } });
  if (count !== 1) return null;
  return { ...toRecord(row), state: "running", runId, rollbackId };
}

/** Records a running job's outcome; false when it was not running (settled meanwhile). */
export async function finishJob(core: Core, id: string, outcome: { result: unknown } | { error: JobError }): Promise<boolean> {
  const data = "error" in outcome ? { state: "failed", error: outcome.error as object } : { state: "succeeded", result: (outcome.result ?? null) as object };
  const { count } = await core.db.routedJob.updateMany({ where: { id, state: "running" }, data: { ...data, finishedAt: await databaseNow(core) } });
  return count === 1;
}

/** Withdraws a job nobody claimed yet; false when a worker already has it. */
export async function cancelQueuedJob(core: Core, id: string): Promise<boolean> {
  const { count } = await core.db.routedJob.updateMany({ where: { id, state: "queued" }, data: { state: "cancelled", finishedAt: await databaseNow(core) } });
  return count === 1;
}

/** Jobs an earlier run of this instance left running (its process died mid-job). */
/**
 * Jobs of this instance still marked running that nothing runs: an earlier run's, and, with `inProgress`, this
 * run's that ended without their outcome recorded (the metadata store was unreachable then).
 */
export async function orphanedJobs(core: Core, instanceId: string, currentRunId: string, inProgress?: ReadonlySet<string>): Promise<JobRecord[]> {
  const rows = await core.db.routedJob.findMany({
    where: { instanceId, state: "running", ...(inProgress ? {} : { NOT: { runId: currentRunId } }) },
    orderBy: { id: "asc" },
  });
  return rows.map(toRecord).filter((job) => !inProgress?.has(job.id));
}

export function serializeError(error: unknown): JobError {
  const known = asSafetyNetError(error);
  if (known) return { code: known.code, message: known.message, details: plainJson(known.details) };
  const prismaCode = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof prismaCode === "string" && /^P\d{4}$/.test(prismaCode)) return { code: null, message, details: {}, prismaCode };
  return { code: null, message, details: {} };
}

const ERROR_CLASS: Record<ErrorCode, new (message: string, details?: Record<string, unknown>) => SafetyNetError> = {
  INVALID_INPUT: InvalidInputError,
  FORBIDDEN: ForbiddenError,
  NOT_FOUND: NotFoundError,
  CONFLICT: ConflictError,
  INTEGRITY: IntegrityError,
  NO_SPACE: InsufficientStorageError,
  FAILED: OperationFailedError,
};

/** The error the executing instance raised, as the caller's instance throws it (same code, message and details). */
export function errorOfJob(error: JobError): Error {
  if (error.code) return new ERROR_CLASS[error.code](error.message, error.details);
  if (error.prismaCode) return Object.assign(new Error(error.message), { code: error.prismaCode });
  return new Error(error.message);
}

function plainJson(details: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(details, (_key, value: unknown) => (typeof value === "bigint" ? Number(value) : value))) as Record<string, unknown>;
  } catch {
    return {};
  }
}
