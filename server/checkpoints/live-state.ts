/**
 * Captures the live state of a component scope as manifest entries: scans, then
 * hashes only files the stat cache cannot vouch for. With `storeObjects` the
 * content of every file is guaranteed to be in the object store afterwards (a
 * checkpoint, a rollback's safety checkpoint); without it, files are only hashed
 * (a diff, a plan) and nothing is remembered: the stat cache learns only from
 * content that was stored.
 *
 * Diff, plan and execute all look at a checkpoint's scope through
 * captureCheckpointScope, so what a diff shows, what a plan confirms and what the
 * rollback then finds are computed the same way and cannot drift apart.
 */
import { lstatSync, statfsSync } from "node:fs";
import path from "node:path";
import { InsufficientStorageError, UnstableFileError } from "../errors";
import type { Core } from "../core";
import { dataPaths } from "../core";
import { mapConcurrent } from "../concurrency";
import { comparePaths, scanComponent } from "../scan/walk";
import { assertRootUsableNow } from "../registry/roots";
import { changeTracker } from "../scan/change-tracker";
import { assertNoSymlinkEscape } from "../scan/paths";
import { fsPath } from "../byte-paths";
import { openStatCache, statCacheFile as statCacheFileIn, type StatCache } from "../scan/stat-cache";
import type { CheckpointScope, InclusionReason, Manifest, ManifestEntry, ScannedEntry } from "./manifest-types";
import { hashFile } from "../store/hash-file";
import type { FileStat } from "../store/object-store";
import type { SparseInfo } from "../store/sparse-format";
import { entriesByPath } from "./manifest";
import { databaseFilePaths, parseDbTargets } from "../dbstate/targets";

/** How many files are read at once: enough to keep the disk and the thread pool busy. */
const IO_CONCURRENCY = 16;

export interface ComponentScanTarget {
  id: string;
  name: string;
  root: string;
  include: string[];
  exclude: string[];
  /** Database targets: the files of SQLite ones are the database snapshot's, never the file scan's. */
  dbTargets?: string[];
}

export interface LiveState {
  entries: ManifestEntry[];
  /** Bytes of file content in the scope. */
  bytes: number;
  /** Bytes newly written to the object store (0 without storeObjects). */
  newBytes: number;
  /** Files whose content had to be read (stat cache misses). */
  filesRead: number;
  /** Files that kept changing while read (entries marked `unstable`, without content), by path. */
  unstable: string[];
}

export interface CaptureOptions {
  storeObjects: boolean;
  /** Reason per path (primaries, related files); entries under a primary directory default to "primary". */
  reasons?: { get(path: string): InclusionReason | undefined };
  onProgress?: (done: number, total: number) => void;
}

export function statCacheFile(core: Core, componentId: string): string {
  return statCacheFileIn(dataPaths(core.config.dataDir).statCache, componentId);
}

/** Root-relative paths the scanner must skip because Safety Net's own data lives there. */
export function dataDirExcludes(core: Core, root: string): string[] {
  const rel = path.relative(root, core.config.dataDir);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? [rel.split(path.sep).join("/")] : [];
}

/**
 * Root-relative paths no file scan of the component sees: Safety Net's own data,
 * and each SQLite target's database and journal files (a database in use is
 * captured and restored through SQLite, never as a file).
 */
export function scanExcludes(core: Core, component: ComponentScanTarget): string[] {
  return [...dataDirExcludes(core, component.root), ...databaseFilePaths(parseDbTargets(component.dbTargets ?? []))];
}

/**
 * Scans the scope, after checking that the root is still the real folder it was
 * registered as. In the server, a whole-component scan re-reads only what its
 * file watcher saw change (server/scan/change-tracker.ts).
 */
export async function scanScope(core: Core, component: ComponentScanTarget, scope: CheckpointScope): Promise<ScannedEntry[]> {
  await assertRootUsableNow(core, component);
  const options = { include: component.include, exclude: component.exclude, extraExcludes: scanExcludes(core, component) };
  const tracker = changeTracker();
  if (tracker && scope.kind === "all") return tracker.scanAll(component.id, component.root, options);
  return scanComponent(component.root, { ...options, scope });
}

export async function captureLiveState(
  core: Core,
  component: ComponentScanTarget,
  scope: CheckpointScope,
  options: CaptureOptions,
  given?: ScannedEntry[],
): Promise<LiveState> {
  const scanned = given ?? (await scanScope(core, component, scope));
  const cache = openStatCache(dataPaths(core.config.dataDir).statCache, component.id, core.store.collectionGeneration(), {
    // A whole-component scan looks up every row: one query for all beats one per file (see server/scan/README.md).
    preload: scope.kind === "all",
    writable: options.storeObjects,
    onWarning: (message, details) => core.log.warn({ event: "statcache.problem", component: component.name, ...details }, message),
  });
  try {
    return await captureWithCache(core, component, scope, options, scanned, cache);
  } finally {
    cache.close();
  }
}

/**
 * Captures some entries of a whole-component scan (the ones that changed since
 * the last capture; see patched-capture.ts). The stat cache is looked up row by
 * row and keeps every other row; when storing, the rows of `gone` paths are
 * dropped. `entries` are in the order of `scanned`.
 */
export async function captureChangedEntries(
  core: Core,
  component: ComponentScanTarget,
  scanned: ScannedEntry[],
  gone: readonly string[],
  options: Pick<CaptureOptions, "storeObjects" | "onProgress">,
): Promise<LiveState> {
  const cache = openStatCache(dataPaths(core.config.dataDir).statCache, component.id, core.store.collectionGeneration(), {
    writable: options.storeObjects,
    onWarning: (message, details) => core.log.warn({ event: "statcache.problem", component: component.name, ...details }, message),
  });
  try {
    if (options.storeObjects) for (const p of gone) cache.delete(p);
    // A "paths" scope: the rows of the files not scanned here are kept.
    return await captureWithCache(core, component, { kind: "paths", paths: [] }, { storeObjects: options.storeObjects, onProgress: options.onProgress }, scanned, cache);
  } finally {
    cache.close();
  }
}

async function captureWithCache(
  core: Core,
  component: ComponentScanTarget,
  scope: CheckpointScope,
  options: CaptureOptions,
  scanned: ScannedEntry[],
  cache: StatCache,
): Promise<LiveState> {
  const entries: ManifestEntry[] = new Array(scanned.length);
  const toRead: number[] = [];
  let bytes = 0;
  for (let i = 0; i < scanned.length; i++) {
    const entry = scanned[i] as ScannedEntry;
    const reason = options.reasons?.get(entry.path) ?? "primary";
    entries[i] = { path: entry.path, kind: entry.kind, mode: entry.mode, size: entry.size, mtimeMs: entry.mtimeMs, reason };
    if (entry.kind === "symlink") (entries[i] as ManifestEntry).linkTarget = entry.linkTarget;
    if (entry.kind !== "file") continue;
    bytes += entry.size;
    const cached = cache.lookup(entry);
    if (cached) {
      (entries[i] as ManifestEntry).sha256 = cached;
      const sparse = cache.sparseOf(entry.path);
      if (sparse) (entries[i] as ManifestEntry).sparse = sparse;
    } else toRead.push(i);
  }

  // Real bytes, not apparent sizes: a sparse file stores only what is allocated.
  if (options.storeObjects) assertStoreHasRoom(core, toRead.reduce((sum, i) => sum + storedBytesEstimate(scanned[i] as ScannedEntry), 0), scanned.length);
  let newBytes = 0;
  let done = 0;
  const unstable: string[] = [];
  const batch = options.storeObjects ? core.store.createBatch() : undefined;
  try {
    await mapConcurrent(toRead, IO_CONCURRENCY, async (index) => {
      const scannedEntry = scanned[index] as ScannedEntry;
      const manifestEntry = entries[index] as ManifestEntry;
      const absPath = path.join(component.root, scannedEntry.path);
      const expected = { size: scannedEntry.size, mtimeMs: scannedEntry.mtimeMs, ino: scannedEntry.ino };
      let read: { sha256: string; stat: FileStat; sparse?: SparseInfo };
      try {
        if (batch) {
          const stored = await core.store.putFile(absPath, expected, batch);
          if (stored.written) newBytes += stored.size;
          const stat = { ...scannedEntry, size: stored.stat.size, mtimeMs: stored.stat.mtimeMs, ctimeMs: stored.stat.ctimeMs, ino: stored.stat.ino };
          // A file changed within the racy window is not cached (and its stale record is dropped).
          cache.record(stat, stored.sha256, undefined, stored.sparse);
          read = stored;
        } else {
          read = await hashFile(absPath, expected);
        }
      } catch (error) {
        if (!(error instanceof UnstableFileError)) throw error;
        // No version of it can be vouched for: record it without content rather than fail the whole capture.
        manifestEntry.unstable = true;
        unstable.push(scannedEntry.path);
        cache.delete(scannedEntry.path);
        options.onProgress?.(++done, toRead.length);
        return;
      }
      // The file may have changed between the scan and the read: record what was actually read.
      manifestEntry.sha256 = read.sha256;
      if (read.sparse) manifestEntry.sparse = read.sparse;
      manifestEntry.size = read.stat.size;
      manifestEntry.mtimeMs = read.stat.mtimeMs;
      manifestEntry.mode = read.stat.mode & 0o7777;
      options.onProgress?.(++done, toRead.length);
    });
    await batch?.commit();
  } catch (error) {
    await batch?.abort();
    throw error;
  }
  markHardLinks(scanned, entries);
  if (options.storeObjects) {
    if (scope.kind === "all") cache.retainOnly(new Set(scanned.map((e) => e.path)));
    // Writes only the rows of files read or gone (nothing at all for an unchanged tree).
    cache.save();
  }
  return { entries, bytes, newBytes, filesRead: toRead.length, unstable: unstable.sort(comparePaths) };
}

/**
 * Marks each file that is another name of an earlier file of the same capture (the
 * same device and inode, and the same content as read) with `hardlinkTo`: the
 * first of its names in path order. The content check guards against an inode
 * number reused between the scan and the read.
 */
function markHardLinks(scanned: readonly ScannedEntry[], entries: ManifestEntry[]): void {
  const firstName = new Map<string, ManifestEntry>();
  for (let i = 0; i < scanned.length; i++) {
    const seen = scanned[i] as ScannedEntry;
    const entry = entries[i] as ManifestEntry;
    if (seen.kind !== "file" || seen.nlink === undefined || entry.sha256 === undefined) continue;
    const key = `${seen.dev}:${seen.ino}`;
    const first = firstName.get(key);
    if (!first) firstName.set(key, entry);
    else if (first.sha256 === entry.sha256 && (first.sparse === undefined) === (entry.sparse === undefined)) entry.hardlinkTo = first.path;
  }
}

/** What storing a file may take at most: a file that may be sparse stores about what is allocated of it, any other its size. */
export function storedBytesEstimate(entry: ScannedEntry): number {
  return entry.allocated !== undefined ? Math.min(entry.size, entry.allocated) : entry.size;
}

/** Room kept free beyond the estimate: the database's own writes (rows, history, WAL) must still fit. */
const STORE_SLACK_BYTES = 256 * 1024;
/** A manifest line per entry, about. */
const MANIFEST_BYTES_PER_ENTRY = 256;

/**
 * Refuses (nothing written) a capture whose new content may not fit on the data
 * directory's file system: at most every file read is new. Running out half-way
 * would leave only temp files, but a full disk also stops the database from
 * recording anything, so it is better to say so up front. `contentBytes` counts
 * real bytes: a sparse file's holes take no room in the store. A capture that
 * stores as it walks (streamed-capture.ts) asks again as it goes: `storedSoFar`
 * says it already stored some of it, which belongs to no checkpoint then.
 */
export function assertStoreHasRoom(core: Core, contentBytes: number, entries: number, storedSoFar = false): void {
  const free = storeFreeBytes(core);
  if (free === null) return; // No statfs here: the write itself will tell.
  const needed = storeBytesNeeded(contentBytes, entries);
  if (needed > free) {
    throw new InsufficientStorageError(
      `not enough free space for the checkpoint on the data directory's file system (${core.store.dir}): up to ${needed} bytes are needed, ${free} are free; ${storedSoFar ? "what was stored of it so far belongs to no checkpoint and the next retention sweep removes it" : "nothing was written"}. Free some space, or run \`safetynet retention run\``,
      { neededBytes: needed, freeBytes: free, path: core.store.dir },
    );
  }
}

/** What storing `contentBytes` of content and `entries` manifest entries may take, with the room kept free. */
export function storeBytesNeeded(contentBytes: number, entries: number): number {
  return contentBytes + entries * MANIFEST_BYTES_PER_ENTRY + STORE_SLACK_BYTES;
}

/** Free bytes of the store's file system; null where statfs is not available. */
export function storeFreeBytes(core: Core): number | null {
  try {
    const fs = statfsSync(core.store.dir);
    return fs.bavail * fs.bsize;
  } catch {
    return null;
  }
}

export interface CheckpointScopeState {
  /**
   * The checkpoint's entries the live state is compared with: the manifest's, less
   * paths the scan now leaves out (a file that became a SQLite target's database
   * is never written back as a file).
   */
  target: ManifestEntry[];
  live: LiveState;
}

/**
 * The live state of exactly the scope of `manifest`, each path carrying the reason
 * the checkpoint had for it. The one way diff, plan and execute see the workspace.
 */
export async function captureCheckpointScope(
  core: Core,
  component: ComponentScanTarget,
  manifest: Manifest,
  options: { storeObjects: boolean; onProgress?: (done: number, total: number) => void },
): Promise<CheckpointScopeState> {
  let reasons: CaptureOptions["reasons"];
  if (manifest.scope.kind === "paths") {
    // A whole-component checkpoint has only primaries: nothing to look up.
    const targetByPath = entriesByPath(manifest.entries);
    reasons = { get: (p) => targetByPath.get(p)?.reason };
  }
  const live = await captureLiveState(core, component, manifest.scope, { storeObjects: options.storeObjects, reasons, onProgress: options.onProgress });
  if (manifest.scope.kind === "paths") linkNamesOutsideScope(component.root, manifest.entries, live.entries);
  const excluded = scanExcludes(core, component);
  const target = excluded.length === 0 ? manifest.entries : manifest.entries.filter((e) => !excluded.some((x) => e.path === x || e.path.startsWith(`${x}/`)));
  return { target, live };
}

/**
 * A capture of some paths does not see a file's other names outside them, so it
 * marks none of its files as another name of one. A file the checkpoint holds as
 * another name of a path outside the captured ones (a rollback restricted to some
 * paths of a whole checkpoint) is marked so again when the two are still one file
 * (the same device and inode): otherwise the comparison would report the link as
 * changed, and a rollback would link the file again for nothing.
 */
function linkNamesOutsideScope(root: string, target: readonly ManifestEntry[], live: ManifestEntry[]): void {
  const linked = target.filter((e) => e.kind === "file" && e.hardlinkTo !== undefined);
  if (linked.length === 0) return;
  const liveByPath = entriesByPath(live);
  for (const entry of linked) {
    const first = entry.hardlinkTo as string;
    const now = liveByPath.get(entry.path);
    if (!now || now.kind !== "file" || now.hardlinkTo !== undefined || liveByPath.has(first)) continue;
    if (oneFile(root, entry.path, first)) now.hardlinkTo = first;
  }
}

/** Whether two paths of the root name one regular file now (neither reached through a symlink out of the root). */
function oneFile(root: string, a: string, b: string): boolean {
  try {
    assertNoSymlinkEscape(root, a);
    assertNoSymlinkEscape(root, b);
    const x = lstatSync(fsPath(path.join(root, a)));
    const y = lstatSync(fsPath(path.join(root, b)));
    return x.isFile() && y.isFile() && x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}
