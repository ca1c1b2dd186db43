/**
 * Compares two manifests of the same scope (a checkpoint and the live state) and
 * classifies every path. Rollback planning and `checkpoint diff` share it.
 */
import type { ManifestEntry } from "./manifest-types";

export type ChangeKind = "added" | "modified" | "deleted" | "mode-changed" | "type-changed" | "mtime-changed";

export interface PathChange {
  path: string;
  change: ChangeKind;
  /** Entry in the checkpoint (absent for "added"). */
  before?: ManifestEntry;
  /** Entry in the live tree (absent for "deleted"). */
  after?: ManifestEntry;
}

export interface ManifestComparison {
  changes: PathChange[];
  unchanged: number;
}

/**
 * A restored mtime is only exact to the microsecond: Node's utimes() goes through
 * libuv, which passes seconds as a double and truncates to whole microseconds.
 * Mtimes this close are the same mtime; otherwise every file a rollback wrote would
 * look changed again right after it (and the next plan would "restore" it again).
 */
export const MTIME_TOLERANCE_MS = 0.002;

export function sameMtime(a: number, b: number): boolean {
  return Math.abs(a - b) <= MTIME_TOLERANCE_MS;
}

function sameContent(a: ManifestEntry, b: ManifestEntry): boolean {
  if (a.kind === "file") return a.sha256 === b.sha256;
  if (a.kind === "symlink") return a.linkTarget === b.linkTarget;
  return true;
}

/** `before` is the checkpoint, `after` the live state; both sorted by path. */
export function compareManifests(before: readonly ManifestEntry[], after: readonly ManifestEntry[]): ManifestComparison {
  const changes: PathChange[] = [];
  let unchanged = 0;
  const afterByPath = new Map(after.map((e) => [e.path, e]));
  for (const old of before) {
    const now = afterByPath.get(old.path);
    if (!now) changes.push({ path: old.path, change: "deleted", before: old });
    else if (now.kind !== old.kind) changes.push({ path: old.path, change: "type-changed", before: old, after: now });
    else if (!sameContent(old, now)) changes.push({ path: old.path, change: "modified", before: old, after: now });
    else if (now.mode !== old.mode) changes.push({ path: old.path, change: "mode-changed", before: old, after: now });
    // Directory mtimes move whenever a child changes; they are restored, but not reported as a change of their own.
    else if (old.kind === "file" && !sameMtime(now.mtimeMs, old.mtimeMs)) changes.push({ path: old.path, change: "mtime-changed", before: old, after: now });
    else unchanged++;
    afterByPath.delete(old.path);
  }
  for (const now of afterByPath.values()) changes.push({ path: now.path, change: "added", after: now });
  changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { changes, unchanged };
}
