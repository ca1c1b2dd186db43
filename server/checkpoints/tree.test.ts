/**
 * Tree manifests against the flat list they stand for: a tree read back gives
 * exactly the entries it was built from, in flat path order; paging by prefix and
 * cursor gives the slices of that list; comparing two trees gives what comparing
 * the two flat lists gives; and storing a second state writes only the folders
 * on the changed paths.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ObjectStore } from "../store/object-store";
import { compareManifests } from "./compare";
import type { CheckpointScope, ManifestEntry } from "./manifest-types";
import { compareTrees } from "./tree-diff";
import { cacheBuiltTrees, fromFlat, lookupEntry, openManifest, readTree, walkEntries, flattenManifest } from "./tree-read";
import { storeTreeManifest } from "./tree-write";
import { buildTrees } from "./tree-build";
import { patchTree, TreePatchMismatch, type TreePatch } from "./tree-patch";

let dir: string;
let store: ObjectStore;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sn-tree-"));
  store = new ObjectStore(path.join(dir, "store"));
  store.init();
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
const SHA = (n: number) => n.toString(16).padStart(64, "0");

/** Names chosen to sort around "/" ("a-b" < "a/" < "a0") and to include bytes that are not UTF-8. */
const NAMES = ["a", "a-b", "a0", "b", "\udce9t\u00e9", "A", "z.txt"];

/** A random tree as a flat, sorted list of entries (every folder above an entry is an entry too). */
const trees: fc.Arbitrary<ManifestEntry[]> = fc
  .array(
    fc.record({
      parts: fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 4 }),
      kind: fc.constantFrom("file", "file", "file", "symlink", "dir"),
      content: fc.integer({ min: 0, max: 3 }),
      mode: fc.constantFrom(0o644, 0o755),
    }),
    { maxLength: 30 },
  )
  .map((specs) => {
    const entries = new Map<string, ManifestEntry>();
    for (const spec of specs) {
      const full = spec.parts.join("/");
      // A path already taken (or under a non-folder) is skipped: the tree stays a tree.
      const blocked = spec.parts.some((_, i) => {
        const above = entries.get(spec.parts.slice(0, i + 1).join("/"));
        return above !== undefined && (i < spec.parts.length - 1 ? above.kind !== "dir" : true);
      });
      if (blocked) continue;
      for (let i = 1; i < spec.parts.length; i++) {
        const folder = spec.parts.slice(0, i).join("/");
        if (!entries.has(folder)) entries.set(folder, { path: folder, kind: "dir", mode: 0o755, size: 0, mtimeMs: 1000, reason: "primary" });
      }
      const entry: ManifestEntry = { path: full, kind: spec.kind as ManifestEntry["kind"], mode: spec.mode, size: spec.kind === "file" ? spec.content * 10 : 0, mtimeMs: 2000 + spec.content, reason: "primary" };
      if (spec.kind === "file") entry.sha256 = SHA(spec.content + 1);
      if (spec.kind === "symlink") entry.linkTarget = `target-${spec.content}`;
      entries.set(full, entry);
    }
    return [...entries.values()].sort(byPath);
  });

const ALL: CheckpointScope = { kind: "all" };

describe("tree manifests", () => {
  it("read back in flat path order, exactly the entries they were built from", async () => {
    await fc.assert(
      fc.asyncProperty(trees, async (entries) => {
        const stored = await storeTreeManifest(store, ALL, entries, []);
        const opened = openManifest(store, stored.sha256);
        expect(flattenManifest(store, opened)).toEqual(entries);
        expect(opened.totals.files).toBe(entries.filter((e) => e.kind === "file").length);
        for (const entry of entries) expect(lookupEntry(store, opened, entry.path)).toEqual(entry);
        expect(lookupEntry(store, opened, "no/such/path")).toBeNull();
      }),
      { numRuns: 150 },
    );
  });

  it("pages by prefix and cursor exactly as the flat list's slices", async () => {
    await fc.assert(
      fc.asyncProperty(trees, fc.constantFrom("", "a", "a/", "a-", "a/a", "b/a0", "\udce9"), fc.option(fc.constantFrom("a", "a-b", "a/b", "a0", "b/a", "z")), async (entries, prefix, after) => {
        const opened = openManifest(store, (await storeTreeManifest(store, ALL, entries, [])).sha256);
        const expected = entries.filter((e) => e.path.startsWith(prefix) && (after === null || e.path > after));
        expect([...walkEntries(store, opened, { prefix, after: after ?? undefined })]).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it("compares two trees as compareManifests compares the two flat lists", async () => {
    await fc.assert(
      fc.asyncProperty(trees, trees, async (before, after) => {
        const a = openManifest(store, (await storeTreeManifest(store, ALL, before, [])).sha256);
        const b = openManifest(store, (await storeTreeManifest(store, ALL, after, [])).sha256);
        expect(compareTrees(store, a, b)).toEqual(compareManifests(before, after));
        // A flat manifest of an earlier release is compared the same way.
        expect(compareTrees(store, fromFlat({ version: 1, scope: ALL, entries: before }, "flat"), b)).toEqual(compareManifests(before, after));
      }),
      { numRuns: 150 },
    );
  });

  it("compares only what both scopes cover", async () => {
    const entry = (p: string, n: number): ManifestEntry => ({ path: p, kind: "file", mode: 0o644, size: n, mtimeMs: n, sha256: SHA(n), reason: "primary" });
    const dirEntry = (p: string): ManifestEntry => ({ path: p, kind: "dir", mode: 0o755, size: 0, mtimeMs: 1, reason: "primary" });
    const full = [entry("a.txt", 1), dirEntry("src"), entry("src/x.ts", 2), entry("src/y.ts", 3)];
    // A partial checkpoint records no folders above its paths.
    const partial = [entry("src/x.ts", 4)];
    const a = openManifest(store, (await storeTreeManifest(store, ALL, full, [])).sha256);
    const scope: CheckpointScope = { kind: "paths", paths: ["src/x.ts"] };
    const b = openManifest(store, (await storeTreeManifest(store, scope, partial, [])).sha256);
    expect(flattenManifest(store, b)).toEqual(partial);
    const comparison = compareTrees(store, a, b, { scopes: [a.scope, b.scope] });
    expect(comparison.changes.map((c) => [c.path, c.change])).toEqual([["src/x.ts", "modified"]]);
  });

  it("stores a second state by writing only the folders on the changed path", async () => {
    const entries: ManifestEntry[] = [];
    for (let d = 0; d < 20; d++) {
      entries.push({ path: `d${d}`, kind: "dir", mode: 0o755, size: 0, mtimeMs: 1, reason: "primary" });
      entries.push({ path: `d${d}/sub`, kind: "dir", mode: 0o755, size: 0, mtimeMs: 1, reason: "primary" });
      for (let f = 0; f < 10; f++) entries.push({ path: `d${d}/sub/f${f}`, kind: "file", mode: 0o644, size: 1, mtimeMs: 1, sha256: SHA(d * 100 + f), reason: "primary" });
    }
    entries.sort(byPath);
    const first = await storeTreeManifest(store, ALL, entries, []);
    expect(first.newTrees).toBe(41); // the root, 20 folders and their 20 subfolders
    const changed = entries.map((e) => (e.path === "d7/sub/f3" ? { ...e, sha256: SHA(99999) } : e));
    const second = await storeTreeManifest(store, ALL, changed, []);
    expect(second.newTrees).toBe(3); // d7/sub, d7 and the root
    expect(second.newBytes).toBeLessThan(first.newBytes / 5);
    const again = await storeTreeManifest(store, ALL, changed, []);
    expect(again).toMatchObject({ sha256: second.sha256, newTrees: 0, newBytes: 0 });
  });

  it("patched with what changed, is exactly the tree of the new entries, and reads only the folders on the changed paths", async () => {
    await fc.assert(
      fc.asyncProperty(trees, trees, async (before, after) => {
        const stored = await storeTreeManifest(store, ALL, before, []);
        const patch = patchBetween(before, after);
        const emitted = new Set<string>();
        const patched = patchTree(store, stored.root, patch, (sha) => void emitted.add(sha));
        const expected = buildTrees(after, () => undefined);
        expect({ root: patched.root, totals: patched.totals }).toEqual(expected);
        // Every folder it wrote is on the path of an edit (the root's included).
        const edited = [...patch.replacements.map((r) => r.path), ...patch.folders.map((f) => f.path)];
        const onEditedPaths = new Set<string>([""]);
        for (const p of edited) for (let at = p; at !== ""; at = at.includes("/") ? at.slice(0, at.lastIndexOf("/")) : "") onEditedPaths.add(at);
        const rebuilt = after.filter((e) => e.kind === "dir" && patch.replacements.some((r) => e.path === r.path || e.path.startsWith(`${r.path}/`)));
        expect(emitted.size).toBeLessThanOrEqual(onEditedPaths.size + rebuilt.length);
        if (edited.length === 0) expect(emitted.size).toBe(1);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses a patch that edits inside what is not a folder of the tree", async () => {
    const entries: ManifestEntry[] = [{ path: "a", kind: "file", mode: 0o644, size: 1, mtimeMs: 1, sha256: SHA(1), reason: "primary" }];
    const stored = await storeTreeManifest(store, ALL, entries, []);
    const folder: ManifestEntry = { path: "a/b", kind: "dir", mode: 0o755, size: 0, mtimeMs: 1, reason: "primary" };
    expect(() => patchTree(store, stored.root, { replacements: [], folders: [folder] }, () => undefined)).toThrow(TreePatchMismatch);
  });
});

/** A folder of many files (and a small folder inside it): large enough to be stored as pages. */
function largeFolder(files: number, seed: number, options: { unstableEvery?: number } = {}): ManifestEntry[] {
  const entries: ManifestEntry[] = [
    { path: "big", kind: "dir", mode: 0o755, size: 0, mtimeMs: 1, reason: "primary" },
    { path: "big/inner", kind: "dir", mode: 0o755, size: 0, mtimeMs: 1, reason: "primary" },
    { path: "big/inner/x.ts", kind: "file", mode: 0o644, size: 3, mtimeMs: 1, sha256: SHA(1), reason: "primary" },
    { path: "top.txt", kind: "file", mode: 0o644, size: 3, mtimeMs: 1, sha256: SHA(2), reason: "primary" },
  ];
  for (let i = 0; i < files; i++) {
    // Some files changed while they were read: recorded without content, reported apart by comparisons.
    const unstable = options.unstableEvery !== undefined && i % options.unstableEvery === 5;
    const entry: ManifestEntry = { path: `big/file-${seed}-${i}.ts`, kind: "file", mode: 0o644, size: i, mtimeMs: 1000 + i, reason: "primary" };
    entries.push(unstable ? { ...entry, unstable: true } : { ...entry, sha256: SHA(10_000 + i) });
  }
  return entries.sort(byPath);
}

/** Some files of `entries` under big/ edited, removed and added (by index, so runs are reproducible). */
function editLarge(entries: readonly ManifestEntry[], edits: { at: number; op: "edit" | "remove" | "add" }[]): ManifestEntry[] {
  const next = new Map(entries.map((e) => [e.path, e]));
  const files = entries.filter((e) => e.kind === "file" && e.path.startsWith("big/file-"));
  for (const [n, { at, op }] of edits.entries()) {
    const target = files[at % files.length] as ManifestEntry;
    if (op === "edit") next.set(target.path, { ...target, sha256: SHA(90_000 + n), size: target.size + 1 });
    else if (op === "remove") next.delete(target.path);
    else {
      // Names before the folder's first and after its last: a change at either end of its pages.
      const added = `big/${n % 2 === 0 ? "added" : "zz"}-${n}-${at}.ts`;
      next.set(added, { path: added, kind: "file", mode: 0o644, size: 1, mtimeMs: 5, sha256: SHA(80_000 + n), reason: "primary" });
    }
  }
  return [...next.values()].sort(byPath);
}

describe("tree manifests of large folders (stored as pages)", () => {
  it("store a large folder as an index and pages, and read it back exactly", async () => {
    const entries = largeFolder(700, 1);
    const stored = await storeTreeManifest(store, ALL, entries, []);
    const opened = openManifest(store, stored.sha256);
    expect(flattenManifest(store, opened)).toEqual(entries);
    for (const entry of entries.filter((_, i) => i % 37 === 0)) expect(lookupEntry(store, opened, entry.path)).toEqual(entry);
    const big = lookupChild(opened.root, "big");
    const index = JSON.parse(store.readBuffer(big).toString("utf8")) as { pages?: string[]; files: number };
    expect(index.files).toBe(701);
    expect(index.pages?.length).toBeGreaterThan(3);
    // A small folder is one object, as before pages.
    expect(JSON.parse(store.readBuffer(opened.root).toString("utf8"))).toHaveProperty("children");
    // A flat manifest of an earlier release, turned into trees in memory, names the same folders.
    expect(fromFlat({ version: 1, scope: ALL, entries }, "flat").root).toBe(opened.root);
  });

  it("a change of one file writes that file's page, the folder's index and the folders above", async () => {
    const entries = largeFolder(700, 2);
    const first = await storeTreeManifest(store, ALL, entries, []);
    for (const op of ["edit", "remove", "add"] as const) {
      const changed = editLarge(entries, [{ at: 321, op }]);
      const second = await storeTreeManifest(store, ALL, changed, []);
      // The root, big's index, and the page (two when the name added or removed ends a page).
      expect(second.newTrees, op).toBeLessThanOrEqual(4);
      expect(second.newBytes, op).toBeLessThan(first.newBytes / 4);
    }
  });

  it("patched, compared and walked exactly as the flat lists say, whatever the edits", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 100, max: 600 }),
        fc.array(fc.record({ at: fc.nat(), op: fc.constantFrom("edit" as const, "remove" as const, "add" as const) }), { maxLength: 40 }),
        async (files, edits) => {
          const before = largeFolder(files, files);
          const after = editLarge(before, edits);
          const stored = await storeTreeManifest(store, ALL, before, []);
          const emitted = new Map<string, string>();
          const patched = patchTree(store, stored.root, patchBetween(before, after), (sha, bytes) => emitted.set(sha, bytes));
          expect({ root: patched.root, totals: patched.totals }).toEqual(buildTrees(after, () => undefined));
          // Pages the patch took over from the last tree are not emitted again: they are in the store already.
          for (const [sha, tree] of patched.patched) {
            expect(emitted.has(sha)).toBe(true);
            for (const page of tree.pages ?? []) expect(emitted.has(page) || store.has(page)).toBe(true);
          }
          const a = openManifest(store, stored.sha256);
          const b = openManifest(store, (await storeTreeManifest(store, ALL, after, [])).sha256);
          expect(b.root).toBe(patched.root);
          expect(compareTrees(store, a, b)).toEqual(compareManifests(before, after));
          expect([...walkEntries(store, b, { prefix: "big/file-", after: after[after.length >> 1]?.path })]).toEqual(
            after.filter((e) => e.path.startsWith("big/file-") && e.path > (after[after.length >> 1]?.path ?? "")),
          );
        },
      ),
      { numRuns: 40 },
    );
  });

  it("a run of patches, each from the trees the last one built, is exactly the trees of each state", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 150, max: 700 }),
        fc.array(fc.array(fc.record({ at: fc.nat(), op: fc.constantFrom("edit" as const, "remove" as const, "add" as const) }), { maxLength: 12 }), { minLength: 2, maxLength: 5 }),
        async (files, steps) => {
          let state = largeFolder(files, files + 7);
          let root = (await storeTreeManifest(store, ALL, state, [])).root;
          for (const step of steps) {
            const next = editLarge(state, step);
            const emitted = new Map<string, string>();
            const patched = patchTree(store, root, patchBetween(state, next), (sha, bytes) => emitted.set(sha, bytes));
            // What a checkpoint does: store what was emitted, and keep the built trees for the next patch.
            for (const [sha, bytes] of emitted) if (!store.has(sha)) store.putBuffer(bytes);
            cacheBuiltTrees(patched.patched, emitted);
            const expected = buildTrees(next, () => undefined);
            expect({ root: patched.root, totals: patched.totals }).toEqual(expected);
            expect(flattenManifest(store, { ...openManifest(store, (await storeTreeManifest(store, ALL, next, [])).sha256) })).toEqual(next);
            state = next;
            root = patched.root;
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it("reports the unstable files of a large folder's pages that are the same on both sides", async () => {
    const before = largeFolder(600, 4, { unstableEvery: 97 });
    // One file edited near the end: the pages before it are the same objects in both trees.
    const after = editLarge(before, [{ at: 590, op: "edit" }]);
    const a = openManifest(store, (await storeTreeManifest(store, ALL, before, [])).sha256);
    const b = openManifest(store, (await storeTreeManifest(store, ALL, after, [])).sha256);
    const comparison = compareTrees(store, a, b);
    expect(comparison).toEqual(compareManifests(before, after));
    expect(comparison.unstable.length).toBeGreaterThan(3);
  });

  it("a damaged page is named by its own object when the folder is read", async () => {
    const entries = largeFolder(300, 3);
    const opened = openManifest(store, (await storeTreeManifest(store, ALL, entries, [])).sha256);
    const index = JSON.parse(store.readBuffer(lookupChild(opened.root, "big")).toString("utf8")) as { pages: string[] };
    const page = index.pages[1] as string;
    const file = store.locate(page)?.path as string;
    fs.chmodSync(file, 0o644);
    fs.writeFileSync(file, "not the page\n");
    expect(() => readTree(store, lookupChild(opened.root, "big"), { folder: "big", fresh: true })).toThrow(new RegExp(`folder big \\(object ${page}\\) is corrupt`));
  });

  /** The tree hash of a top-level folder of the tree `root`. */
  function lookupChild(root: string, name: string): string {
    const child = readTree(store, root).children.find((c) => c.name === name);
    return child?.tree as string;
  }
});

/**
 * The patch a capture makes between two states: a path that is a folder in both
 * gets its own attributes; any other changed path is replaced whole (with what is
 * there now, nothing when it is gone), none under another.
 */
function patchBetween(before: readonly ManifestEntry[], after: readonly ManifestEntry[]): TreePatch {
  const was = new Map(before.map((e) => [e.path, e]));
  const now = new Map(after.map((e) => [e.path, e]));
  const changed = [...new Set([...was.keys(), ...now.keys()])].filter((p) => JSON.stringify(was.get(p)) !== JSON.stringify(now.get(p))).sort();
  const replaced = changed.filter((p) => was.get(p)?.kind !== "dir" || now.get(p)?.kind !== "dir");
  const under = (p: string, roots: readonly string[]) => roots.some((r) => p.startsWith(`${r}/`));
  const roots = replaced.filter((p) => !under(p, replaced));
  const folders = changed.filter((p) => !replaced.includes(p) && !under(p, roots)).map((p) => now.get(p) as ManifestEntry);
  return {
    replacements: roots.map((r) => ({ path: r, entries: after.filter((e) => e.path === r || e.path.startsWith(`${r}/`)) })),
    folders,
  };
}
