import { describe, expect, it } from "vitest";
import { decodeManifest, encodeManifest } from "./manifest";
import type { ManifestEntry } from "./manifest-types";
import { sha256Hex } from "../store/object-store";

const entry = (path: string, extra: Partial<ManifestEntry> = {}): ManifestEntry => ({ path, kind: "file", mode: 0o644, size: 3, mtimeMs: 1700000000123.456, sha256: "a".repeat(64), reason: "primary", ...extra });

describe("manifest encoding", () => {
  it("writes every entry exactly as JSON.stringify would, whatever characters the path holds", () => {
    const names = ["plain.ts", 'quote".ts', "back\\slash", "tab\there", "new\nline", "unicode-é-日本.md", "space name.txt", "emoji-😀", "lone-\ud800-surrogate", "\u2028sep"];
    const entries = names.map((n) => entry(n)).sort((a, b) => (a.path < b.path ? -1 : 1));
    const encoded = encodeManifest({ kind: "all" }, entries);
    const lines = encoded.split("\n").slice(1, -2).map((l) => l.replace(/,$/, ""));
    expect(lines).toEqual(entries.map((e) => JSON.stringify({ path: e.path, kind: e.kind, mode: e.mode, size: e.size, mtimeMs: e.mtimeMs, sha256: e.sha256, reason: e.reason })));
    expect(decodeManifest(Buffer.from(encoded), sha256Hex(encoded)).entries).toEqual(entries);
  });

  it("yields the same bytes (and so the same checksum) for the same state in any input order", () => {
    const a = [entry("b"), entry("a", { kind: "symlink", sha256: undefined, linkTarget: "../x" }), entry("c", { kind: "dir", sha256: undefined })];
    const b = [a[2] as ManifestEntry, a[0] as ManifestEntry, a[1] as ManifestEntry];
    expect(encodeManifest({ kind: "paths", paths: ["c", "a"] }, a)).toBe(encodeManifest({ kind: "paths", paths: ["a", "c"] }, b));
  });
});
