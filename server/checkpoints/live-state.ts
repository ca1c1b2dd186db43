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
import path from "node:path";
import type { Core } from "../core";
import { dataPaths } from "../core";
import { mapConcurrent } from "../concurrency";
import { scanComponent } from "../scan/walk";
import { assertRootIntact } from "../registry/roots";
import { loadStatCache, saveStatCache } from "../scan/stat-cache";
import type { CheckpointScope, InclusionReason, Manifest, ManifestEntry, ScannedEntry } from "./manifest-types";
import { hashFile } from "../store/hash-file";
import type { FileStat } from "../store/object-store";
import { sha256Hex } from "../store/sha256";
import { encodeManifest, entriesByPath } from "./manifest";
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
}

export interface CaptureOptions {
  storeObjects: boolean;
  /** Reason per path (primaries, related files); entries under a primary directory default to "primary". */
  reasons?: { get(path: string): InclusionReason | undefined };
  onProgress?: (done: number, total: number) => void;
}

export function statCacheFile(core: Core, componentId: string): string {
  return path.join(dataPaths(core.config.dataDir).statCache, `${componentId}.json`);
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

/** Scans the scope, after checking that the root is still the real folder it was registered as. */
export function scanScope(core: Core, component: ComponentScanTarget, scope: CheckpointScope): ScannedEntry[] {
  assertRootIntact(component);
  return scanComponent(component.root, {
    include: component.include,
    exclude: component.exclude,
    extraExcludes: scanExcludes(core, component),
    scope,
  });
}

export async function captureLiveState(
  core: Core,
  component: ComponentScanTarget,
  scope: CheckpointScope,
  options: CaptureOptions,
  scanned: ScannedEntry[] = scanScope(core, component, scope),
): Promise<LiveState> {
  const cacheFile = statCacheFile(core, component.id);
  const storeGeneration = core.store.collectionGeneration();
  const cache = loadStatCache(cacheFile, storeGeneration);
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
    if (cached) (entries[i] as ManifestEntry).sha256 = cached;
    else toRead.push(i);
  }

  let newBytes = 0;
  let done = 0;
  let cacheChanged = false;
  const batch = options.storeObjects ? core.store.createBatch() : undefined;
  try {
    await mapConcurrent(toRead, IO_CONCURRENCY, async (index) => {
      const scannedEntry = scanned[index] as ScannedEntry;
      const manifestEntry = entries[index] as ManifestEntry;
      const absPath = path.join(component.root, scannedEntry.path);
      const expected = { size: scannedEntry.size, mtimeMs: scannedEntry.mtimeMs, ino: scannedEntry.ino };
      let read: { sha256: string; stat: FileStat };
      if (batch) {
        const stored = await core.store.putFile(absPath, expected, batch);
        if (stored.written) newBytes += stored.size;
        const hadRecord = cache.get(scannedEntry.path) !== undefined;
        const stat = { ...scannedEntry, size: stored.stat.size, mtimeMs: stored.stat.mtimeMs, ctimeMs: stored.stat.ctimeMs, ino: stored.stat.ino };
        // A file changed within the racy window is not cached (and its stale record is dropped).
        if (cache.record(stat, stored.sha256) || hadRecord) cacheChanged = true;
        read = stored;
      } else {
        read = await hashFile(absPath, expected);
      }
      // The file may have changed between the scan and the read: record what was actually read.
      manifestEntry.sha256 = read.sha256;
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
  if (options.storeObjects) {
    const cachedBefore = cache.size;
    if (scope.kind === "all") cache.retainOnly(new Set(scanned.map((e) => e.path)));
    // Rewriting ~1 MB of cache for nothing would cost more than the rest of an unchanged checkpoint.
    if (cacheChanged || cache.size !== cachedBefore) saveStatCache(cacheFile, cache, storeGeneration);
  }
  return { entries, bytes, newBytes, filesRead: toRead.length };
}

export interface CheckpointScopeState {
  /**
   * The checkpoint's entries the live state is compared with: the manifest's, less
   * paths the scan now leaves out (a file that became a SQLite target's database
   * is never written back as a file).
   */
  target: ManifestEntry[];
  live: LiveState;
  /** The live state encoded as a manifest of the checkpoint's scope (what a safety checkpoint stores). */
  encoded: string;
  /** sha256 of `encoded`: a confirm token is bound to it. */
  liveSha: string;
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
  const encoded = encodeManifest(manifest.scope, live.entries);
  const excluded = scanExcludes(core, component);
  const target = excluded.length === 0 ? manifest.entries : manifest.entries.filter((e) => !excluded.some((x) => e.path === x || e.path.startsWith(`${x}/`)));
  return { target, live, encoded, liveSha: sha256Hex(encoded) };
}
