/**
 * The one place core errors become HTTP statuses (the CLI's counterpart is
 * EXIT_CODES in server/errors.ts):
 *
 *   INVALID_INPUT -> BAD_REQUEST            400  (exit 2)
 *   FORBIDDEN     -> FORBIDDEN              403  (exit 2)  allowed in general, not to this caller here
 *   NOT_FOUND     -> NOT_FOUND              404  (exit 5)
 *   CONFLICT      -> CONFLICT               409  (exit 3)
 *   INTEGRITY     -> UNPROCESSABLE_CONTENT  422  (exit 4)  a stored object is corrupt or missing;
 *                    nothing was changed; the request is valid but this checkpoint cannot serve it
 *                    (pick another checkpoint). 422 keeps it apart from crashes (500).
 *   NO_SPACE      -> (507 Insufficient Storage; tRPC has no such code, so the status is set
 *                    by the route's responseMeta)                 (exit 1)  nothing was kept
 *   FAILED        -> INTERNAL_SERVER_ERROR  500  (exit 1)
 *                    SERVICE_UNAVAILABLE    503  (exit 1)  with details.unavailable: the object store's
 *                    service did not answer, or no live instance can reach the component's files
 *                    (server/instances/); nothing was recorded; try again later
 *
 * Auth adds 401 (no or bad credentials) and 403 (role too low, component out of
 * scope); the route handler adds 413 (body over the limit); zod input errors are 400
 * with the field path in the message ("invalid paths.0: ...").
 */
import { TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { ZodError } from "zod";
import { asSafetyNetError, type ErrorCode } from "../errors";

export const TRPC_CODE_OF: Record<ErrorCode, TRPC_ERROR_CODE_KEY> = {
  INVALID_INPUT: "BAD_REQUEST",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  INTEGRITY: "UNPROCESSABLE_CONTENT",
  NO_SPACE: "INTERNAL_SERVER_ERROR",
  FAILED: "INTERNAL_SERVER_ERROR",
};

/** The same table as plain HTTP statuses, for route handlers outside tRPC (the cron route). */
export const HTTP_STATUS_OF: Record<ErrorCode, number> = { INVALID_INPUT: 400, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409, INTEGRITY: 422, NO_SPACE: 507, FAILED: 500 };

/** The HTTP status of an error whose core code has none among tRPC's codes (507); null otherwise. */
export function httpStatusOverride(error: unknown): number | null {
  const known = asSafetyNetError(error instanceof TRPCError ? error.cause : error);
  return known?.code === "NO_SPACE" ? HTTP_STATUS_OF.NO_SPACE : null;
}

export { asSafetyNetError };

/** Prisma's own codes for races the core does not pre-check. */
function prismaCode(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^P\d{4}$/.test(code) ? code : null;
}

/** Maps a thrown core error to the TRPCError that decides the HTTP status; null leaves it as is. */
export function toTRPCError(error: unknown): TRPCError | null {
  if (error instanceof TRPCError) return null;
  const known = asSafetyNetError(error);
  // A storage service that did not answer, or no live instance that reaches the files: the request may work later (503).
  if (known?.code === "FAILED" && known.details.unavailable === true) return new TRPCError({ code: "SERVICE_UNAVAILABLE", message: known.message, cause: known });
  if (known) return new TRPCError({ code: TRPC_CODE_OF[known.code], message: known.message, cause: known });
  switch (prismaCode(error)) {
    case "P2002":
      return new TRPCError({ code: "CONFLICT", message: "a record with this key was created concurrently; try again", cause: error });
    case "P2025":
      return new TRPCError({ code: "NOT_FOUND", message: "the record no longer exists", cause: error });
    default:
      return null;
  }
}

export interface ErrorDetailsData {
  /** The input field at fault, when there is one ("paths.0", "confirmToken"). */
  field: string | null;
  /** The core's error code (INVALID_INPUT, NOT_FOUND, CONFLICT, INTEGRITY, FAILED) when the core raised it. */
  safetynetCode: ErrorCode | null;
  details: Record<string, unknown> | null;
}

/** The message and data an API client sees for `error`. */
export function describeError(error: TRPCError, fallbackMessage: string): { message: string } & ErrorDetailsData {
  const cause = error.cause;
  const issues = validationIssues(cause);
  if (issues) {
    const issue = issues[0];
    const pathOf = (i: ValidationIssue | undefined) => (i?.path ?? []).map((p) => String(typeof p === "object" && p !== null ? p.key : p));
    const field = pathOf(issue).length > 0 ? pathOf(issue).join(".") : "input";
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem(s))` : "";
    return {
      message: `invalid ${field}: ${issue?.message ?? "bad input"}${more}`,
      field,
      safetynetCode: "INVALID_INPUT",
      details: { issues: issues.slice(0, 20).map((i) => ({ path: pathOf(i).join("."), message: i.message })) },
    };
  }
  const known = asSafetyNetError(cause);
  if (known) {
    const field = typeof known.details.field === "string" ? known.details.field : null;
    return { message: known.message, field, safetynetCode: known.code, details: jsonSafe(known.details) };
  }
  const { field, details } = error as TRPCError & { field?: unknown; details?: unknown };
  return {
    message: fallbackMessage,
    field: typeof field === "string" ? field : null,
    safetynetCode: null,
    details: details !== null && typeof details === "object" ? jsonSafe(details as Record<string, unknown>) : null,
  };
}

interface ValidationIssue {
  message: string;
  path?: ReadonlyArray<PropertyKey | { key: PropertyKey }>;
}

/** Issues of a zod (or any Standard Schema) validation failure. */
function validationIssues(cause: unknown): ValidationIssue[] | null {
  if (cause instanceof ZodError) return cause.issues;
  const issues = (cause as { issues?: unknown } | null | undefined)?.issues;
  return Array.isArray(issues) && issues.every((i) => typeof (i as ValidationIssue).message === "string") ? (issues as ValidationIssue[]) : null;
}

/** Details may carry BigInt or Error values; the wire format is plain JSON. */
function jsonSafe(details: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(details, (_key, value: unknown) => (typeof value === "bigint" ? Number(value) : value))) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** A TRPCError for bad input the router itself detects, naming the field. */
export function badInput(field: string, message: string): TRPCError {
  const error = new TRPCError({ code: "BAD_REQUEST", message: `invalid ${field}: ${message}` });
  return Object.assign(error, { field });
}
