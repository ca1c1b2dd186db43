/**
 * PostgreSQL failures as Safety Net errors whose message names what was being
 * reached (the metadata database, or a component's database target) and says
 * what is wrong in words: unreachable, refused credentials, no such database or
 * table, a full disk. Never the URL itself: it may hold a password.
 */
import { InvalidInputError, NotFoundError, OperationFailedError, SafetyNetError } from "../errors";

interface PgErrorShape {
  code?: string;
  message?: string;
  errno?: number;
  syscall?: string;
}

/** SQLSTATE classes and network errno codes worth their own words. */
function explain(error: PgErrorShape): { text: string; kind: "input" | "missing" | "failed" } {
  const code = error.code ?? "";
  const message = error.message ?? String(error);
  switch (code) {
    case "ECONNREFUSED":
      return { text: "the server refused the connection (is PostgreSQL running, on that host and port?)", kind: "failed" };
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return { text: "the host name does not resolve", kind: "failed" };
    case "ETIMEDOUT":
    case "ECONNRESET":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return { text: `the server is unreachable (${code})`, kind: "failed" };
    case "28P01":
    case "28000":
      return { text: `the server refused the credentials: ${message}`, kind: "input" };
    case "3D000":
      return { text: `the database does not exist: ${message}`, kind: "missing" };
    case "42P01":
      return { text: `a table does not exist: ${message}`, kind: "missing" };
    case "3F000":
      return { text: `a schema does not exist: ${message}`, kind: "missing" };
    case "53100":
      return { text: `the database server's disk is full: ${message}`, kind: "failed" };
    case "57P03":
      return { text: `the server is starting up or shutting down: ${message}`, kind: "failed" };
    default:
      return { text: message, kind: "failed" };
  }
}

/**
 * `subject` names what was being reached: "the metadata database host/db",
 * "database target postgres:APP_DB?schema=public"; `outcome` is appended ("nothing was restored").
 */
export function describePostgresError(error: unknown, subject: string, outcome?: string): SafetyNetError {
  if (error instanceof SafetyNetError) return error;
  const { text, kind } = explain((error ?? {}) as PgErrorShape);
  const message = `${subject}: ${text}${outcome ? `; ${outcome}` : ""}`;
  const details = { target: subject, sqlState: (error as PgErrorShape | null)?.code ?? null };
  if (kind === "input") return new InvalidInputError(message, details, { cause: error });
  if (kind === "missing") return new NotFoundError(message, details, { cause: error });
  return new OperationFailedError(message, details, { cause: error });
}
