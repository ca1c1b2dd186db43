/**
 * The workspace compared with a checkpoint: what a rollback plan, its confirm
 * token and the rollback itself are computed from.
 *
 * In the server with Watchman, a checkpoint of the whole component is compared
 * by trees: the live tree is the component's last whole capture (patched with
 * the paths Watchman reported since, patched-capture.ts), and the comparison
 * skips every folder whose tree is the same on both sides. Only the changed
 * paths are stat'ed, read and held in memory, and the checkpoint's entries are
 * looked up in its trees one path at a time. Otherwise (a CLI process, Watchman
 * off or unsure, a checkpoint of some paths, a flat manifest of an earlier
 * release, a recovery) the scope is captured and compared whole.
 *
 * Both ways give the same comparison for the same workspace, and the confirm
 * token's fingerprint is computed from the comparison alone, so a plan made one
 * way is confirmed by a rollback made the other.
 */
import { createHash } from "node:crypto";
import type { Core } from "../core";
import { compareManifests, withoutUnheldNestedGit, type ManifestComparison } from "./compare";
import type { CommitRequest } from "./commit";
import { captureCheckpointScope, scanExcludes, type ComponentScanTarget, type LiveState } from "./live-state";
import { entriesByPath, manifestOf } from "./manifest";
import type { CheckpointScope, EntryLookup, Manifest, ManifestEntry } from "./manifest-types";
import { entriesWithin } from "./entries-within";
import { tryCapturePatched } from "./patched-capture";
import { compareTrees } from "./tree-diff";
import type { TreeObject } from "./tree-format";
import { childAtPath, lookupEntry, type OpenedManifest } from "./tree-read";
import { probeChanges, rememberCapture, unchangedCaptureStats } from "./unchanged-capture";
import { assertRootUsableNow } from "../registry/roots";

export interface WorkspaceState {
  /** The checkpoint (before) against the workspace (after). */
  comparison: ManifestComparison;
  /** What the capture read (compared by trees: only the paths scanned again). */
  live: LiveState;
  /** Compared by trees: the live tree, for a safety checkpoint to store as it is. */
  builtTree: CommitRequest["builtTree"];
  /** The fingerprint a confirm token is bound to (comparisonFingerprint). */
  liveSha: string;
  /** The checkpoint's entries (compared by trees: looked up in its trees as asked for). */
  target: EntryLookup;
  /** The workspace's entries at the paths that differ from the checkpoint. */
  changedLive: EntryLookup;
  /** Remembers the live tree as the component's last whole capture, once it is stored. */
  remember?: () => void;
}

export interface WorkspaceOptions {
  /** Store what is read (a rollback's safety checkpoint); without it nothing is written (a plan). */
  storeObjects: boolean;
  onProgress?: (done: number, total: number) => void;
  /** Always capture and compare the whole scope (a recovery, which trusts no remembered tree). */
  whole?: boolean;
  /**
   * Compare only these paths of the checkpoint (a rollback restricted to them:
   * server/rollback/path-restriction.ts): their scope is captured, and only the
   * checkpoint's entries at and under them are read.
   */
  paths?: readonly string[];
}

export async function compareWorkspace(core: Core, component: ComponentScanTarget, checkpoint: OpenedManifest, options: WorkspaceOptions): Promise<WorkspaceState> {
  const byTrees = options.whole || options.paths ? null : await compareByTrees(core, component, checkpoint, options);
  if (byTrees) return byTrees;
  const manifest = options.paths ? restrictedManifest(core, checkpoint, options.paths) : manifestOf(core.store, checkpoint);
  const { target, live } = await captureCheckpointScope(core, component, manifest, options);
  const comparison = withoutUnheldNestedGit(compareManifests(target, live.entries));
  const liveByPath = comparison.unstable.length > 0 ? entriesByPath(live.entries) : new Map<string, ManifestEntry>();
  return {
    comparison,
    live,
    builtTree: undefined,
    liveSha: comparisonFingerprint(manifest.scope, comparison, (p) => liveByPath.get(p)),
    target: entriesByPath(manifest.entries),
    changedLive: changedLiveEntries(comparison),
  };
}

/** The checkpoint as far as it holds `paths`: their scope and entries (no databases: a restricted rollback restores files only). */
function restrictedManifest(core: Core, checkpoint: OpenedManifest, paths: readonly string[]): Manifest {
  return { version: checkpoint.version, scope: { kind: "paths", paths: [...paths] }, databases: [], entries: entriesWithin(core.store, checkpoint, paths) };
}

/** The comparison by trees (see the module comment), or null when the scope must be captured whole. */
async function compareByTrees(core: Core, component: ComponentScanTarget, checkpoint: OpenedManifest, options: WorkspaceOptions): Promise<WorkspaceState | null> {
  // A flat manifest's trees are built in memory from all its entries: nothing to skip.
  if (checkpoint.memory || checkpoint.scope.kind !== "all") return null;
  const probe = await probeChanges(core, component);
  if (!probe.unchanged && !probe.changed) return null;
  await assertRootUsableNow(core, component);
  // A path the scan now leaves out (a SQLite target's file, the data directory) is never compared: the whole capture filters it.
  if (scanExcludes(core, component).some((p) => childAtPath(core.store, checkpoint.root, p) !== null)) return null;

  let live: LiveState;
  let tree: NonNullable<CommitRequest["builtTree"]>;
  let memory: Map<string, TreeObject> | undefined;
  let remember: (() => void) | undefined;
  if (probe.unchanged) {
    live = { entries: [], bytes: probe.unchanged.totals.bytes, newBytes: 0, filesRead: 0, unstable: [] };
    tree = probe.unchanged;
    remember = () => rememberCapture(core, component.id, probe.token, tree.root, null, 0);
    unchangedCaptureStats.reused++;
  } else {
    const patched = await tryCapturePatched(core, component, probe.changed as { root: string; paths: string[] }, options);
    // A file that kept changing while read is recorded without content: the whole capture says how the comparison treats it.
    if (!patched || patched.live.unstable.length > 0) return null;
    live = patched.live;
    tree = patched.tree;
    memory = new Map([...patched.tree.fresh].map(([sha, bytes]) => [sha, JSON.parse(bytes) as TreeObject]));
    remember = () => rememberCapture(core, component.id, probe.token, tree.root, patched.scanned, 0);
    unchangedCaptureStats.patched++;
  }
  const liveTree: OpenedManifest = { sha256: "", version: 4, scope: checkpoint.scope, databases: [], root: tree.root, totals: tree.totals, memory };
  const comparison = withoutUnheldNestedGit(compareTrees(core.store, checkpoint, liveTree));
  return {
    comparison,
    live,
    builtTree: tree,
    liveSha: comparisonFingerprint(checkpoint.scope, comparison, (p) => lookupEntry(core.store, liveTree, p) ?? undefined),
    target: checkpointLookup(core, checkpoint, comparison),
    changedLive: changedLiveEntries(comparison),
    remember: options.storeObjects ? remember : undefined,
  };
}

/** The checkpoint's entries: the changed ones from the comparison, any other (a folder above them) from its trees, each once. */
function checkpointLookup(core: Core, checkpoint: OpenedManifest, comparison: ManifestComparison): EntryLookup {
  const known = new Map<string, ManifestEntry | undefined>();
  for (const change of comparison.changes) if (change.before) known.set(change.path, change.before);
  return {
    get(path) {
      if (!known.has(path)) known.set(path, lookupEntry(core.store, checkpoint, path) ?? undefined);
      return known.get(path);
    },
  };
}

function changedLiveEntries(comparison: ManifestComparison): EntryLookup {
  return new Map(comparison.changes.filter((c) => c.after).map((c) => [c.path, c.after as ManifestEntry]));
}

/**
 * What "the workspace changed since the plan" means: the comparison with the
 * checkpoint is not the same. The checkpoint does not change, so any entry of
 * the scope added, removed, or changed in kind, content, link target, mode, size
 * or file mtime (to the millisecond) changes either which paths differ or how
 * they are now. Folder mtimes are left out (they move whenever anything inside
 * changes, ignored files included, and a rollback does not compare them either).
 * A path the checkpoint recorded as unstable is no change, so it is taken as it
 * is now (`liveAt`).
 */
export function comparisonFingerprint(scope: CheckpointScope, comparison: ManifestComparison, liveAt: (path: string) => ManifestEntry | undefined): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify(scope));
  const entry = (e: ManifestEntry | undefined) => {
    if (!e) return;
    const mtime = e.kind === "dir" ? "" : String(Math.floor(e.mtimeMs));
    hash.update(`\0${e.kind}\0${e.mode}\0${e.kind === "file" ? e.size : 0}\0${mtime}\0${e.sha256 ?? ""}\0${e.linkTarget ?? ""}\0${e.hardlinkTo ?? ""}`);
    if (e.sparse !== undefined) hash.update(`\0sparse:${e.sparse.dataBytes}`);
  };
  for (const { path, change, after } of comparison.changes) {
    hash.update(`\n${path}\0${change}`);
    entry(after);
  }
  for (const path of comparison.unstable) {
    hash.update(`\n${path}\0unstable`);
    entry(liveAt(path));
  }
  return hash.digest("hex");
}
