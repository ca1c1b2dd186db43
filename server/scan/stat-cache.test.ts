import { mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SafetyNetError } from "../errors";
import type { ScannedEntry } from "../checkpoints/manifest-types";
import type { StoredSha256 } from "../store/object-store";
import { RACY_WINDOW_MS, StatCache, loadStatCache, saveStatCache } from "./stat-cache";

let tmp: string;
beforeEach(() => {
  tmp = realpathSync(mkdtempSync(path.join(tmpdir(), "sn-statcache-")));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

// Only the store hands out StoredSha256 values; these unit specifications stand in for it.
const SHA = "a".repeat(64) as StoredSha256;
const SHA2 = "b".repeat(64) as StoredSha256;
const GEN = 3;
const T = 1_700_000_000_000.123;
const LATER = T + 60_000;

function entry(over: Partial<ScannedEntry> = {}): ScannedEntry {
  return { path: "src/a.ts", kind: "file", mode: 0o644, size: 10, mtimeMs: T, ctimeMs: T + 1, ino: 42, ...over };
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
    expect([...cache.entries()].map(([p]) => p)).toEqual(["b"]);
    cache.delete("b");
    expect(cache.size).toBe(0);
  });
});

describe("loadStatCache / saveStatCache", () => {
  it("round-trips through a compact versioned file", () => {
    const file = path.join(tmp, "nested/dir/stat-cache.json");
    const cache = new StatCache();
    cache.record(entry({ path: "a" }), SHA, LATER);
    cache.record(entry({ path: "dir/b", size: 0, ino: 2 ** 40 }), SHA2, LATER);
    saveStatCache(file, cache, GEN);
    const text = readFileSync(file, "utf8");
    expect(JSON.parse(text)).toEqual({
      version: 2,
      storeGeneration: GEN,
      entries: { a: [10, T, T + 1, 42, SHA], "dir/b": [0, T, T + 1, 2 ** 40, SHA2] },
    });
    expect(text).not.toContain("\n");
    const loaded = loadStatCache(file, GEN);
    expect(loaded.size).toBe(2);
    expect(loaded.lookup(entry({ path: "a" }))).toBe(SHA);
    expect(loaded.lookup(entry({ path: "dir/b", size: 0, ino: 2 ** 40 }))).toBe(SHA2);
    expect(readdirSync(path.dirname(file))).toEqual(["stat-cache.json"]); // no temp files left
  });

  it("overwrites atomically", () => {
    const file = path.join(tmp, "c.json");
    const one = new StatCache();
    one.record(entry(), SHA, LATER);
    saveStatCache(file, one, GEN);
    saveStatCache(file, new StatCache(), GEN);
    expect(loadStatCache(file, GEN).size).toBe(0);
    expect(readdirSync(tmp)).toEqual(["c.json"]);
  });

  it.each([
    ["missing file", null],
    ["empty file", ""],
    ["not JSON", "{oops"],
    ["JSON null", "null"],
    ["wrong version", JSON.stringify({ version: 1, storeGeneration: GEN, entries: {} })],
    ["entries not an object", JSON.stringify({ version: 2, storeGeneration: GEN, entries: [] })],
    ["short record", JSON.stringify({ version: 2, storeGeneration: GEN, entries: { a: [1, 2, 3, 4] } })],
    ["bad sha", JSON.stringify({ version: 2, storeGeneration: GEN, entries: { a: [1, 2, 3, 4, "zz"] } })],
    ["string size", JSON.stringify({ version: 2, storeGeneration: GEN, entries: { a: ["1", 2, 3, 4, SHA] } })],
  ])("a corrupt cache (%s) is an empty cache", (_name, content) => {
    const file = path.join(tmp, "c.json");
    if (content !== null) writeFileSync(file, content);
    const cache = loadStatCache(file, GEN);
    expect(cache).toBeInstanceOf(StatCache);
    expect(cache.size).toBe(0);
  });

  it("does not trust a cache saved before the store last collected objects (another generation)", () => {
    const file = path.join(tmp, "c.json");
    const cache = new StatCache();
    cache.record(entry(), SHA, LATER);
    saveStatCache(file, cache, GEN);
    expect(loadStatCache(file, GEN).size).toBe(1);
    expect(loadStatCache(file, GEN + 1).size).toBe(0);
  });

  it("a cache path that is a directory loads as empty", () => {
    expect(loadStatCache(tmp, GEN).size).toBe(0);
  });

  it("fails with a named error when it cannot write, leaving no temp file", () => {
    writeFileSync(path.join(tmp, "blocker"), "");
    expect(() => saveStatCache(path.join(tmp, "blocker/c.json"), new StatCache(), GEN)).toThrow(SafetyNetError);
    // target is a directory: rename fails, temp is cleaned up
    const dirTarget = path.join(tmp, "target");
    saveStatCache(path.join(dirTarget, "x.json"), new StatCache(), GEN);
    expect(() => saveStatCache(dirTarget, new StatCache(), GEN)).toThrow(dirTarget);
    expect(readdirSync(tmp).sort()).toEqual(["blocker", "target"]);
  });
});
