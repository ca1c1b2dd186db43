/**
 * Captures the live state of a component scope as manifest entries: scans, then
 * hashes only files the stat cache cannot vouch for. With `storeObjects` the
 * content of every file is guaranteed to be in the object store afterwards
 * (a checkpoint); without it, files are only hashed (a plan or a diff).
 */
import path from "node:path";
import type { Core } from "../core";
import { dataPaths } from "../core";
import { mapConcurrent } from "../concurrency";
import { scanComponent } from "../scan/walk";
import { loadStatCache, saveStatCache } from "../scan/stat-cache";
import type { CheckpointScope, InclusionReason, ManifestEntry, ScannedEntry } from "./manifest-types";
import { hashFile } from "../store/hash-file";

/** How many files are read at once: enough to keep the disk and the thread pool busy. */
const IO_CONCURRENCY = 16;

export interface ComponentScanTarget {
  id: string;
  root: string;
  include: string[];
  exclude: string[];
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

export function scanScope(core: Core, component: ComponentScanTarget, scope: CheckpointScope): ScannedEntry[] {
  return scanComponent(component.root, {
    include: component.include,
    exclude: component.exclude,
    extraExcludes: dataDirExcludes(core, component.root),
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
  const cache = loadStatCache(cacheFile);
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
    // A cache hit is trusted to be in the store: objects are write-once, and the retention
    // sweep, the only thing that deletes objects, drops the stat caches when it does.
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
      const result = batch ? await core.store.putFile(absPath, expected, batch) : await hashFile(absPath, expected);
      if ("written" in result && result.written) newBytes += result.size;
      // The file may have changed between the scan and the read: record what was actually read.
      manifestEntry.sha256 = result.sha256;
      manifestEntry.size = result.stat.size;
      manifestEntry.mtimeMs = result.stat.mtimeMs;
      manifestEntry.mode = result.stat.mode & 0o7777;
      const hadRecord = cache.get(scannedEntry.path) !== undefined;
      const stored = cache.set({ ...scannedEntry, size: result.stat.size, mtimeMs: result.stat.mtimeMs, ctimeMs: result.stat.ctimeMs, ino: result.stat.ino }, result.sha256);
      // A file changed within the racy window is not cached (and its stale record is dropped).
      if (stored || hadRecord) cacheChanged = true;
      options.onProgress?.(++done, toRead.length);
    });
    await batch?.commit();
  } catch (error) {
    await batch?.abort();
    throw error;
  }
  const cachedBefore = cache.size;
  if (scope.kind === "all") cache.retainOnly(new Set(scanned.map((e) => e.path)));
  // Rewriting ~1 MB of cache for nothing would cost more than the rest of an unchanged checkpoint.
  if (cacheChanged || cache.size !== cachedBefore) saveStatCache(cacheFile, cache);
  return { entries, bytes, newBytes, filesRead: toRead.length };
}
