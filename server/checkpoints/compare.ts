/**
 * Compares two manifests of the same scope (a checkpoint and the live state) and
 * classifies every path. Rollback planning and `checkpoint diff` share it.
 */
import type { ManifestEntry } from "./manifest-types";

/** link-changed: the same content, but the file is (or is no longer) another name of an earlier file (a hard link). */
export type ChangeKind = "added" | "modified" | "deleted" | "mode-changed" | "type-changed" | "link-changed" | "mtime-changed";

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
  /**
   * Paths the checkpoint recorded as unstable (kept changing while it was read): it
   * holds no content for them, so they are neither changes nor unchanged, and a
   * rollback leaves them alone.
   */
  unstable: string[];
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

/**
 * A sparse file's sha256 names its representation, not its bytes: it equals
 * another sparse state of the same content (holes anywhere the data is zero),
 * never a dense file's. A file sparse on one side and dense on the other is
 * modified even when its bytes read the same: telling would mean hashing every
 * byte of the sparse one's apparent size. A rollback then writes it as the
 * checkpoint held it, which loses nothing.
 */
function sameContent(a: ManifestEntry, b: ManifestEntry): boolean {
  if (a.kind === "file") return a.sha256 === b.sha256 && (a.sparse === undefined) === (b.sparse === undefined);
  if (a.kind === "symlink") return a.linkTarget === b.linkTarget;
  return true;
}

/** How an entry changed between two states of one path, or null when it did not. */
export function classifyChange(old: ManifestEntry, now: ManifestEntry): ChangeKind | null {
  if (now.kind !== old.kind) return "type-changed";
  if (!sameContent(old, now)) return "modified";
  if (old.hardlinkTo !== now.hardlinkTo) return "link-changed";
  if (now.mode !== old.mode) return "mode-changed";
  // Directory mtimes move whenever a child changes; they are restored, but not reported as a change of their own.
  if (old.kind === "file" && !sameMtime(now.mtimeMs, old.mtimeMs)) return "mtime-changed";
  return null;
}

function isSorted(entries: readonly ManifestEntry[]): boolean {
  for (let i = 1; i < entries.length; i++) if ((entries[i - 1] as ManifestEntry).path >= (entries[i] as ManifestEntry).path) return false;
  return true;
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * `before` is the checkpoint, `after` the live state. Both come sorted by path
 * (manifests and scans are), so this is a merge of two sorted lists: it runs on
 * every rollback over every entry and allocates only for what changed.
 */
export function compareManifests(before: readonly ManifestEntry[], after: readonly ManifestEntry[]): ManifestComparison {
  const olds = isSorted(before) ? before : [...before].sort(byPath);
  const nows = isSorted(after) ? after : [...after].sort(byPath);
  const changes: PathChange[] = [];
  const unstable: string[] = [];
  let unchanged = 0;
  let i = 0;
  let j = 0;
  while (i < olds.length || j < nows.length) {
    const old = olds[i];
    const now = nows[j];
    if (now === undefined || (old !== undefined && old.path < now.path)) {
      if (old?.unstable) unstable.push(old.path);
      else changes.push({ path: (old as ManifestEntry).path, change: "deleted", before: old });
      i++;
    } else if (old === undefined || now.path < old.path) {
      changes.push({ path: now.path, change: "added", after: now });
      j++;
    } else if (old.unstable) {
      unstable.push(old.path);
      i++;
      j++;
    } else {
      const change = classifyChange(old, now);
      if (change) changes.push({ path: old.path, change, before: old, after: now });
      else unchanged++;
      i++;
      j++;
    }
  }
  return { changes, unchanged, unstable };
}

/**
 * A nested repository's `.git` that the checkpoint does not hold, inside a folder
 * it does hold, is no change: checkpoints taken before nested `.git` folders were
 * captured hold none, and a rollback to one must never delete a repository's
 * history (nor a `git init` made since inside a folder of the checkpoint). A
 * nested repository whose folder the checkpoint does not hold at all is added
 * with its folder, like anything else.
 */
export function withoutUnheldNestedGit(comparison: ManifestComparison): ManifestComparison {
  const { changes } = comparison;
  const notHeldAsFolder = new Set<string>();
  const gitDirs: string[] = [];
  for (const c of changes) {
    if (c.change !== "added" && !(c.change === "type-changed" && c.before?.kind !== "dir")) continue;
    notHeldAsFolder.add(c.path);
    if (c.change === "added" && c.path.endsWith("/.git")) gitDirs.push(c.path);
  }
  const dropped = new Set(gitDirs.filter((gitDir) => !notHeldAsFolder.has(gitDir.slice(0, -"/.git".length))));
  if (dropped.size === 0) return comparison;
  const inDropped = (p: string) => {
    for (let i = p.indexOf("/.git"); i >= 0; i = p.indexOf("/.git", i + 1)) {
      const end = i + "/.git".length;
      if ((end === p.length || p.charCodeAt(end) === 47) && dropped.has(p.slice(0, end))) return true;
    }
    return false;
  };
  return { ...comparison, changes: changes.filter((c) => !inDropped(c.path)) };
}
