/**
 * Per-component stat cache: remembers the sha256 of a file together with the stat
 * fields that identify its content (size, mtime, ctime, inode), so an unchanged file
 * is not re-read on the next checkpoint. Stored as compact JSON with a version field;
 * a missing or corrupt cache file is simply an empty cache.
 *
 * The invariant a checkpoint relies on lives here: a cache hit means the object is
 * in the store. Only a sha256 the store itself handed out as stored (StoredSha256)
 * can be recorded, so a diff or a plan, which only hash, cannot vouch for content;
 * and a cache saved before the store last collected garbage (its collection
 * generation moved on) is not trusted at all.
 */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../atomic-file";
import type { ScannedEntry } from "../checkpoints/manifest-types";
import type { StoredSha256 } from "../store/object-store";

export const STAT_CACHE_VERSION = 2;

/**
 * Files modified this recently (relative to when they were hashed) are not cached:
 * a second write within the filesystem's timestamp granularity would keep size and
 * times identical (git's "racily clean" problem). 2 s covers coarse filesystems too.
 */
export const RACY_WINDOW_MS = 2000;

export interface StatCacheRecord {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  sha256: StoredSha256;
}

/** On disk: `{"version":1,"entries":{"<path>":[size,mtimeMs,ctimeMs,ino,"<sha256>"],...}}`. */
type StoredRecord = [size: number, mtimeMs: number, ctimeMs: number, ino: number, sha256: string];

const SHA256_HEX = /^[0-9a-f]{64}$/;

export class StatCache {
  private readonly records = new Map<string, StatCacheRecord>();

  /** The cached sha256 of `entry`, only if size, mtimeMs, ctimeMs and ino all match (files only). */
  lookup(entry: ScannedEntry): StoredSha256 | undefined {
    if (entry.kind !== "file") return undefined;
    const r = this.records.get(entry.path);
    if (r === undefined) return undefined;
    return r.size === entry.size && r.mtimeMs === entry.mtimeMs && r.ctimeMs === entry.ctimeMs && r.ino === entry.ino
      ? r.sha256
      : undefined;
  }

  /**
   * Remembers the stored object of a file as it was stat'ed in `entry`. `hashedAtMs`
   * is when the content was read (default now): a file whose mtime/ctime lies within
   * RACY_WINDOW_MS of it is not cached (and any old record is dropped), so it is
   * hashed again next time. Returns whether the record was stored.
   */
  record(entry: ScannedEntry, sha256: StoredSha256, hashedAtMs: number = Date.now()): boolean {
    // sha256 comes from our own hashing here; only what is loaded from disk is validated (fromJSON).
    if (entry.kind !== "file" || sha256.length !== 64) {
      this.records.delete(entry.path);
      return false;
    }
    if (hashedAtMs - Math.max(entry.mtimeMs, entry.ctimeMs) < RACY_WINDOW_MS) {
      this.records.delete(entry.path);
      return false;
    }
    this.records.set(entry.path, { size: entry.size, mtimeMs: entry.mtimeMs, ctimeMs: entry.ctimeMs, ino: entry.ino, sha256 });
    return true;
  }

  get(path: string): StatCacheRecord | undefined {
    return this.records.get(path);
  }

  delete(path: string): void {
    this.records.delete(path);
  }

  /** Drops records of paths not in `paths` (call with the current scan to keep the cache small). */
  retainOnly(paths: ReadonlySet<string>): void {
    for (const p of this.records.keys()) if (!paths.has(p)) this.records.delete(p);
  }

  get size(): number {
    return this.records.size;
  }

  entries(): IterableIterator<[string, StatCacheRecord]> {
    return this.records.entries();
  }

  toJSON(storeGeneration: number): { version: number; storeGeneration: number; entries: Record<string, StoredRecord> } {
    const entries: Record<string, StoredRecord> = {};
    for (const [p, r] of this.records) entries[p] = [r.size, r.mtimeMs, r.ctimeMs, r.ino, r.sha256];
    return { version: STAT_CACHE_VERSION, storeGeneration, entries };
  }

  /**
   * Parses the stored form; anything malformed, or saved under another collection
   * generation of the store, yields an empty cache (never throws).
   */
  static fromJSON(data: unknown, storeGeneration: number): StatCache {
    const cache = new StatCache();
    if (typeof data !== "object" || data === null) return cache;
    const { version, entries, storeGeneration: savedGeneration } = data as { version?: unknown; entries?: unknown; storeGeneration?: unknown };
    if (version !== STAT_CACHE_VERSION || savedGeneration !== storeGeneration) return cache;
    if (typeof entries !== "object" || entries === null || Array.isArray(entries)) return cache;
    for (const [p, v] of Object.entries(entries as Record<string, unknown>)) {
      if (!Array.isArray(v) || v.length !== 5) return new StatCache();
      const [size, mtimeMs, ctimeMs, ino, sha256] = v as unknown[];
      if (
        !isFiniteNumber(size) ||
        !isFiniteNumber(mtimeMs) ||
        !isFiniteNumber(ctimeMs) ||
        !isFiniteNumber(ino) ||
        typeof sha256 !== "string" ||
        !SHA256_HEX.test(sha256)
      ) {
        return new StatCache();
      }
      // Written by saveStatCache from records that could only hold stored objects.
      cache.records.set(p, { size, mtimeMs, ctimeMs, ino, sha256: sha256 as StoredSha256 });
    }
    return cache;
  }
}

function isFiniteNumber(x: unknown): x is number {
  return typeof x === "number" && Number.isFinite(x);
}

/**
 * Loads the cache stored in `file`, trusted only if it was saved under the store's
 * current collection generation; missing, unreadable, corrupt or outdated → empty cache.
 */
export function loadStatCache(file: string, storeGeneration: number): StatCache {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return new StatCache();
  }
  try {
    return StatCache.fromJSON(JSON.parse(text), storeGeneration);
  } catch {
    return new StatCache();
  }
}

/**
 * Writes the cache atomically (temp file in the same directory, flush, rename,
 * directory fsync). Call it only once every object the cache names is durably in
 * the store (after the write batch committed).
 */
export function saveStatCache(file: string, cache: StatCache, storeGeneration: number): void {
  writeFileAtomic(file, JSON.stringify(cache.toJSON(storeGeneration)));
}
