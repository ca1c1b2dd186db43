/**
 * The shapes every layer agrees on: what a scan yields and what a manifest holds.
 * A manifest is the immutable list of entries of one checkpoint, sorted by path,
 * stored as a content-addressed object; its sha256 is the checkpoint's checksum.
 */
import type { DatabaseSnapshot } from "../dbstate/snapshot-types";
import type { SparseInfo } from "../store/sparse-format";

export type EntryKind = "file" | "dir" | "symlink";

/** Why an entry is in a checkpoint (FR-001). */
export type InclusionReason = "primary" | "related-test" | "related-import" | "sibling";

/** One filesystem entry as the scanner saw it (paths are POSIX, relative to the component root). */
export interface ScannedEntry {
  path: string;
  kind: EntryKind;
  /** Permission bits only (mode & 0o7777). */
  mode: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  /** Files: the device and the number of names of the inode (hard links are found among files sharing dev and ino). */
  dev?: number;
  nlink?: number;
  /** Symlink target exactly as stored in the link (never followed). */
  linkTarget?: string;
  /** Files that may be sparse only (far fewer blocks allocated than their size): bytes allocated (st_blocks * 512). */
  allocated?: number;
}

export interface ManifestEntry {
  path: string;
  kind: EntryKind;
  mode: number;
  size: number;
  mtimeMs: number;
  /** sha256 of the content, files only. */
  sha256?: string;
  linkTarget?: string;
  /**
   * Files only: the file kept changing while it was read (no two reads agreed), so
   * the checkpoint holds no content for it (no sha256). Rollbacks of the checkpoint
   * leave the path alone.
   */
  unstable?: true;
  /**
   * Files only: this file is another name of the file at `hardlinkTo` (the first
   * of its names in path order, in the same checkpoint): one inode, same content.
   * A restore makes it a hard link to that file again.
   */
  hardlinkTo?: string;
  /**
   * Files only: the file is sparse (large holes), so `sha256` names its stored
   * representation (its data and where it goes, store/sparse-format.ts), not its
   * logical bytes; `size` is its apparent size, `dataBytes` the data it holds.
   * Holes are restored as holes. A file held sparse in one state and dense in
   * another compares as modified even when its bytes read the same.
   */
  sparse?: SparseInfo;
  reason: InclusionReason;
}

/**
 * What a checkpoint covers. `all`: every non-ignored entry under the root that the
 * component's include/exclude globs select. `paths`: exactly these relative paths;
 * a directory path covers its whole subtree.
 */
export type CheckpointScope = { kind: "all" } | { kind: "paths"; paths: string[] };

/**
 * Version 1: files only. Version 2 (a checkpoint taken with its databases) adds
 * `databases`, one snapshot per target: a reader that knows only version 1 refuses
 * it instead of restoring the files without the databases. Version 3 (some entry
 * is `sparse`) has `databases` too: a reader that does not know sparse entries
 * refuses it instead of writing a representation as a file's content.
 *
 * Version 4 is the tree format (tree-format.ts): a root record naming the root
 * folder's tree object. Read whole, it gives the same entries.
 */
export interface Manifest {
  version: 1 | 2 | 3 | 4;
  scope: CheckpointScope;
  databases?: DatabaseSnapshot[];
  entries: ManifestEntry[];
}

/** Entries by path, as far as a caller needs them (a whole manifest's map, or a few looked up in its trees). */
export interface EntryLookup {
  get(path: string): ManifestEntry | undefined;
}
