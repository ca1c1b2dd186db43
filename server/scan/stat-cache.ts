/**
 * Per-component stat cache: remembers the sha256 of a file together with the stat
 * fields that identify its content (size, mtime, ctime, inode), so an unchanged file
 * is not re-read on the next checkpoint.
 *
 * Stored in one SQLite database per component (`<data>/stat-cache/<component id>.sqlite`,
 * WAL mode), one row per file. A capture changes only the rows of files it re-read or
 * found gone, and a save writes just those rows in one transaction: what it costs
 * follows what changed, not the size of the tree. A missing, unreadable or corrupt
 * cache is simply an empty cache (a corrupt file is deleted), never an error.
 *
 * The invariant a checkpoint relies on lives here: a cache hit means the object is
 * in the store. Only a sha256 the store itself handed out as stored (StoredSha256)
 * can be recorded, so a diff or a plan, which only hash, cannot vouch for content;
 * and a cache saved before the store last collected garbage (its collection
 * generation moved on) is not trusted at all.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fromStorageText, toStorageText } from "../byte-paths";
import Database from "better-sqlite3";
import type { ScannedEntry } from "../checkpoints/manifest-types";
import { createPrivateFile, makePrivateDir } from "../private-files";
import type { StoredSha256 } from "../store/object-store";
import type { SparseInfo } from "../store/sparse-format";

/**
 * Schema version (`PRAGMA user_version`); 2 was the single JSON file, imported once
 * then deleted; 3 had no `sparse_data_bytes` column (added in place on upgrade).
 */
export const STAT_CACHE_VERSION = 4;
const VERSION_WITHOUT_SPARSE = 3;
const LEGACY_JSON_VERSION = 2;

/**
 * Files modified this recently (relative to when they were hashed) are not cached:
 * a second write within the filesystem's timestamp granularity would keep size and
 * times identical (git's "racily clean" problem). 2 s covers coarse filesystems too.
 */
export const RACY_WINDOW_MS = 2000;

/**
 * How long a statement waits for another process's write before giving up. Readers
 * never wait in WAL mode; writers of one component are serialised by its lock, so
 * only a reader's import or reset could ever be in the way, and a cache is not
 * worth holding up a checkpoint for: on timeout the save is skipped.
 */
const BUSY_TIMEOUT_MS = 1_000;

export interface StatCacheRecord {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  sha256: StoredSha256;
  /** The file was stored as a sparse file: `sha256` names its representation. */
  sparse?: SparseInfo;
}

/** A row as SQLite returns it (raw mode). `sparseDataBytes` is null for a file stored whole. */
type Row = [path: string, size: number, mtimeMs: number, ctimeMs: number, ino: number, sha256: string, sparseDataBytes: number | null];

const SHA256_HEX = /^[0-9a-f]{64}$/;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  store_generation INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS entries (
  path TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  mtime_ms REAL NOT NULL,
  ctime_ms REAL NOT NULL,
  ino INTEGER NOT NULL,
  sha256 TEXT NOT NULL CHECK (length(sha256) = 64),
  sparse_data_bytes INTEGER
) STRICT, WITHOUT ROWID;
`;

const COLUMNS = "path, size, mtime_ms, ctime_ms, ino, sha256, sparse_data_bytes";

export type StatCacheWarning = (message: string, details: Record<string, unknown>) => void;

export interface OpenStatCacheOptions {
  /**
   * Read every row in one query up front: for captures that look up most of the
   * tree (a whole-component scan), faster than one query per file. Otherwise each
   * lookup is one indexed query.
   */
  preload?: boolean;
  /**
   * Captures that store objects (and will save): create the database when missing
   * and import a cache left by an older version. Readers (a diff, a plan) only read
   * what is there, and find nothing when there is nothing.
   */
  writable?: boolean;
  /** Told when a cache had to be dropped or could not be saved (it never throws). */
  onWarning?: StatCacheWarning;
}

export interface StatCacheSaveResult {
  /** Rows inserted, updated or deleted (SQLite's change count): what the save cost. */
  rowsChanged: number;
  /** Whether the save started the file over (it was saved under another collection generation). */
  reset: boolean;
}

interface Source {
  db: Database.Database;
  file: string;
  get: Database.Statement<[string], Row>;
}

export function statCacheFile(statCacheDir: string, componentId: string): string {
  return path.join(statCacheDir, `${componentId}.sqlite`);
}

function legacyJsonFile(statCacheDir: string, componentId: string): string {
  return path.join(statCacheDir, `${componentId}.json`);
}

export class StatCache {
  /** Records and deletions since the cache was opened: exactly what save() writes. */
  private readonly changes = new Map<string, StatCacheRecord | null>();
  /** Every stored row, when preloaded. */
  private loaded: LoadedRows | null = null;
  /** A read failed (not corruption): stored rows are no longer looked at, but changes can still be saved. */
  private unreadable = false;
  /** The record of the last hit of lookup outside the preloaded rows (read by sparseOf). */
  private lastHit: { path: string; record: StatCacheRecord } | undefined;

  /**
   * An in-memory cache (tests, or no file to read); openStatCache gives one backed
   * by a file. `trusted` is false when the stored rows must not be used: they were
   * saved under another collection generation, so the next save starts over.
   */
  constructor(
    private source: Source | null = null,
    private readonly storeGeneration = 0,
    private trusted = true,
    private readonly warn: StatCacheWarning = () => undefined,
  ) {}

  /** The cached sha256 of `entry`, only if size, mtimeMs, ctimeMs and ino all match (files only); see sparseOf. */
  lookup(entry: ScannedEntry): StoredSha256 | undefined {
    if (entry.kind !== "file") return undefined;
    // The common case of a whole-tree capture, without a record object per file.
    if (this.trusted && !this.unreadable && this.loaded && !this.changes.has(entry.path)) return this.loaded.match(entry);
    const r = this.get(entry.path);
    if (r === undefined) return undefined;
    if (!(r.size === entry.size && r.mtimeMs === entry.mtimeMs && r.ctimeMs === entry.ctimeMs && r.ino === entry.ino)) return undefined;
    this.lastHit = { path: entry.path, record: r };
    return r.sha256;
  }

  /**
   * Whether the record of `filePath` (a hit of lookup) is a sparse file's: then the
   * sha256 names its representation, and the entry must say so.
   */
  sparseOf(filePath: string): SparseInfo | undefined {
    if (this.trusted && !this.unreadable && this.loaded && !this.changes.has(filePath)) return this.loaded.sparseOf(filePath);
    // The record lookup just read, without a second query.
    if (this.lastHit?.path === filePath) return this.lastHit.record.sparse;
    return this.get(filePath)?.sparse;
  }

  /**
   * Remembers the stored object of a file as it was stat'ed in `entry`. `hashedAtMs`
   * is when the content was read (default now): a file whose mtime/ctime lies within
   * RACY_WINDOW_MS of it is not cached (and any old record is dropped), so it is
   * hashed again next time. `sparse`: it was stored as a sparse file. Returns
   * whether the record was stored.
   */
  record(entry: ScannedEntry, sha256: StoredSha256, hashedAtMs: number = Date.now(), sparse?: SparseInfo): boolean {
    this.lastHit = undefined;
    // sha256 comes from our own hashing here; only what is read from disk is validated (toRecord).
    if (entry.kind !== "file" || sha256.length !== 64) {
      this.delete(entry.path);
      return false;
    }
    if (hashedAtMs - Math.max(entry.mtimeMs, entry.ctimeMs) < RACY_WINDOW_MS) {
      this.delete(entry.path);
      return false;
    }
    const record: StatCacheRecord = { size: entry.size, mtimeMs: entry.mtimeMs, ctimeMs: entry.ctimeMs, ino: entry.ino, sha256, ...(sparse ? { sparse: { dataBytes: sparse.dataBytes } } : {}) };
    const old = this.get(entry.path);
    if (old && sameRecord(old, record)) {
      this.changes.delete(entry.path); // back to what is stored: nothing to write
    } else {
      this.changes.set(entry.path, record);
    }
    return true;
  }

  get(filePath: string): StatCacheRecord | undefined {
    const changed = this.changes.get(filePath);
    if (changed !== undefined) return changed ?? undefined;
    return this.stored(filePath);
  }

  delete(filePath: string): void {
    this.lastHit = undefined;
    if (this.changes.has(filePath) || this.stored(filePath) !== undefined) this.changes.set(filePath, null);
  }

  /**
   * Drops records of paths not in `paths` (call with a whole-component scan so files
   * that are gone leave the cache). Reads every stored path when not preloaded.
   */
  retainOnly(paths: ReadonlySet<string>): void {
    for (const [p, r] of this.changes) if (r !== null && !paths.has(p)) this.changes.set(p, null);
    if (!this.trusted || this.unreadable) return;
    if (this.loaded) {
      for (const p of this.loaded.keys()) if (!paths.has(p) && !this.changes.has(p)) this.changes.set(p, null);
      return;
    }
    const source = this.source;
    if (!source) return;
    this.guard(() => {
      const all = source.db.prepare<[], string>("SELECT path FROM entries").pluck();
      for (const stored of all.iterate()) {
        const p = fromStorageText(stored);
        if (!paths.has(p) && !this.changes.has(p)) this.changes.set(p, null);
      }
    }, undefined);
  }

  /**
   * Drops the preloaded rows of paths lookup() was not asked for since the cache
   * was opened (call after looking up every file of a whole-component walk: the
   * others are gone). retainOnly without a set of every path; nothing without a preload.
   */
  retainLookedUp(): void {
    if (!this.trusted || this.unreadable || !this.loaded) return;
    for (const p of this.loaded.notLookedUp()) if (!this.changes.has(p)) this.changes.set(p, null);
  }

  /** Number of records: stored ones (as loaded) plus changes. Counts with one query when not preloaded. */
  get size(): number {
    let stored = 0;
    const readable = this.trusted && !this.unreadable;
    if (readable && this.loaded) stored = this.loaded.size;
    else if (readable && this.source) {
      const source = this.source;
      stored = this.guard(() => source.db.prepare<[], number>("SELECT count(*) FROM entries").pluck().get() ?? 0, 0);
    }
    for (const [p, r] of this.changes) {
      const had = this.stored(p) !== undefined;
      if (r && !had) stored++;
      else if (!r && had) stored--;
    }
    return stored;
  }

  /** Paths recorded or dropped since the cache was opened (what save() will write). */
  get pendingChanges(): number {
    return this.changes.size;
  }

  /**
   * Writes the changes since the cache was opened — only those rows — in one
   * transaction. Call it only once every object the cache names is durably in the
   * store (after the write batch committed). A cache saved under another collection
   * generation is started over first; one saved under a newer generation than this
   * cache was opened with is left alone (what this process knows is older). Never
   * throws: a failed save leaves the previous cache, which is still true.
   * With `keepNewRows` false, rows saved for paths the preloaded rows did not
   * have are not added to them: a capture that looks each path up once and saves
   * as it goes (streamed-capture.ts) would otherwise hold the whole tree's rows.
   * Such a path then looks like a miss, which costs a read, never a wrong answer.
   */
  save(keepNewRows = true): StatCacheSaveResult {
    const source = this.source;
    const result: StatCacheSaveResult = { rowsChanged: 0, reset: false };
    if (!source || (this.trusted && this.changes.size === 0)) return result;
    const generation = this.storeGeneration;
    const upsert = source.db.prepare(
      `INSERT INTO entries (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) ` +
        "ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ms = excluded.mtime_ms, ctime_ms = excluded.ctime_ms, ino = excluded.ino, sha256 = excluded.sha256, sparse_data_bytes = excluded.sparse_data_bytes",
    );
    const remove = source.db.prepare("DELETE FROM entries WHERE path = ?");
    const write = source.db.transaction(() => {
      const saved = readGeneration(source.db);
      if (saved !== null && saved > generation) return false;
      if (saved !== generation) {
        // Rows of another generation may name collected objects: none of them may survive.
        result.rowsChanged += source.db.prepare("DELETE FROM entries").run().changes;
        source.db.prepare("INSERT INTO meta (id, store_generation) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET store_generation = excluded.store_generation").run(generation);
        result.reset = true;
      }
      for (const [p, r] of this.changes) {
        const key = toStorageText(p);
        const info = r ? upsert.run(key, r.size, r.mtimeMs, r.ctimeMs, r.ino, r.sha256, r.sparse?.dataBytes ?? null) : remove.run(key);
        result.rowsChanged += info.changes;
      }
      return true;
    });
    const written = this.guard(() => write.immediate(), false, "save");
    if (!written) return { rowsChanged: 0, reset: false };
    if (result.reset) this.loaded = this.loaded ? new LoadedRows() : null;
    if (this.loaded) {
      for (const [p, r] of this.changes) {
        if (!r) this.loaded.delete(p);
        else if (keepNewRows || this.loaded.has(p)) this.loaded.set(p, r.size, r.mtimeMs, r.ctimeMs, r.ino, r.sha256, r.sparse?.dataBytes ?? null);
      }
    }
    this.changes.clear();
    this.trusted = true;
    return result;
  }

  /** Closes the database (the cache stays usable in memory for what was preloaded or changed). */
  close(): void {
    const source = this.source;
    this.source = null;
    if (!this.loaded) this.loaded = new LoadedRows();
    if (source?.db.open) source.db.close();
  }

  /** Reads every row once; a malformed row means a corrupt file. */
  preload(): void {
    const source = this.source;
    if (!source || !this.trusted || this.loaded) return;
    this.loaded = this.guard(() => {
      const loaded = new LoadedRows();
      for (const row of source.db.prepare<[], Row>(`SELECT ${COLUMNS} FROM entries`).raw().iterate()) {
        if (!validRow(row)) throw new CorruptCacheError(`malformed row for ${JSON.stringify(row[0])}`);
        loaded.set(fromStorageText(row[0]), row[1], row[2], row[3], row[4], row[5], row[6]);
      }
      return loaded;
    }, null);
  }

  private stored(filePath: string): StatCacheRecord | undefined {
    if (!this.trusted || this.unreadable) return undefined;
    if (this.loaded) return this.loaded.get(filePath);
    const source = this.source;
    if (!source) return undefined;
    return this.guard(() => {
      const row = source.get.get(toStorageText(filePath));
      if (row === undefined) return undefined;
      if (!validRow(row)) throw new CorruptCacheError(`malformed row for ${JSON.stringify(filePath)}`);
      return toRecord(row);
    }, undefined);
  }

  /**
   * Runs a database operation; any failure makes the cache empty (a corrupt file is
   * deleted) instead of reaching the user, who only loses the speed-up.
   */
  private guard<T>(op: () => T, fallback: T, what = "read"): T {
    try {
      return op();
    } catch (error) {
      const source = this.source;
      if (!source) return fallback;
      if (isCorruption(error)) {
        this.warn(`stat cache ${source.file} is corrupt: deleted, files will be hashed again`, { file: source.file, error: String(error) });
        this.close();
        deleteCacheFiles(source.file);
        this.loaded = null;
        this.changes.clear();
        this.trusted = false;
      } else {
        this.warn(`stat cache ${source.file}: ${what} failed, going on without it`, { file: source.file, error: String(error) });
        if (what !== "save") this.unreadable = true;
      }
      return fallback;
    }
  }
}

/**
 * The rows read in one query: stat fields in one Float64Array and hashes in an
 * array, indexed by path. About half the memory (and garbage) of one JS array per
 * row, which matters at 250,000 files.
 */
class LoadedRows {
  private readonly index = new Map<string, number>();
  private stats = new Float64Array(4 * 1024);
  private readonly hashes: string[] = [];
  /** Rows match() was asked for, by index (grown with the rows). */
  private lookedUp = new Uint8Array(1024);
  /** Data bytes of the rows of sparse files (few or none), by path. */
  private readonly sparse = new Map<string, number>();

  get size(): number {
    return this.index.size;
  }

  keys(): IterableIterator<string> {
    return this.index.keys();
  }

  has(filePath: string): boolean {
    return this.index.has(filePath);
  }

  set(filePath: string, size: number, mtimeMs: number, ctimeMs: number, ino: number, sha256: string, sparseDataBytes: number | null): void {
    if (sparseDataBytes === null) this.sparse.delete(filePath);
    else this.sparse.set(filePath, sparseDataBytes);
    let i = this.index.get(filePath);
    if (i === undefined) {
      i = this.hashes.length;
      this.index.set(filePath, i);
      this.hashes.push(sha256);
      if (4 * (i + 1) > this.stats.length) {
        const grown = new Float64Array(this.stats.length * 2);
        grown.set(this.stats);
        this.stats = grown;
      }
      if (i >= this.lookedUp.length) {
        const grown = new Uint8Array(this.lookedUp.length * 2);
        grown.set(this.lookedUp);
        this.lookedUp = grown;
      }
    } else {
      this.hashes[i] = sha256;
    }
    this.stats[4 * i] = size;
    this.stats[4 * i + 1] = mtimeMs;
    this.stats[4 * i + 2] = ctimeMs;
    this.stats[4 * i + 3] = ino;
  }

  delete(filePath: string): void {
    const i = this.index.get(filePath);
    if (i === undefined) return;
    this.index.delete(filePath);
    this.sparse.delete(filePath);
    this.hashes[i] = "";
  }

  sparseOf(filePath: string): SparseInfo | undefined {
    if (this.sparse.size === 0) return undefined;
    const dataBytes = this.sparse.get(filePath);
    return dataBytes === undefined ? undefined : { dataBytes };
  }

  get(filePath: string): StatCacheRecord | undefined {
    const i = this.index.get(filePath);
    if (i === undefined) return undefined;
    const s = this.stats;
    const sparse = this.sparseOf(filePath);
    return { size: s[4 * i] as number, mtimeMs: s[4 * i + 1] as number, ctimeMs: s[4 * i + 2] as number, ino: s[4 * i + 3] as number, sha256: this.hashes[i] as StoredSha256, ...(sparse ? { sparse } : {}) };
  }

  /** Paths of the rows match() was not asked for. */
  *notLookedUp(): IterableIterator<string> {
    for (const [p, i] of this.index) if (this.lookedUp[i] === 0) yield p;
  }

  match(entry: ScannedEntry): StoredSha256 | undefined {
    const i = this.index.get(entry.path);
    if (i === undefined) return undefined;
    this.lookedUp[i] = 1;
    const s = this.stats;
    return s[4 * i] === entry.size && s[4 * i + 1] === entry.mtimeMs && s[4 * i + 2] === entry.ctimeMs && s[4 * i + 3] === entry.ino
      ? (this.hashes[i] as StoredSha256)
      : undefined;
  }
}

class CorruptCacheError extends Error {}

function isCorruption(error: unknown): boolean {
  if (error instanceof CorruptCacheError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_CORRUPT" || code === "SQLITE_NOTADB" || (typeof code === "string" && code.startsWith("SQLITE_CORRUPT_"));
}

function sameRecord(a: StatCacheRecord, b: StatCacheRecord): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino && a.sha256 === b.sha256 && a.sparse?.dataBytes === b.sparse?.dataBytes;
}

function validRow(row: Row): boolean {
  return (
    typeof row[0] === "string" &&
    isFiniteNumber(row[1]) &&
    isFiniteNumber(row[2]) &&
    isFiniteNumber(row[3]) &&
    isFiniteNumber(row[4]) &&
    typeof row[5] === "string" &&
    SHA256_HEX.test(row[5]) &&
    (row[6] === null || row[6] === undefined || (Number.isSafeInteger(row[6]) && row[6] >= 0))
  );
}

function toRecord(row: Row): StatCacheRecord {
  // Only save() writes rows, from records that could only hold stored objects.
  const sparse = typeof row[6] === "number" ? { sparse: { dataBytes: row[6] } } : {};
  return { size: row[1], mtimeMs: row[2], ctimeMs: row[3], ino: row[4], sha256: row[5] as StoredSha256, ...sparse };
}

function isFiniteNumber(x: unknown): x is number {
  return typeof x === "number" && Number.isFinite(x);
}

function readGeneration(db: Database.Database): number | null {
  const value = db.prepare<[], number>("SELECT store_generation FROM meta WHERE id = 1").pluck().get();
  return typeof value === "number" ? value : null;
}

function deleteCacheFiles(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
}

/**
 * Opens the cache of a component, trusted only if it was saved under the store's
 * current collection generation; missing, unreadable, corrupt or outdated → empty
 * cache. Close it when done.
 */
export function openStatCache(statCacheDir: string, componentId: string, storeGeneration: number, options: OpenStatCacheOptions = {}): StatCache {
  const warn = options.onWarning ?? (() => undefined);
  const file = statCacheFile(statCacheDir, componentId);
  let db: Database.Database | undefined;
  try {
    if (options.writable) {
      makePrivateDir(statCacheDir);
      // SQLite would create the file 0644; its WAL and SHM take the database file's mode.
      createPrivateFile(file);
    } else if (!existsSync(file)) {
      return new StatCache(null, storeGeneration);
    }
    db = new Database(file, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    if (String(db.pragma("journal_mode", { simple: true })).toLowerCase() !== "wal") db.pragma("journal_mode = WAL");
    // Durable enough: losing the last commits in a power cut only brings back an older cache, which is still true.
    db.pragma("synchronous = NORMAL");
    let version = Number(db.pragma("user_version", { simple: true }));
    if (version !== STAT_CACHE_VERSION && options.writable) version = initialise(db, file, statCacheDir, componentId, storeGeneration, warn);
    if (version !== STAT_CACHE_VERSION) {
      db.close();
      return new StatCache(null, storeGeneration);
    }
    if (options.writable) removeLegacyJson(statCacheDir, componentId);
    const saved = readGeneration(db);
    const source: Source = { db, file, get: db.prepare<[string], Row>(`SELECT ${COLUMNS} FROM entries WHERE path = ?`).raw() };
    const cache = new StatCache(source, storeGeneration, saved === storeGeneration, warn);
    if (options.preload) cache.preload();
    return cache;
  } catch (error) {
    if (db?.open) db.close();
    if (isCorruption(error)) {
      warn(`stat cache ${file} is corrupt: deleted, files will be hashed again`, { file, error: String(error) });
      deleteCacheFiles(file);
    } else {
      warn(`stat cache ${file} cannot be opened, going on without it`, { file, error: String(error) });
    }
    return new StatCache(null, storeGeneration);
  }
}

/**
 * Creates the schema in a new (or unknown-version) file, importing the JSON cache
 * an older version left if it is still valid for this generation: one full read of
 * the tree saved. Returns the resulting version.
 */
function initialise(db: Database.Database, file: string, statCacheDir: string, componentId: string, storeGeneration: number, warn: StatCacheWarning): number {
  const legacy = readLegacyJsonCache(legacyJsonFile(statCacheDir, componentId), storeGeneration);
  const setUp = db.transaction(() => {
    // Another process may have done it meanwhile (this runs under the write lock).
    const version = Number(db.pragma("user_version", { simple: true }));
    if (version === STAT_CACHE_VERSION) return;
    if (version === VERSION_WITHOUT_SPARSE) {
      // Every row of the older version is a file stored whole: keep them all.
      db.exec("ALTER TABLE entries ADD COLUMN sparse_data_bytes INTEGER");
      db.pragma(`user_version = ${STAT_CACHE_VERSION}`);
      return;
    }
    if (version !== 0) {
      warn(`stat cache ${file} has unknown version ${version}: started over`, { file, version });
      db.exec("DROP TABLE IF EXISTS entries; DROP TABLE IF EXISTS meta;");
    }
    db.exec(SCHEMA);
    db.prepare("INSERT INTO meta (id, store_generation) VALUES (1, ?)").run(storeGeneration);
    const insert = db.prepare("INSERT OR REPLACE INTO entries (path, size, mtime_ms, ctime_ms, ino, sha256) VALUES (?, ?, ?, ?, ?, ?)");
    for (const p in legacy) insert.run(toStorageText(p), ...(legacy[p] as LegacyJsonEntries[string]));
    db.pragma(`user_version = ${STAT_CACHE_VERSION}`);
  });
  setUp.immediate();
  return Number(db.pragma("user_version", { simple: true }));
}

function removeLegacyJson(statCacheDir: string, componentId: string): void {
  try {
    rmSync(legacyJsonFile(statCacheDir, componentId), { force: true });
  } catch {
    // A leftover is only a few wasted bytes; it is tried again next time.
  }
}

/** The records of a version-2 JSON cache, as parsed: `{"<path>": [size, mtimeMs, ctimeMs, ino, "<sha256>"]}`. */
export type LegacyJsonEntries = Record<string, [size: number, mtimeMs: number, ctimeMs: number, ino: number, sha256: string]>;

/**
 * The records of a JSON cache written by the previous version
 * (`{"version":2,"storeGeneration":G,"entries":{...}}`), only if saved under
 * `storeGeneration` and entirely well-formed; otherwise none. Returned as parsed
 * (no copy): a 250,000-file cache is ~40 MB of JSON.
 */
export function readLegacyJsonCache(file: string, storeGeneration: number): LegacyJsonEntries {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return {};
  }
  if (typeof data !== "object" || data === null) return {};
  const { version, entries, storeGeneration: savedGeneration } = data as { version?: unknown; entries?: unknown; storeGeneration?: unknown };
  if (version !== LEGACY_JSON_VERSION || savedGeneration !== storeGeneration) return {};
  if (typeof entries !== "object" || entries === null || Array.isArray(entries)) return {};
  const records = entries as Record<string, unknown>;
  for (const p in records) {
    const v = records[p];
    if (!Array.isArray(v) || v.length !== 5 || !validRow([p, v[0], v[1], v[2], v[3], v[4], null] as Row)) return {};
  }
  return entries as LegacyJsonEntries;
}

/** Removes a component's cache (its database, WAL and SHM, and any JSON an older version left). */
export function removeStatCache(statCacheDir: string, componentId: string): void {
  deleteCacheFiles(statCacheFile(statCacheDir, componentId));
  rmSync(legacyJsonFile(statCacheDir, componentId), { force: true });
}

