/**
 * Reading checkpoints as trees. A checkpoint of the tree format (version 4) is
 * read folder by folder from the store; one of the flat format (versions 1–3,
 * written by earlier releases) is turned into the same trees in memory, so every
 * reader walks one shape and two checkpoints holding the same folder share its
 * hash whichever format wrote them.
 *
 * Tree objects are verified (re-hashed) when read from the store and kept,
 * decoded, in a bounded process-wide cache: they never change once written.
 */
import { IntegrityError } from "../errors";
import type { ObjectStore } from "../store/object-store";
import type { DatabaseSnapshot } from "../dbstate/snapshot-types";
import type { CheckpointScope, Manifest, ManifestEntry } from "./manifest-types";
import { decodeManifest } from "./flat-manifest";
import { buildTrees } from "./tree-build";
import { decodeTree, entryOfChild, PAGE_PREFIX, TREE_MANIFEST_VERSION, type RootRecord, type TreeChild, type TreeObject, type TreeTotals } from "./tree-format";

export interface OpenedManifest {
  /** The checkpoint's checksum: the hash of its root record (or of its flat manifest). */
  sha256: string;
  version: 1 | 2 | 3 | 4;
  scope: CheckpointScope;
  databases: DatabaseSnapshot[];
  /** Hash of the root folder's tree. */
  root: string;
  totals: TreeTotals;
  /** Trees of a flat manifest, built in memory (none for the tree format: they are in the store). */
  memory?: Map<string, TreeObject>;
}

/**
 * Children kept decoded across calls, all trees together. A decoded child costs
 * about 350 bytes of heap (its object, name and hex hash; measured in a heap
 * snapshot of the server), so this bounds the cache near 90 MB. A run of small
 * changes reads, for each folder on a changed path, the version the last
 * checkpoint holds and the new one: at 250,000 files (folders of 4,000 entries) a
 * 50-file change touches a few hundred thousand children that way, and a cap of
 * 100,000 made each checkpoint of such a change decode its large folders again
 * from the store (730 ms instead of 450–590 ms with this cap). What filled the
 * heap with a larger cap was the superseded versions of changed folders (140 MB
 * of a long-running server's heap with 400,000), so a folder keeps at most its
 * last VERSIONS_PER_FOLDER versions here.
 */
const CACHE_CHILDREN = 250_000;
/** The version the next comparison starts from and the one before it: what a run of changes reads again. */
const VERSIONS_PER_FOLDER = 2;
const cache = new Map<string, TreeObject>();
let cachedChildren = 0;
/** Cached versions per folder path, newest first, and the folder each cached tree was read for. */
const versionsOf = new Map<string, string[]>();
const folderOf = new Map<string, string>();

function forget(sha256: string): void {
  const tree = cache.get(sha256);
  if (!tree) return;
  cache.delete(sha256);
  cachedChildren -= tree.children.length + 1;
  const folder = folderOf.get(sha256);
  if (folder === undefined) return;
  folderOf.delete(sha256);
  const versions = (versionsOf.get(folder) ?? []).filter((v) => v !== sha256);
  if (versions.length > 0) versionsOf.set(folder, versions);
  else versionsOf.delete(folder);
}

/** Notes `sha256` as the newest cached version of `folder`, dropping the folder's versions past VERSIONS_PER_FOLDER. */
function trackVersion(sha256: string, folder: string): void {
  const was = folderOf.get(sha256);
  if (was === folder) return;
  if (was !== undefined) {
    const others = (versionsOf.get(was) ?? []).filter((v) => v !== sha256);
    if (others.length > 0) versionsOf.set(was, others);
    else versionsOf.delete(was);
  }
  folderOf.set(sha256, folder);
  const versions = [sha256, ...(versionsOf.get(folder) ?? [])];
  versionsOf.set(folder, versions);
  // A copy is iterated: forget() replaces the folder's list.
  for (const superseded of versions.slice(VERSIONS_PER_FOLDER)) forget(superseded);
}

function remember(sha256: string, tree: TreeObject, folder: string | undefined): void {
  forget(sha256);
  cache.set(sha256, tree);
  cachedChildren += tree.children.length + 1;
  if (folder !== undefined) trackVersion(sha256, folder);
  while (cachedChildren > CACHE_CHILDREN && cache.size > 1) forget(cache.keys().next().value as string);
}

/**
 * Caches the folder trees a patch of the last tree just built, as if they had
 * been read: comparing the new tree with the last one, right after, then reads
 * neither from the store. `built` are the trees the patch made from the last
 * tree's (their unchanged children are the same objects, so they cost little
 * more heap); `emitted` every other object it emitted (the trees of new
 * folders, pages included), decoded here.
 */
export function cacheBuiltTrees(built: ReadonlyMap<string, TreeObject>, emitted: ReadonlyMap<string, string>): void {
  for (const [sha, tree] of built) if (!cache.has(sha)) remember(sha, tree, undefined);
  const decode = (sha: string) => decodeTree(Buffer.from(emitted.get(sha) as string, "utf8"), sha);
  for (const [sha, bytes] of emitted) {
    // A page is decoded with its folder's index, below.
    if (cache.has(sha) || bytes.startsWith(PAGE_PREFIX)) continue;
    const tree = decode(sha);
    if (!tree.pages) {
      remember(sha, tree, undefined);
      continue;
    }
    // emitFolder emits every page of a new paged folder before its index.
    if (!tree.pages.every((page) => emitted.has(page))) continue;
    const pages = tree.pages.map((page) => decode(page).children);
    remember(sha, { ...tree, children: pages.flat(), pageSizes: pages.map((p) => p.length) }, undefined);
  }
}

/**
 * Reads a folder's tree object from the store (verified), or from the cache, with
 * the children of all its pages when it is paged (tree-format.ts). `fresh` always
 * reads and re-hashes it and its pages.
 */
export function readTree(store: ObjectStore, sha256: string, options: { folder?: string; fresh?: boolean; memory?: Map<string, TreeObject> } = {}): TreeObject {
  const inMemory = options.memory?.get(sha256);
  if (inMemory) {
    // Kept as parsed: a paged folder's index gets its pages' children once.
    if (!inMemory.pages || (inMemory.children ?? []).length > 0) return inMemory;
    const tree = withPages(store, inMemory, options);
    options.memory?.set(sha256, tree);
    return tree;
  }
  if (!options.fresh) {
    const cached = cache.get(sha256);
    if (cached) {
      // Most recently used last.
      cache.delete(sha256);
      cache.set(sha256, cached);
      // A tree cached as built learns here which folder it is.
      if (options.folder !== undefined && !folderOf.has(sha256)) trackVersion(sha256, options.folder);
      return cached;
    }
  }
  try {
    const decoded = decodeTree(store.readBuffer(sha256, { verify: true }), sha256);
    if (decoded.page) throw new IntegrityError(`object ${sha256} is a page of a folder's tree, not a folder's tree`, { sha256, state: "corrupt" });
    const tree = decoded.pages ? withPages(store, decoded, options) : decoded;
    remember(sha256, tree, options.folder);
    return tree;
  } catch (error) {
    if (error instanceof IntegrityError && options.folder !== undefined) {
      const where = options.folder === "" ? "the root folder" : `folder ${options.folder}`;
      // A damaged page is named by its own hash (the object verify reports).
      const object = typeof error.details.sha256 === "string" ? error.details.sha256 : sha256;
      throw new IntegrityError(`the tree of ${where} (object ${object}) is ${String(error.details.state ?? "corrupt")}`, { ...error.details, sha256: object, folder: options.folder }, { cause: error });
    }
    throw error;
  }
}

/** A paged folder's index with the children of its pages, in order (each page verified when read from the store). */
function withPages(store: ObjectStore, index: TreeObject, options: { memory?: Map<string, TreeObject> }): TreeObject {
  const children: TreeChild[] = [];
  const pageSizes: number[] = [];
  for (const page of index.pages ?? []) {
    const part = options.memory?.get(page) ?? decodeTree(store.readBuffer(page, { verify: true }), page);
    if (part.page !== 1) throw new IntegrityError(`object ${page} is not a page of a folder's tree`, { sha256: page, state: "corrupt" });
    for (const child of part.children) children.push(child);
    pageSizes.push(part.children.length);
  }
  return { files: index.files, dirs: index.dirs, symlinks: index.symlinks, bytes: index.bytes, children, pages: index.pages, pageSizes };
}

/** Opens a checkpoint's manifest (its root record, or a flat manifest turned into trees), re-hashing it. */
export function openManifest(store: ObjectStore, sha256: string): OpenedManifest {
  const bytes = store.readBuffer(sha256, { verify: true });
  const record = parseRootRecord(bytes, sha256);
  if (record) {
    const root = readTree(store, record.root, { folder: "" });
    return { sha256, version: 4, scope: record.scope, databases: record.databases, root: record.root, totals: totalsOf(root) };
  }
  return fromFlat(decodeManifest(bytes, sha256), sha256);
}

/** A flat manifest (versions 1–3) as trees in memory. */
export function fromFlat(manifest: Manifest, sha256: string): OpenedManifest {
  const memory = new Map<string, TreeObject>();
  const built = buildTrees(manifest.entries, (sha, bytes) => {
    if (!memory.has(sha)) memory.set(sha, JSON.parse(bytes) as TreeObject);
  });
  return { sha256, version: manifest.version as 1 | 2 | 3, scope: manifest.scope, databases: manifest.databases ?? [], root: built.root, totals: built.totals, memory };
}

function totalsOf(tree: TreeObject): TreeTotals {
  return { files: tree.files, dirs: tree.dirs, symlinks: tree.symlinks, bytes: tree.bytes };
}

/** The root record in a manifest object's bytes, or null for a flat manifest (versions 1–3). */
export function parseRootRecord(bytes: Buffer, sha256: string): RootRecord | null {
  // A flat manifest starts with a lower version; only a version 4 record is parsed here.
  if (!bytes.subarray(0, 16).toString("latin1").startsWith(`{"version":${TREE_MANIFEST_VERSION},`)) return null;
  let parsed: RootRecord;
  try {
    parsed = JSON.parse(bytes.toString("utf8")) as RootRecord;
  } catch (error) {
    throw new IntegrityError(`manifest ${sha256} is not valid JSON`, { sha256, state: "corrupt" }, { cause: error });
  }
  if (typeof parsed.root !== "string" || !/^[0-9a-f]{64}$/.test(parsed.root) || !parsed.scope || !Array.isArray(parsed.databases)) {
    throw new IntegrityError(`manifest ${sha256} has an unknown format`, { sha256, state: "corrupt" });
  }
  return parsed;
}

/** The tree of one folder of a manifest. */
export function treeOf(store: ObjectStore, manifest: OpenedManifest, sha256: string, folder: string): TreeObject {
  return readTree(store, sha256, { folder, memory: manifest.memory });
}

export interface EntryWalkOptions {
  /** Only entries whose path starts with this text (literal, not a folder: "src/a" also matches "src/ab.ts"). */
  prefix?: string;
  /** Only entries after this path. */
  after?: string;
}

/**
 * Every entry of a manifest in path order (the order of a flat manifest: plain
 * string order of whole paths), reading only the folders that can hold entries
 * after `after` and under `prefix`. A folder's entry and its contents are not
 * adjacent in that order ("a", "a-b", "a/c"), so each folder's children are
 * merged with its subfolders' contents by sort key (a subfolder's contents sort
 * as its name followed by "/").
 */
export function* walkEntries(store: ObjectStore, manifest: OpenedManifest, options: EntryWalkOptions = {}): Generator<ManifestEntry> {
  const prefix = options.prefix ?? "";
  for (const entry of walkFolder(store, manifest, manifest.root, "", prefix, options.after)) {
    if (!entry.path.startsWith(prefix)) {
      // Paths sharing a prefix are contiguous in this order: past them, nothing more can match.
      if (entry.path > prefix) return;
      continue;
    }
    yield entry;
  }
}

interface WalkItem {
  key: string;
  child: TreeChild;
  contents: boolean;
}

function* walkFolder(store: ObjectStore, manifest: OpenedManifest, sha256: string, folder: string, lower: string, after: string | undefined): Generator<ManifestEntry> {
  const tree = treeOf(store, manifest, sha256, folder);
  const base = folder === "" ? "" : `${folder}/`;
  const items: WalkItem[] = [];
  for (const child of tree.children) {
    if (!child.implicit) items.push({ key: child.name, child, contents: false });
    if (child.kind === "dir") items.push({ key: `${child.name}/`, child, contents: true });
  }
  items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const item of items) {
    const path = base + item.child.name;
    if (item.contents) {
      const start = `${path}/`;
      // Every path below starts with `start`: skip the subtree when all of them sort before a bound.
      if (endsBefore(start, lower) || (after !== undefined && endsBefore(start, after))) continue;
      yield* walkFolder(store, manifest, item.child.tree as string, path, lower, after);
    } else {
      if (path < lower || (after !== undefined && path <= after)) continue;
      yield entryOfChild(item.child, path);
    }
  }
}

/** True when every string starting with `start` sorts before `bound`. */
function endsBefore(start: string, bound: string): boolean {
  return bound > start && !bound.startsWith(start);
}

/** All entries of a manifest, in path order. */
export function flattenManifest(store: ObjectStore, manifest: OpenedManifest): ManifestEntry[] {
  return [...walkEntries(store, manifest)];
}

/** The entry at `path` (reading only the folders above it), or null. */
export function lookupEntry(store: ObjectStore, manifest: OpenedManifest, path: string): ManifestEntry | null {
  const child = childAtPath(store, manifest.root, path, manifest.memory);
  return child && !child.implicit ? entryOfChild(child, path) : null;
}

/** The child at `path` in the tree `root` (reading only the folders above it), or null. */
export function childAtPath(store: ObjectStore, root: string, path: string, memory?: Map<string, TreeObject>): TreeChild | null {
  const parts = path.split("/");
  let sha = root;
  let folder = "";
  for (let i = 0; ; i++) {
    const child = findChild(readTree(store, sha, { folder, memory }), parts[i] as string);
    if (!child || i === parts.length - 1) return child ?? null;
    if (child.kind !== "dir") return null;
    sha = child.tree as string;
    folder = folder === "" ? child.name : `${folder}/${child.name}`;
  }
}

/** Binary search: children are sorted by name. */
export function findChild(tree: TreeObject, name: string): TreeChild | undefined {
  let lo = 0;
  let hi = tree.children.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const candidate = tree.children[mid] as TreeChild;
    if (candidate.name === name) return candidate;
    if (candidate.name < name) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/** The tree objects (pages included) of a manifest in the store, each once, with the folder it was first found at (none for a flat manifest: its trees are in memory). */
export function storedTreesOf(store: ObjectStore, manifest: OpenedManifest): Map<string, string> {
  const found = new Map<string, string>();
  if (manifest.memory) return found;
  const pending: [string, string][] = [[manifest.root, ""]];
  while (pending.length > 0) {
    const [sha, folder] = pending.pop() as [string, string];
    if (found.has(sha)) continue;
    found.set(sha, folder);
    const tree = readTree(store, sha, { folder });
    for (const page of tree.pages ?? []) found.set(page, folder);
    for (const child of tree.children) {
      if (child.kind === "dir") pending.push([child.tree as string, folder === "" ? child.name : `${folder}/${child.name}`]);
    }
  }
  return found;
}
