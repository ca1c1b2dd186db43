/**
 * Tree manifests: a checkpoint's entries as a Merkle tree, one object per folder,
 * content-addressed in the object store like file contents. A folder that did not
 * change between two checkpoints is the same object in both, so a checkpoint
 * writes only the folders on the paths that changed, and anything comparing two
 * checkpoints skips a subtree whose hash is equal on both sides.
 *
 * A tree object is canonical JSON: a header with the subtree's totals, then one
 * line per child sorted by name. A folder child carries the hash of its own tree;
 * one that is only on the way to a checkpoint's paths (a partial checkpoint does
 * not record the folders above its paths) is `implicit`: no mode, mtime or reason.
 *
 * A folder of more than PAGED_FROM children is stored as pages: its tree object
 * is an index (the totals and the hashes of its pages, in order) and each page
 * holds a run of its children. Pages end after a child whose name hashes to a
 * chosen value, so adding or removing a name changes its own page and the index
 * only: a change in a folder of thousands of files writes about PAGE_SPLIT
 * children's worth, not the whole folder. A smaller folder is one object, as
 * it always was (its hash did not change with pages).
 *
 * The checkpoint's checksum is the hash of its root record: version 4, scope,
 * database snapshots and the root tree's hash.
 */
import { IntegrityError } from "../errors";
import { sha256Hex } from "../store/sha256";
import type { CheckpointScope, EntryKind, InclusionReason, ManifestEntry } from "./manifest-types";
import { canonicalSnapshot, type DatabaseSnapshot } from "../dbstate/snapshot-types";

export const TREE_MANIFEST_VERSION = 4;

/** What a subtree holds, all levels down (the folder itself not counted). */
export interface TreeTotals {
  files: number;
  dirs: number;
  symlinks: number;
  /** Apparent bytes of the files. */
  bytes: number;
}

/** One child of a folder: a manifest entry without its folder part, or a link to a subtree. */
export interface TreeChild {
  name: string;
  kind: EntryKind;
  /** Absent only for an implicit folder. */
  mode?: number;
  size?: number;
  mtimeMs?: number;
  sha256?: string;
  linkTarget?: string;
  unstable?: true;
  hardlinkTo?: string;
  sparse?: { dataBytes: number };
  /** Folders: the hash of their tree object. */
  tree?: string;
  /** Folders above a partial checkpoint's paths: on the way, not an entry of the checkpoint. */
  implicit?: true;
  reason?: InclusionReason;
}

export interface TreeObject extends TreeTotals {
  children: TreeChild[];
  /** A paged folder: the page objects its children are in (a decoded index has no children yet; tree-read.ts reads them). */
  pages?: string[];
  /** A page of a paged folder (its totals are the index's, not its own). */
  page?: 1;
  /** In memory only, for a paged folder read or built whole: how many of `children` each page holds, in order. */
  pageSizes?: number[];
}

/** A folder with more children than this is stored as pages. */
export const PAGED_FROM = 128;
/** A page ends after a child whose name's hash is 0 modulo this: pages of about this many children. */
const PAGE_SPLIT = 64;
/** ...or when it holds this many (a long run of names none of which ends a page). */
const PAGE_MAX = 4 * PAGE_SPLIT;

export interface RootRecord {
  version: typeof TREE_MANIFEST_VERSION;
  scope: CheckpointScope;
  databases: DatabaseSnapshot[];
  /** Hash of the root folder's tree object. */
  root: string;
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON must escape
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Quotes a string as JSON; names are carried with lone surrogates for bytes that are not UTF-8 (server/byte-paths.ts), which JSON escapes. */
export function jsonString(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The canonical bytes of a folder's tree object (children sorted by name). */
export function encodeTree(children: readonly TreeChild[], totals: TreeTotals): string {
  const sorted = isSortedByName(children) ? children : [...children].sort((a, b) => compareNames(a.name, b.name));
  const lines = new Array<string>(sorted.length);
  for (let i = 0; i < sorted.length; i++) lines[i] = encodeChild(sorted[i] as TreeChild);
  const header = `{"tree":1,"files":${totals.files},"dirs":${totals.dirs},"symlinks":${totals.symlinks},"bytes":${totals.bytes},"children":[`;
  return lines.length === 0 ? `${header}]}\n` : `${header}\n${lines.join(",\n")}\n]}\n`;
}

/** How a page of a paged folder's tree starts (and nothing else does). */
export const PAGE_PREFIX = '{"page":1,"children":[\n';

/**
 * Encodes a folder's tree object (and, for a large folder, its pages), hands
 * each object to `emit` and returns the hash that names the folder.
 */
export function emitFolder(children: readonly TreeChild[], totals: TreeTotals, emit: (sha256: string, bytes: string) => void): string {
  return emitFolderTree(children, totals, emit).sha256;
}

/**
 * emitFolder, also returning the folder's tree as it would be read back. With
 * `previous` (the folder's tree this one is a change of, whole, with its page
 * sizes), a page of it whose children are the same objects, in the same run,
 * is the same page: it is neither encoded nor emitted again (whoever holds
 * `previous` holds its pages in the store), so a change in a folder of
 * thousands of children costs the pages it touches. The returned tree holds
 * `children` itself when it is sorted (it must not be changed afterwards).
 */
export function emitFolderTree(children: readonly TreeChild[], totals: TreeTotals, emit: (sha256: string, bytes: string) => void, previous?: TreeObject): { sha256: string; tree: TreeObject } {
  const sorted = isSortedByName(children) ? children : [...children].sort((a, b) => compareNames(a.name, b.name));
  const own = { files: totals.files, dirs: totals.dirs, symlinks: totals.symlinks, bytes: totals.bytes };
  if (sorted.length <= PAGED_FROM) {
    const bytes = encodeTree(sorted, totals);
    const sha = sha256Hex(Buffer.from(bytes, "utf8"));
    emit(sha, bytes);
    return { sha256: sha, tree: { ...own, children: sorted as TreeChild[] } };
  }
  const reusable = reusablePages(previous);
  const pages: string[] = [];
  const pageSizes: number[] = [];
  let lines: string[] = [];
  const endPage = () => {
    const bytes = `${PAGE_PREFIX}${lines.join(",\n")}\n]}\n`;
    const sha = sha256Hex(Buffer.from(bytes, "utf8"));
    emit(sha, bytes);
    pages.push(sha);
    pageSizes.push(lines.length);
    lines = [];
  };
  for (let i = 0; i < sorted.length; ) {
    if (lines.length === 0 && reusable) {
      const same = reusable.pageAt(sorted, i);
      if (same) {
        pages.push(same.sha256);
        pageSizes.push(same.size);
        i += same.size;
        continue;
      }
    }
    const child = sorted[i] as TreeChild;
    lines.push(encodeChild(child));
    if (endsPage(child, lines.length)) endPage();
    i++;
  }
  if (lines.length > 0) endPage();
  const bytes = `{"tree":1,"files":${totals.files},"dirs":${totals.dirs},"symlinks":${totals.symlinks},"bytes":${totals.bytes},"pages":[\n${pages.map((p) => `"${p}"`).join(",\n")}\n]}\n`;
  const sha = sha256Hex(Buffer.from(bytes, "utf8"));
  emit(sha, bytes);
  return { sha256: sha, tree: { ...own, children: sorted as TreeChild[], pages, pageSizes } };
}

/** Whether a page ends after `child`, its `count`th child: where pages end depends on the names alone. */
function endsPage(child: TreeChild, count: number): boolean {
  return nameHash(child.name) % PAGE_SPLIT === 0 || count === PAGE_MAX;
}

/**
 * The pages of `previous` that can be taken over whole, found by their first
 * child. A page starting at the same child object and followed by the same
 * objects holds the same lines; it ends at the same place when it ended by the
 * rule (a page that ended with the folder ends there only if the folder does).
 */
function reusablePages(previous: TreeObject | undefined): { pageAt(sorted: readonly TreeChild[], at: number): { sha256: string; size: number } | null } | null {
  const sizes = previous?.pageSizes;
  const pages = previous?.pages;
  if (!previous || !sizes || !pages || sizes.length !== pages.length) return null;
  const old = previous.children;
  const starts = new Map<TreeChild, { index: number; offset: number }>();
  let offset = 0;
  for (let p = 0; p < sizes.length; p++) {
    const first = old[offset];
    if (first) starts.set(first, { index: p, offset });
    offset += sizes[p] as number;
  }
  if (offset !== old.length) return null;
  return {
    pageAt(sorted, at) {
      const start = starts.get(sorted[at] as TreeChild);
      if (!start) return null;
      const size = sizes[start.index] as number;
      if (at + size > sorted.length) return null;
      for (let k = 1; k < size; k++) if (sorted[at + k] !== old[start.offset + k]) return null;
      const endedByRule = endsPage(old[start.offset + size - 1] as TreeChild, size);
      if (!endedByRule && at + size !== sorted.length) return null;
      return { sha256: pages[start.index] as string, size };
    },
  };
}

/** FNV-1a over the name's UTF-16 code units: where pages end depends on the names alone. */
function nameHash(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

function encodeChild(c: TreeChild): string {
  let line = `{"name":${jsonString(c.name)},"kind":"${c.kind}"`;
  if (c.implicit) return `${line},"tree":"${c.tree}","implicit":true}`;
  line += `,"mode":${c.mode},"mtimeMs":${c.mtimeMs}`;
  if (c.kind === "dir") return `${line},"tree":"${c.tree}","reason":"${c.reason}"}`;
  line += `,"size":${c.size}`;
  if (c.sha256 !== undefined) line += `,"sha256":"${c.sha256}"`;
  if (c.linkTarget !== undefined) line += `,"linkTarget":${jsonString(c.linkTarget)}`;
  if (c.unstable) line += `,"unstable":true`;
  if (c.hardlinkTo !== undefined) line += `,"hardlinkTo":${jsonString(c.hardlinkTo)}`;
  if (c.sparse !== undefined) line += `,"sparse":{"dataBytes":${c.sparse.dataBytes}}`;
  return `${line},"reason":"${c.reason}"}`;
}

function isSortedByName(children: readonly TreeChild[]): boolean {
  for (let i = 1; i < children.length; i++) if ((children[i - 1] as TreeChild).name >= (children[i] as TreeChild).name) return false;
  return true;
}

const SHA256 = /^[0-9a-f]{64}$/;
const KINDS = new Set(["file", "dir", "symlink"]);

export function decodeTree(bytes: Buffer, sha256: string): TreeObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new IntegrityError(`tree object ${sha256} is not valid JSON`, { sha256, state: "corrupt" }, { cause: error });
  }
  const tree = parsed as Partial<TreeObject> & { tree?: unknown };
  if (tree?.tree === 1 && Array.isArray(tree.pages) && tree.pages.length > 0 && tree.pages.every((p) => typeof p === "string" && SHA256.test(p))) {
    return { files: tree.files ?? 0, dirs: tree.dirs ?? 0, symlinks: tree.symlinks ?? 0, bytes: tree.bytes ?? 0, children: [], pages: tree.pages };
  }
  const known = tree?.tree === 1 || tree?.page === 1;
  if (!known || !Array.isArray(tree.children) || !tree.children.every(isChild)) {
    throw new IntegrityError(`tree object ${sha256} has an unknown format`, { sha256, state: "corrupt" });
  }
  return tree as TreeObject;
}

function isChild(value: unknown): value is TreeChild {
  const c = value as TreeChild;
  if (typeof c?.name !== "string" || c.name === "" || c.name.includes("/") || !KINDS.has(c.kind)) return false;
  if (c.kind === "dir") return typeof c.tree === "string" && SHA256.test(c.tree);
  return !c.implicit && typeof c.mode === "number" && typeof c.size === "number";
}

export function encodeRootRecord(scope: CheckpointScope, databases: readonly DatabaseSnapshot[], root: string): string {
  const canonicalScope = scope.kind === "all" ? { kind: "all" } : { kind: "paths", paths: [...scope.paths].sort() };
  const snapshots = databases.map((d) => JSON.stringify(canonicalSnapshot(d))).join(",\n");
  return `{"version":${TREE_MANIFEST_VERSION},"scope":${JSON.stringify(canonicalScope)},"databases":[${databases.length > 0 ? `\n${snapshots}\n` : ""}],"root":"${root}"}\n`;
}

/** The manifest entry a child stands for, at `path` (folder part included). */
export function entryOfChild(child: TreeChild, path: string): ManifestEntry {
  const entry: ManifestEntry = {
    path,
    kind: child.kind,
    mode: child.mode ?? 0,
    size: child.kind === "dir" ? 0 : (child.size ?? 0),
    mtimeMs: child.mtimeMs ?? 0,
    reason: child.reason ?? "primary",
  };
  if (child.sha256 !== undefined) entry.sha256 = child.sha256;
  if (child.linkTarget !== undefined) entry.linkTarget = child.linkTarget;
  if (child.unstable) entry.unstable = true;
  if (child.hardlinkTo !== undefined) entry.hardlinkTo = child.hardlinkTo;
  if (child.sparse !== undefined) entry.sparse = { dataBytes: child.sparse.dataBytes };
  return entry;
}

/** A child for a manifest entry (its name is the last part of its path). */
export function childOfEntry(entry: ManifestEntry, name: string, tree?: string): TreeChild {
  if (entry.kind === "dir") return { name, kind: "dir", mode: entry.mode, mtimeMs: entry.mtimeMs, tree, reason: entry.reason };
  const child: TreeChild = { name, kind: entry.kind, mode: entry.mode, size: entry.size, mtimeMs: entry.mtimeMs, reason: entry.reason };
  if (entry.sha256 !== undefined) child.sha256 = entry.sha256;
  if (entry.linkTarget !== undefined) child.linkTarget = entry.linkTarget;
  if (entry.unstable) child.unstable = true;
  if (entry.hardlinkTo !== undefined) child.hardlinkTo = entry.hardlinkTo;
  if (entry.sparse !== undefined) child.sparse = { dataBytes: entry.sparse.dataBytes };
  return child;
}

const STRUCTURE_HEADS = ['{"tree":1,', PAGE_PREFIX.slice(0, 10), '{"version":'];

/**
 * Whether content starting with `head` is what a checkpoint is read through:
 * a folder's tree, a page of one, a root record or a flat manifest. (A file
 * that happens to start the same way is only kept longer in a cache.)
 */
export function isCheckpointStructure(head: Buffer): boolean {
  const start = head.subarray(0, 16).toString("latin1");
  return STRUCTURE_HEADS.some((prefix) => start.startsWith(prefix));
}
