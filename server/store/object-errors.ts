/** The two ways a stored object can fail its integrity check, reported the same way everywhere. */
import { IntegrityError } from "../errors";

export type ObjectState = "ok" | "corrupt" | "missing";

export function missingObjectError(sha256: string, path: string, cause?: unknown): IntegrityError {
  return new IntegrityError(`object ${sha256} is missing from the store`, { sha256, state: "missing", path }, cause === undefined ? undefined : { cause });
}

export function corruptObjectError(sha256: string, path: string, actualSha256?: string): IntegrityError {
  return new IntegrityError(
    `object ${sha256} is corrupt: its content does not hash to its name`,
    { sha256, state: "corrupt", path, ...(actualSha256 ? { actualSha256 } : {}) },
  );
}
