/**
 * Typed errors of the core. Each maps once to a CLI exit code (server/cli) and a
 * tRPC error code (server/api); nothing else decides how an error is reported.
 */
export type ErrorCode = "INVALID_INPUT" | "FORBIDDEN" | "NOT_FOUND" | "CONFLICT" | "INTEGRITY" | "NO_SPACE" | "FAILED";

export class SafetyNetError extends Error {
  readonly code: ErrorCode = "FAILED";
  /** Extra structured context for --json output and API error data (paths, ids). */
  readonly details: Record<string, unknown>;
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.details = details;
  }

  /**
   * `instanceof SafetyNetError` also holds for one thrown by another copy of this
   * module (the web build bundles the core more than once: an error thrown by the
   * core that startup opened would fail a plain `instanceof` in a route's copy and
   * lose its code). Recognized by its code and details; so is one of the subclasses
   * that bring a code of their own (an IntegrityError by "INTEGRITY"), while those
   * that share their parent's code (FileVanishedError) keep the plain check.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (!(value instanceof Error)) return false;
    const { code, details } = value as Error & { code?: unknown; details?: unknown };
    if (typeof code !== "string" || !(code in EXIT_CODES) || details === null || typeof details !== "object") return false;
    return this === SafetyNetError || OWN_CODES.get(this) === code;
  }
}

/** Bad usage or bad input: a path with `..`, an unknown option value, a root outside the allowed roots. */
export class InvalidInputError extends SafetyNetError {
  override readonly code = "INVALID_INPUT";
}
/** The caller may not do this to this resource (a scoped token moving a component's root). */
export class ForbiddenError extends SafetyNetError {
  override readonly code = "FORBIDDEN";
}
export class NotFoundError extends SafetyNetError {
  override readonly code = "NOT_FOUND";
}
/** Another mutating operation holds the component (or the store) lock, or a confirm token no longer matches. */
export class ConflictError extends SafetyNetError {
  override readonly code = "CONFLICT";
}
/** A file the scan listed was gone when it was read: something is changing the workspace right now. */
export class FileVanishedError extends ConflictError {}

/** A stored object is corrupt or missing: nothing was changed. */
export class IntegrityError extends SafetyNetError {
  override readonly code = "INTEGRITY";
}
/** The operation failed for an environmental reason (unreadable file, disk full). */
export class OperationFailedError extends SafetyNetError {
  override readonly code = "FAILED";
}

/**
 * No live server instance can reach the component's files now (several hosts on
 * one PostgreSQL metadata store: server/instances/): nothing was done; the same
 * call may work when that instance is back. A failed operation to the CLI (exit
 * 1); 503 over HTTP (details.unavailable says so across copies of this module).
 */
export class UnavailableError extends OperationFailedError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, { ...details, unavailable: true }, options);
  }
}

/**
 * A file kept changing while it was read: no two reads agreed on its content. A
 * checkpoint records it as unstable (no content) instead of failing.
 */
export class UnstableFileError extends OperationFailedError {}

/**
 * The object store's service (an S3 bucket) did not answer usefully even after
 * retries: 5xx, throttling, resets, time-outs. Nothing was decided about the
 * data; the same call may work later. A failed operation to the CLI (exit 1);
 * 503 over HTTP (details.unavailable says so across copies of this module).
 */
export class StorageUnavailableError extends OperationFailedError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, { ...details, unavailable: true }, options);
  }
}

/**
 * Not enough free space for the operation: refused before writing, or the disk filled up
 * while writing (nothing was kept; a rollback that stops part-way says instead that it is
 * partly applied and journaled: rollback/stopped.ts).
 */
export class InsufficientStorageError extends SafetyNetError {
  override readonly code = "NO_SPACE";
}

/** The subclasses recognized across copies of this module by their code (each the only class with it). */
const OWN_CODES = new Map<unknown, ErrorCode>([
  [InvalidInputError, "INVALID_INPUT"],
  [ForbiddenError, "FORBIDDEN"],
  [NotFoundError, "NOT_FOUND"],
  [ConflictError, "CONFLICT"],
  [IntegrityError, "INTEGRITY"],
  [InsufficientStorageError, "NO_SPACE"],
]);

export const EXIT_CODES: Record<ErrorCode, number> = {
  FAILED: 1,
  NO_SPACE: 1,
  INVALID_INPUT: 2,
  FORBIDDEN: 2,
  CONFLICT: 3,
  INTEGRITY: 4,
  NOT_FOUND: 5,
};

/** The error as a SafetyNetError (also one from another copy of this module), or null. */
export function asSafetyNetError(error: unknown): SafetyNetError | null {
  return error instanceof SafetyNetError ? error : null;
}

export function exitCodeOf(error: unknown): number {
  return error instanceof SafetyNetError ? EXIT_CODES[error.code] : 1;
}

/** Turns Node's errno failures into messages that name the culprit path. */
export function describeFsError(error: unknown, culprit: string): SafetyNetError {
  // Already described (by code that knew better which path was at fault).
  const described = asSafetyNetError(error);
  if (described) return described;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case "ENOSPC":
      return new InsufficientStorageError(`no space left on device while writing ${culprit}`, { path: culprit, errno: code }, { cause: error });
    case "EACCES":
    case "EPERM":
      return new OperationFailedError(`permission denied: ${culprit}`, { path: culprit, errno: code }, { cause: error });
    case "ENOENT":
      return new NotFoundError(`no such file or directory: ${culprit}`, { path: culprit, errno: code }, { cause: error });
    case "ENAMETOOLONG":
      // Only input can name such a path (the schemas refuse over-long names first; this is the backstop).
      return new InvalidInputError(`file name or path too long (a name may be at most 255 bytes, a path 4096): ${culprit}`, { path: culprit, errno: code }, { cause: error });
    case "EDQUOT":
      return new InsufficientStorageError(`disk quota exceeded while writing ${culprit}`, { path: culprit, errno: code }, { cause: error });
    default:
      return new OperationFailedError(`${culprit}: ${(error as Error)?.message ?? String(error)}`, { path: culprit, errno: code }, { cause: error });
  }
}
