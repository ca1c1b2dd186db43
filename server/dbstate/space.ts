/** Free-space checks before a database is copied anywhere: a refusal naming the target beats a full disk half-way. */
import { statfsSync } from "node:fs";
import { describeFsError, InsufficientStorageError } from "../errors";

export function freeBytes(dir: string): number {
  try {
    const { bavail, bsize } = statfsSync(dir);
    return bavail * bsize;
  } catch (error) {
    throw describeFsError(error, dir);
  }
}

const MIB = 1024 * 1024;
const asMiB = (bytes: number) => `${Math.ceil(bytes / MIB)} MiB`;

/** Refuses when `bytes` (plus a margin) would not fit in `dir`'s file system; `what` says what needs it. */
export function assertSpaceFor(dir: string, bytes: number, what: string, details: Record<string, unknown>): void {
  const free = freeBytes(dir);
  // A margin for the metadata and whatever else writes meanwhile.
  const needed = bytes + 16 * MIB;
  if (free >= needed) return;
  throw new InsufficientStorageError(`${what} needs about ${asMiB(needed)}, but only ${asMiB(free)} are free on the file system of ${dir}; nothing was written`, {
    ...details,
    neededBytes: needed,
    freeBytes: free,
    path: dir,
  });
}
