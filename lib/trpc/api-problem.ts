/**
 * One description of a failed API call, whether it came from the browser client
 * (TRPCClientError: `data.code`, `data.httpStatus`) or from a server-side call in
 * a React Server Component (TRPCError: `code`). Pages decide what to tell the
 * operator from `kind`; the server's message is always shown verbatim.
 */
export type ProblemKind =
  | "unauthenticated"
  | "forbidden"
  | "not-found"
  | "conflict"
  | "invalid-input"
  | "integrity"
  | "unavailable"
  | "network"
  | "failed";

export interface ApiProblem {
  kind: ProblemKind;
  /** HTTP status (null when the server could not be reached). */
  status: number | null;
  /** tRPC error code, e.g. CONFLICT. */
  code: string;
  /** The server's message, verbatim. */
  message: string;
  /** The input field at fault, when the server named one (e.g. "confirmToken"). */
  field: string | null;
  /**
   * The server's structured details: `problems` (damaged files, 422), `obstacles`
   * (files in the way, 409), `reason` "role" or "scope" with `component` (403),
   * `pending` with `rollbackId` and `journal` (a rollback left partly applied).
   */
  details: Record<string, unknown> | null;
}

const STATUS_OF_CODE: Record<string, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_SUPPORTED: 405,
  TIMEOUT: 408,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
  PAYLOAD_TOO_LARGE: 413,
  UNPROCESSABLE_CONTENT: 422,
  TOO_MANY_REQUESTS: 429,
  CLIENT_CLOSED_REQUEST: 499,
  INTERNAL_SERVER_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  SERVICE_UNAVAILABLE: 503,
};

function kindOf(status: number | null): ProblemKind {
  switch (status) {
    case null:
      return "network";
    case 400:
      return "invalid-input";
    case 401:
      return "unauthenticated";
    case 403:
      return "forbidden";
    case 404:
      return "not-found";
    case 409:
      return "conflict";
    case 422:
      return "integrity";
    case 405:
    case 501:
    case 503:
      return "unavailable";
    default:
      return "failed";
  }
}

interface ClientErrorData {
  code?: unknown;
  httpStatus?: unknown;
  field?: unknown;
  details?: unknown;
}

function detailsOf(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

export function describeProblem(error: unknown): ApiProblem {
  const message = error instanceof Error ? error.message : String(error);
  const data = (error as { data?: ClientErrorData | null } | null)?.data;
  if (data && typeof data === "object" && typeof data.code === "string") {
    const status = typeof data.httpStatus === "number" ? data.httpStatus : (STATUS_OF_CODE[data.code] ?? 500);
    return { kind: kindOf(status), status, code: data.code, message, field: typeof data.field === "string" ? data.field : null, details: detailsOf(data.details) };
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code in STATUS_OF_CODE) {
    const status = STATUS_OF_CODE[code] ?? 500;
    const { field, details, cause } = error as { field?: unknown; details?: unknown; cause?: unknown };
    // Server side (React Server Components): the TRPCError itself, its core error as the cause.
    const coreDetails = detailsOf(details) ?? detailsOf((cause as { details?: unknown } | null)?.details);
    return { kind: kindOf(status), status, code, message, field: typeof field === "string" ? field : null, details: coreDetails };
  }
  // A TRPCClientError without data: the request never got a tRPC answer.
  if ((error as { name?: unknown } | null)?.name === "TRPCClientError") {
    return { kind: "network", status: null, code: "NETWORK", message, field: null, details: null };
  }
  return { kind: "failed", status: 500, code: "INTERNAL_SERVER_ERROR", message, field: null, details: null };
}

/** Worth retrying automatically: the server was unreachable or failed on its side. */
export function isTransient(problem: ApiProblem): boolean {
  return problem.status === null || problem.status >= 500;
}

/** A 403 because the token is limited to other components (not because of its role): the component it may not act on. */
export function scopeRefusal(problem: ApiProblem): string | null {
  if (problem.kind !== "forbidden" || problem.details?.reason !== "scope") return null;
  return typeof problem.details.component === "string" ? problem.details.component : null;
}

/** The damaged files a 422 names. */
export function damagedFilesOf(problem: ApiProblem): { path: string | null; state: string }[] {
  const problems = problem.details?.problems;
  if (!Array.isArray(problems)) return [];
  return problems
    .filter((p): p is { path: string | null; state: string } => typeof p === "object" && p !== null && typeof (p as { state?: unknown }).state === "string")
    .map((p) => ({ path: typeof p.path === "string" ? p.path : null, state: p.state }));
}

/** The paths a 409 obstacle refusal names: what the plan must restore and what is in the way. */
export function obstaclesOf(problem: ApiProblem): { path: string; inTheWay: string[] }[] {
  const obstacles = problem.details?.obstacles;
  if (!Array.isArray(obstacles)) return [];
  return obstacles
    .filter((o): o is { path: string; inTheWay: string[] } => typeof o === "object" && o !== null && typeof (o as { path?: unknown }).path === "string")
    .map((o) => ({ path: o.path, inTheWay: Array.isArray(o.inTheWay) ? o.inTheWay.filter((p): p is string => typeof p === "string") : [] }));
}

/** A rollback left pending (stopped part-way, journaled): what a rollback that stopped, or a change refused because of one, says. */
export interface PendingRollback {
  rollbackId: string | null;
  journal: string | null;
  /** null when nobody recorded how far it got (its process died). */
  partlyApplied: boolean | null;
  /** The command that completes it. */
  completeWith: string;
}

export function pendingRollbackOf(problem: ApiProblem): PendingRollback | null {
  const details = problem.details;
  if (details?.pending !== true) return null;
  const text = (value: unknown) => (typeof value === "string" ? value : null);
  return {
    rollbackId: text(details.rollbackId),
    journal: text(details.journal),
    partlyApplied: typeof details.partlyApplied === "boolean" ? details.partlyApplied : null,
    completeWith: text(details.completeWith) ?? "safetynet recover",
  };
}

/** Whether asking again as it is could succeed: a busy component or a server failure may pass; damage, a refused input, a missing role or id do not. */
export function retryCanHelp(problem: Pick<ApiProblem, "kind">): boolean {
  return problem.kind === "conflict" || problem.kind === "failed" || problem.kind === "network";
}
