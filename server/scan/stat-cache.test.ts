import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ScannedEntry } from "../checkpoints/manifest-types";
import type { StoredSha256 } from "../store/object-store";
import { RACY_WINDOW_MS, STAT_CACHE_VERSION, StatCache, openStatCache, removeStatCache, statCacheFile, type OpenStatCacheOptions } from "./stat-cache";

let tmp: string;
let dir: string;
let warnings: string[];
beforeEach(() => {
  tmp = realpathSync(mkdtempSync(path.join(tmpdir(), "sn-statcache-")));
  dir = path.join(tmp, "stat-cache");
  warnings = [];
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

// Only the store hands out StoredSha256 values; these unit specifications stand in for it.
const SHA = "a".repeat(64) as StoredSha256;
const SHA2 = "b".repeat(64) as StoredSha256;
const GEN = 3;
const ID = "comp1";
const T = 1_700_000_000_000.123;
const LATER = T + 60_000;

function entry(over: Partial<ScannedEntry> = {}): ScannedEntry {
  return { path: "src/a.ts", kind: "file", mode: 0o644, size: 10, mtimeMs: T, ctimeMs: T + 1, ino: 42, ...over };
}

function open(options: OpenStatCacheOptions = {}, generation = GEN): StatCache {
  return openStatCache(dir, ID, generation, { writable: true, onWarning: (message) => warnings.push(message), ...options });
}

/** Saves the given entries as a fresh cache (as a checkpoint would). */
function seed(entries: ScannedEntry[], generation = GEN): void {
  const cache = open({}, generation);
  for (const e of entries) expect(cache.record(e, SHA, LATER)).toBe(true);
  cache.save();
  cache.close();
}

function rows(): string[] {
  const db = new Database(statCacheFile(dir, ID), { readonly: true });
  try {
    return db.prepare<[], string>("SELECT path FROM entries ORDER BY path").pluck().all();
  } finally {
    db.close();
  }
}

describe("StatCache.lookup", () => {
  it("hits only when size, mtime, ctime and inode all match", () => {
    const cache = new StatCache();
    expect(cache.record(entry(), SHA, LATER)).toBe(true);
    expect(cache.lookup(entry())).toBe(SHA);
    expect(cache.lookup(entry({ size: 11 }))).toBeUndefined();
    expect(cache.lookup(entry({ mtimeMs: T + 0.001 }))).toBeUndefined();
    expect(cache.lookup(entry({ ctimeMs: T + 2 }))).toBeUndefined();
    expect(cache.lookup(entry({ ino: 43 }))).toBeUndefined();
    expect(cache.lookup(entry({ path: "src/b.ts" }))).toBeUndefined();
    expect(cache.lookup(entry({ mode: 0o755 }))).toBe(SHA); // mode is not content
  });

  it("never caches dirs or symlinks, nor bad hashes", () => {
    const cache = new StatCache();
    expect(cache.record(entry({ kind: "dir" }), SHA, LATER)).toBe(false);
    expect(cache.record(entry({ path: "l", kind: "symlink", linkTarget: "x" }), SHA, LATER)).toBe(false);
    expect(cache.record(entry({ path: "x" }), "not-a-sha" as StoredSha256, LATER)).toBe(false);
    expect(cache.size).toBe(0);
  });

  it("does not cache a racily clean file (modified right before it was hashed)", () => {
    const cache = new StatCache();
    cache.record(entry(), SHA, LATER);
    expect(cache.record(entry(), SHA2, T + RACY_WINDOW_MS - 1)).toBe(false);
    expect(cache.lookup(entry())).toBeUndefined(); // the old record is dropped too
    expect(cache.record(entry(), SHA2, T + 1 + RACY_WINDOW_MS)).toBe(true);
    // default "now": a file stamped now is not cached
    const now = Date.now();
    expect(cache.record(entry({ path: "fresh", mtimeMs: now, ctimeMs: now }), SHA)).toBe(false);
  });

  it("retainOnly drops paths that are gone", () => {
    const cache = new StatCache();
    cache.record(entry({ path: "a" }), SHA, LATER);
    cache.record(entry({ path: "b" }), SHA, LATER);
    cache.retainOnly(new Set(["b", "c"]));
    expect(cache.get("a")).toBeUndefined();
    expect(cache.size).toBe(1);
    cache.delete("b");
    expect(cache.size).toBe(0);
  });
});

describe.each([
  ["rows read in one query", { preload: true }],
  ["one query per lookup", { preload: false }],
])("openStatCache / save (%s)", (_name, mode) => {
  it("round-trips records exactly, in a private SQLite file", () => {
    const cache = open(mode);
    cache.record(entry({ path: "a" }), SHA, LATER);
    cache.record(entry({ path: "dir/b", size: 0, ino: 2 ** 40 }), SHA2, LATER);
    expect(cache.save()).toEqual({ rowsChanged: 2, reset: false });
    cache.close();
    const loaded = open(mode);
    expect(loaded.size).toBe(2);
    expect(loaded.lookup(entry({ path: "a" }))).toBe(SHA);
    expect(loaded.get("dir/b")).toEqual({ size: 0, mtimeMs: T, ctimeMs: T + 1, ino: 2 ** 40, sha256: SHA2 });
    loaded.close();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(dir)) expect(statSync(path.join(dir, f)).mode & 0o777, f).toBe(0o600);
    const db = new Database(statCacheFile(dir, ID), { readonly: true });
    expect(db.pragma("user_version", { simple: true })).toBe(STAT_CACHE_VERSION);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
  });

  it("remembers which records are sparse files' (their sha256 names a representation), and forgets it when a file is stored whole again", () => {
    const cache = open(mode);
    cache.record(entry({ path: "disk.img" }), SHA, LATER, { dataBytes: 12288 });
    cache.record(entry({ path: "plain" }), SHA2, LATER);
    cache.save();
    cache.close();
    const loaded = open(mode);
    expect(loaded.lookup(entry({ path: "disk.img" }))).toBe(SHA);
    expect(loaded.sparseOf("disk.img")).toEqual({ dataBytes: 12288 });
    expect(loaded.lookup(entry({ path: "plain" }))).toBe(SHA2);
    expect(loaded.sparseOf("plain")).toBeUndefined();
    loaded.record(entry({ path: "disk.img", ino: 43 }), SHA2, LATER);
    loaded.save();
    loaded.close();
    const again = open(mode);
    expect(again.lookup(entry({ path: "disk.img", ino: 43 }))).toBe(SHA2);
    expect(again.sparseOf("disk.img")).toBeUndefined();
    again.close();
  });

  it("writes only the rows that changed, in one save", () => {
    const files = Array.from({ length: 200 }, (_, i) => entry({ path: `f${String(i).padStart(3, "0")}`, ino: i }));
    seed(files);
    const cache = open(mode);
    const live = files.filter((e) => e.path !== "f007" && e.path !== "f008").map((e) => (e.path === "f010" ? { ...e, size: 99 } : e));
    live.push(entry({ path: "new", ino: 1000 }));
    let hits = 0;
    for (const e of live) {
      if (cache.lookup(e)) hits++;
      else cache.record(e, SHA2, LATER);
    }
    expect(hits).toBe(197);
    cache.retainOnly(new Set(live.map((e) => e.path)));
    expect(cache.pendingChanges).toBe(4);
    // 1 updated, 1 added, 2 deleted: the other 197 rows are not touched.
    expect(cache.save()).toEqual({ rowsChanged: 4, reset: false });
    expect(cache.save()).toEqual({ rowsChanged: 0, reset: false }); // nothing left to write
    cache.close();
    const after = rows();
    expect(after).toHaveLength(199);
    expect(after).not.toContain("f007");
    expect(after).toContain("new");
    const reopened = open(mode);
    expect(reopened.get("f010")?.sha256).toBe(SHA2);
    reopened.close();
  });

  it("an unchanged tree saves nothing", () => {
    const files = [entry({ path: "a" }), entry({ path: "b", ino: 2 })];
    seed(files);
    const cache = open(mode);
    for (const e of files) {
      expect(cache.lookup(e)).toBe(SHA);
      cache.record(e, SHA, LATER); // re-recording what is stored is not a change
    }
    cache.retainOnly(new Set(["a", "b"]));
    expect(cache.pendingChanges).toBe(0);
    expect(cache.save().rowsChanged).toBe(0);
    cache.close();
  });

  it("a racily clean file's stored record is deleted on save", () => {
    seed([entry()]);
    const cache = open(mode);
    expect(cache.record(entry({ mtimeMs: LATER }), SHA2, LATER + 1)).toBe(false);
    expect(cache.lookup(entry())).toBeUndefined();
    expect(cache.save().rowsChanged).toBe(1);
    cache.close();
    expect(rows()).toEqual([]);
  });

  it("does not trust a cache saved before the store last collected objects, and starts it over on save", () => {
    seed([entry({ path: "a" }), entry({ path: "b" })]);
    const newer = open(mode, GEN + 1);
    expect(newer.lookup(entry({ path: "a" }))).toBeUndefined();
    expect(newer.size).toBe(0);
    newer.record(entry({ path: "c" }), SHA2, LATER);
    // Every row of the old generation goes, even those this capture did not look at.
    expect(newer.save()).toEqual({ rowsChanged: 3, reset: true });
    newer.close();
    expect(rows()).toEqual(["c"]);
    expect(open(mode, GEN + 1).get("c")?.sha256).toBe(SHA2);
    // And the older generation cannot use what the newer one saved.
    expect(open(mode, GEN).lookup(entry({ path: "c" }))).toBeUndefined();
  });

  it("does not overwrite a cache another process saved under a newer generation", () => {
    const older = open(mode, GEN);
    seed([entry({ path: "a" })], GEN + 1);
    older.record(entry({ path: "b" }), SHA, LATER);
    expect(older.save().rowsChanged).toBe(0);
    older.close();
    expect(rows()).toEqual(["a"]);
    expect(open(mode, GEN + 1).lookup(entry({ path: "a" }))).toBe(SHA);
  });
});

describe("missing, corrupt and old caches", () => {
  it("a reader finds nothing where nothing was saved, and creates no file", () => {
    const cache = open({ writable: false, preload: true });
    expect(cache.size).toBe(0);
    expect(cache.lookup(entry())).toBeUndefined();
    cache.close();
    expect(existsSync(dir)).toBe(false);
  });

  it.each([
    ["garbage", "this is not a database, just some text that is long enough".repeat(100)],
    ["truncated header", "SQLite format 3\0"],
  ])("a corrupt file (%s) is an empty cache, deleted with a warning", (_name, content) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(statCacheFile(dir, ID), content);
    const cache = open({ preload: true });
    expect(cache.size).toBe(0);
    expect(cache.lookup(entry())).toBeUndefined();
    cache.close();
    expect(warnings.join("\n")).toMatch(/corrupt: deleted/);
    expect(existsSync(statCacheFile(dir, ID))).toBe(false);
    // The next capture starts a new one.
    seed([entry()]);
    expect(rows()).toEqual(["src/a.ts"]);
  });

  it.each([true, false])("a malformed row makes the whole cache corrupt (preload: %s)", (preload) => {
    seed([entry()]);
    const db = new Database(statCacheFile(dir, ID));
    db.pragma("ignore_check_constraints = ON");
    db.prepare("UPDATE entries SET sha256 = ?").run("Z".repeat(64));
    db.close();
    const cache = open({ preload });
    expect(cache.lookup(entry())).toBeUndefined();
    cache.close();
    expect(warnings.join("\n")).toMatch(/corrupt: deleted/);
    expect(existsSync(statCacheFile(dir, ID))).toBe(false);
  });

  it("a file of another schema version is started over", () => {
    mkdirSync(dir, { recursive: true });
    const db = new Database(statCacheFile(dir, ID));
    db.exec("CREATE TABLE entries (x); INSERT INTO entries VALUES (1); PRAGMA user_version = 99;");
    db.close();
    expect(open({ writable: false }).size).toBe(0); // readers leave it alone
    const cache = open({ preload: true });
    expect(cache.size).toBe(0);
    cache.record(entry(), SHA, LATER);
    cache.save();
    cache.close();
    expect(rows()).toEqual(["src/a.ts"]);
  });

  it("upgrades a file of the version before sparse files in place, keeping its rows (all of files stored whole)", () => {
    mkdirSync(dir, { recursive: true });
    const db = new Database(statCacheFile(dir, ID));
    db.exec(`CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), store_generation INTEGER NOT NULL) STRICT;
      CREATE TABLE entries (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ms REAL NOT NULL, ctime_ms REAL NOT NULL, ino INTEGER NOT NULL,
        sha256 TEXT NOT NULL CHECK (length(sha256) = 64)) STRICT, WITHOUT ROWID;
      INSERT INTO meta VALUES (1, ${GEN});
      INSERT INTO entries VALUES ('src/a.ts', 10, ${T}, ${T + 1}, 42, '${SHA}');
      PRAGMA user_version = 3;`);
    db.close();
    const cache = open({ preload: true });
    expect(cache.lookup(entry())).toBe(SHA);
    expect(cache.sparseOf("src/a.ts")).toBeUndefined();
    cache.record(entry({ path: "disk.img" }), SHA2, LATER, { dataBytes: 4096 });
    cache.save();
    cache.close();
    expect(rows()).toEqual(["disk.img", "src/a.ts"]);
    const reopened = open();
    expect(reopened.sparseOf("disk.img")).toEqual({ dataBytes: 4096 });
    reopened.close();
    expect(warnings).toEqual([]);
  });

  it("imports the JSON cache of the previous version once, then deletes it", () => {
    mkdirSync(dir, { recursive: true });
    const json = path.join(dir, `${ID}.json`);
    writeFileSync(json, JSON.stringify({ version: 2, storeGeneration: GEN, entries: { a: [10, T, T + 1, 42, SHA], "dir/b": [0, T, T + 1, 2 ** 40, SHA2] } }));
    const reader = open({ writable: false });
    expect(reader.size).toBe(0); // only a capture that stores objects imports
    expect(existsSync(json)).toBe(true);
    const cache = open({ preload: true });
    expect(cache.lookup(entry({ path: "a" }))).toBe(SHA);
    expect(cache.lookup(entry({ path: "dir/b", size: 0, ino: 2 ** 40 }))).toBe(SHA2);
    cache.close();
    expect(existsSync(json)).toBe(false);
  });

  it.each([
    ["another generation", { version: 2, storeGeneration: GEN - 1, entries: { a: [10, T, T + 1, 42, SHA] } }],
    ["a malformed record", { version: 2, storeGeneration: GEN, entries: { a: [10, T, T + 1, 42, "zz"] } }],
    ["not JSON", "{oops"],
  ])("ignores (and deletes) an old JSON cache with %s", (_name, content) => {
    mkdirSync(dir, { recursive: true });
    const json = path.join(dir, `${ID}.json`);
    writeFileSync(json, typeof content === "string" ? content : JSON.stringify(content));
    const cache = open({ preload: true });
    expect(cache.size).toBe(0);
    cache.close();
    expect(existsSync(json)).toBe(false);
  });

  it("removeStatCache deletes the database, its WAL and SHM, and an old JSON file", () => {
    seed([entry()]);
    const held = open(); // keeps the WAL and SHM in place
    writeFileSync(path.join(dir, `${ID}.json`), "{}");
    writeFileSync(path.join(dir, "other.sqlite"), "");
    expect(readdirSync(dir).filter((f) => f.startsWith(ID)).length).toBeGreaterThanOrEqual(2);
    held.close();
    removeStatCache(dir, ID);
    expect(readdirSync(dir)).toEqual(["other.sqlite"]);
  });

  it("a save that cannot write is a warning, and the saved cache stays as it was", () => {
    seed([entry()]);
    const cache = open();
    cache.record(entry({ path: "b" }), SHA, LATER);
    const blocker = new Database(statCacheFile(dir, ID), { timeout: 0 });
    blocker.exec("BEGIN IMMEDIATE");
    const started = Date.now();
    expect(cache.save().rowsChanged).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    blocker.exec("ROLLBACK");
    blocker.close();
    cache.close();
    expect(warnings.join("\n")).toMatch(/save failed/);
    expect(rows()).toEqual(["src/a.ts"]);
  });
});
