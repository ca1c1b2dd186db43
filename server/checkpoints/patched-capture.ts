/**
 * A whole-component checkpoint after a small change, made from the tree of the
 * component's last whole capture and the paths Watchman reported changed since:
 * only those paths are stat'ed and scanned again, only the files among them are
 * read, and only the folders on their paths get new tree objects. Every other
 * folder keeps its tree (tree-patch.ts), so the cost follows the change.
 *
 * What is looked at again:
 *   - a reported path that is a folder in the last tree and still a folder now:
 *     its own mode and mtime, and its names against the tree's (a name that came
 *     or went without a report of its own is scanned like a reported one);
 *   - any other reported path: scanned again as a scope (with the ignore rules of
 *     its folders), replacing what the tree had there, subtree included;
 *   - the folders above those: their mode and mtime.
 *
 * It gives way to a full capture (null) when the change is large (then a walk
 * costs less than many lookups), when the component has include globs (a
 * folder's presence then depends on what is below it), and when a file scanned
 * again has other names (a write through a name outside the root is not an event
 * under it). A patch that does not fit the last tree (TreePatchMismatch) also
 * means the caller captures the whole tree.
 */
import type { Stats } from "node:fs";
import type { Core } from "../core";
import { FileVanishedError, IntegrityError } from "../errors";
import { assertRootUsableNow } from "../registry/roots";
import { includesEverything, lstatOrNull, MAX_INCREMENTAL_PATHS } from "../scan/change-tracker";
import { comparePaths, coveredByAncestor, readDirents, scanComponent } from "../scan/walk";
import { captureChangedEntries, scanExcludes, type ComponentScanTarget, type LiveState } from "./live-state";
import type { ManifestEntry, ScannedEntry } from "./manifest-types";
import type { TreeTotals } from "./tree-format";
import { patchTree, TreePatchMismatch, type TreeReplacement } from "./tree-patch";
import { cacheBuiltTrees, childAtPath, readTree } from "./tree-read";

export interface PatchedCapture {
  /** What was read: the entries scanned again (with their content stored, when asked to). */
  live: LiveState;
  /** The checkpoint's tree, and the tree objects of it not yet in the store. */
  tree: { root: string; totals: TreeTotals; fresh: Map<string, string> };
  /** The entries scanned again (their link counts decide whether this capture can be a base in turn). */
  scanned: ScannedEntry[];
}

export interface PatchOptions {
  /**
   * Store the content of the files read and record them in the stat cache (a
   * checkpoint); without it they are only hashed, and nothing is written (a plan).
   */
  storeObjects: boolean;
  onProgress?: (done: number, total: number) => void;
}

/**
 * The whole component as it is now, from the tree `baseRoot` (its last whole
 * capture) and the root-relative `reported` paths that may have changed since.
 * Null: capture the whole tree instead (see the module comment).
 */
export async function capturePatched(core: Core, component: ComponentScanTarget, baseRoot: string, reported: readonly string[], patch: PatchOptions): Promise<PatchedCapture | null> {
  const options = { include: component.include, exclude: component.exclude, extraExcludes: scanExcludes(core, component) };
  if (!includesEverything(options)) return null;
  const store = core.store;
  const base = readTree(store, baseRoot, { folder: "" });
  if (reported.length > Math.min(MAX_INCREMENTAL_PATHS, Math.max(100, base.files / 10))) return null;
  await assertRootUsableNow(core, component);
  const root = component.root;

  // Which paths are replaced whole, and which folders stay folders with new attributes.
  const replaced = new Set<string>();
  const folders = new Map<string, ManifestEntry>();
  const queue = reported.filter((p) => p !== "");
  const queued = new Set(queue);
  for (let i = 0; i < queue.length; i++) {
    const rel = queue[i] as string;
    const before = childAtPath(store, baseRoot, rel);
    const now = lstatOrNull(root, rel);
    if (before?.kind !== "dir" || before.implicit || !now?.isDirectory()) {
      replaced.add(rel);
      continue;
    }
    folders.set(rel, folderEntry(rel, now));
    const had = new Set(readTree(store, before.tree as string, { folder: rel }).children.map((c) => c.name));
    const has = namesIn(root, rel);
    if (!has) return null;
    for (const name of [...has].filter((n) => !had.has(n)).concat([...had].filter((n) => !has.has(n)))) {
      const child = `${rel}/${name}`;
      if (!queued.has(child)) {
        queued.add(child);
        queue.push(child);
      }
    }
  }
  const roots = [...replaced].filter((p) => !coveredByAncestor(p, replaced)).sort(comparePaths);
  for (const p of [...folders.keys()]) if (coveredByAncestor(p, replaced) || replaced.has(p)) folders.delete(p);
  // The folders above every edit: making or removing an entry moved their mtimes.
  for (const p of [...roots, ...folders.keys()]) {
    for (let slash = p.lastIndexOf("/"); slash > 0; slash = p.lastIndexOf("/", slash - 1)) {
      const above = p.slice(0, slash);
      if (folders.has(above)) continue;
      const st = lstatOrNull(root, above);
      if (!st?.isDirectory()) return null;
      folders.set(above, folderEntry(above, st));
    }
  }

  const scanned = roots.length === 0 ? [] : scanComponent(root, { ...options, scope: { kind: "paths", paths: roots } });
  if (scanned.some((e) => e.kind === "file" && e.nlink !== undefined)) return null;
  const present = new Set(scanned.map((e) => e.path));
  const live = await captureChangedEntries(core, component, scanned, [...replaced].filter((p) => !present.has(p)), patch);

  const byRoot = new Map<string, ManifestEntry[]>(roots.map((r) => [r, []]));
  for (const entry of live.entries) (byRoot.get(replacementRootOf(entry.path, byRoot)) as ManifestEntry[]).push(entry);
  const replacements: TreeReplacement[] = roots.map((path) => ({ path, entries: byRoot.get(path) as ManifestEntry[] }));
  const fresh = new Map<string, string>();
  const emitted = new Map<string, string>();
  const patched = patchTree(store, baseRoot, { replacements, folders: [...folders.values()] }, (sha, bytes) => {
    emitted.set(sha, bytes);
    if (!fresh.has(sha) && !store.has(sha)) fresh.set(sha, bytes);
  });
  cacheBuiltTrees(patched.patched, emitted);
  return { live: { ...live, bytes: patched.totals.bytes }, tree: { root: patched.root, totals: patched.totals, fresh }, scanned };
}

/** The replacement root `p` is (or is under): scans of a scope return nothing outside it. */
function replacementRootOf(p: string, roots: ReadonlyMap<string, unknown>): string {
  for (let at = p; ; at = at.slice(0, at.lastIndexOf("/"))) {
    if (roots.has(at)) return at;
    if (!at.includes("/")) throw new Error(`a scan of the changed paths returned ${p}, outside them`);
  }
}

/** The names in a folder now; null when it cannot be listed (the full capture says why). */
function namesIn(root: string, rel: string): Set<string> | null {
  try {
    return new Set(readDirents(`${root}/${rel}`).map((d) => d.name));
  } catch {
    return null;
  }
}

function folderEntry(rel: string, st: Stats): ManifestEntry {
  return { path: rel, kind: "dir", mode: st.mode & 0o7777, size: 0, mtimeMs: st.mtimeMs, reason: "primary" };
}

/**
 * capturePatched, or null when the whole scope must be captured instead: it gave
 * way (see above), the changes did not fit the last tree, a file vanished while
 * read, or a tree of the last capture is damaged (logged, with the reason).
 */
export async function tryCapturePatched(core: Core, component: ComponentScanTarget, changed: { root: string; paths: string[] }, patch: PatchOptions): Promise<PatchedCapture | null> {
  try {
    return await capturePatched(core, component, changed.root, changed.paths, patch);
  } catch (error) {
    if (!(error instanceof TreePatchMismatch || error instanceof FileVanishedError || error instanceof IntegrityError)) throw error;
    core.log.info({ event: "checkpoint.patch_skipped", component: component.name, reason: error.message }, "the last tree could not be patched with the reported changes: capturing the whole component");
    return null;
  }
}
