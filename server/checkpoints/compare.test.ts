import { describe, expect, it } from "vitest";
import { compareManifests } from "./compare";
import type { ManifestEntry } from "./manifest-types";

const file = (path: string, sha: string, extra: Partial<ManifestEntry> = {}): ManifestEntry => ({ path, kind: "file", mode: 0o644, size: 1, mtimeMs: 1000, sha256: sha.repeat(64).slice(0, 64), reason: "primary", ...extra });
const dir = (path: string, extra: Partial<ManifestEntry> = {}): ManifestEntry => ({ path, kind: "dir", mode: 0o755, size: 0, mtimeMs: 5, reason: "primary", ...extra });

describe("compareManifests", () => {
  it("classifies every path of two sorted lists: added, deleted, modified, mode, type and mtime changes", () => {
    const before = [file("a", "1"), file("b", "2"), file("c", "3"), file("d", "4"), dir("e"), file("f", "6"), file("g", "7")];
    const after = [file("a", "1"), file("b", "9"), file("c", "3", { mode: 0o755 }), file("e", "5"), file("f", "6", { mtimeMs: 2000 }), file("g", "7"), file("h", "8")];
    const { changes, unchanged } = compareManifests(before, after);
    expect(changes.map((c) => [c.path, c.change])).toEqual([
      ["b", "modified"],
      ["c", "mode-changed"],
      ["d", "deleted"],
      ["e", "type-changed"],
      ["f", "mtime-changed"],
      ["h", "added"],
    ]);
    expect(unchanged).toBe(2);
  });

  it("does not report a directory whose only difference is its mtime", () => {
    expect(compareManifests([dir("x")], [dir("x", { mtimeMs: 99 })])).toEqual({ changes: [], unchanged: 1, unstable: [] });
  });

  it("gives the same answer for lists that arrive unsorted", () => {
    const before = [file("b", "2"), file("a", "1")];
    const after = [file("c", "3"), file("a", "1")];
    expect(compareManifests(before, after).changes.map((c) => [c.path, c.change])).toEqual([
      ["b", "deleted"],
      ["c", "added"],
    ]);
  });
});
