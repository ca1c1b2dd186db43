/**
 * A whole-component checkpoint costs what changed since the last one. The server
 * remembers, per component, the root tree of its last whole capture and the
 * Watchman token taken just before that capture's scan began. When Watchman
 * vouches that no path changed since that token, the new checkpoint is that same
 * tree: nothing is walked, read or stored but its root record. When it reports a
 * few paths, the tree is patched with them (patched-capture.ts).
 *
 * Neither is used, and the capture walks and reads as usual, when:
 *   - there is no change tracker (a CLI process, Watchman off or missing) or
 *     Watchman cannot vouch for the changes (a restart, a recrawl, a rule change);
 *   - that capture held a file it could not read consistently (unstable), or a
 *     file with other names (a hard link): a write through a name outside the root
 *     is not an event under it;
 *   - the store collected objects since (retention), or the root tree is gone: an
 *     interrupted collection may have taken some of its folders' trees.
 * The token is taken before the scan, so a change made while a capture runs is
 * reported next time: at worst a capture that could have been skipped is not.
 */
import type { Core } from "../core";
import type { ComponentScanTarget } from "./live-state";
import { scanExcludes } from "./live-state";
import { changeTracker } from "../scan/change-tracker";
import type { ScannedEntry } from "./manifest-types";
import { readTree } from "./tree-read";
import type { TreeTotals } from "./tree-format";
import type { GitInfo } from "./git-info";

interface LastCapture {
  /** Watchman's token from just before the capture's scan. */
  token: string;
  root: string;
  /** The store's collection generation when it was remembered: every tree of it was stored then. */
  generation: number;
  /** Git's answer for the root, asked after the token was taken (none for a safety checkpoint). */
  git: RememberedGit | null;
}

/** Git's answer and the signature of the repository it was given for (git-info.ts). */
export interface RememberedGit {
  info: GitInfo | null;
  signature: string;
}

/**
 * Process-wide, like the change tracker: the server's bundles (the API routes, the
 * local CLI socket) each hold a copy of this module, and must share one memory.
 */
const SLOT = Symbol.for("safetynet.lastCaptures");
type Slot = { [SLOT]?: { captures: Map<string, LastCapture>; stats: { reused: number; patched: number } } };
const shared = ((globalThis as Slot)[SLOT] ??= { captures: new Map(), stats: { reused: 0, patched: 0 } });
const lastCaptures = shared.captures;

/**
 * Whole-component captures since the process started (checkpoints, and the live
 * state of rollback plans and rollbacks) that reused the last tree (no scan, no
 * read), and that patched it with what Watchman reported changed.
 */
export const unchangedCaptureStats = shared.stats;

export interface ChangeProbe {
  /** The token to remember with the capture about to be taken (null: nothing to remember). */
  token: string | null;
  /**
   * The tree to reuse: nothing changed since the last capture; with git's answer then
   * (still right while the repository's signature is the same: the work tree did not change).
   */
  unchanged: { root: string; totals: TreeTotals; git: RememberedGit | null } | null;
  /** The last capture's tree and the paths Watchman reported changed since (patched-capture.ts). */
  changed: { root: string; paths: string[] } | null;
}

const NO_PROBE: ChangeProbe = { token: null, unchanged: null, changed: null };

/** Asks Watchman what changed since the component's last whole capture. */
export async function probeChanges(core: Core, component: ComponentScanTarget): Promise<ChangeProbe> {
  const tracker = changeTracker();
  if (!tracker) return NO_PROBE;
  const last = lastCaptures.get(component.id);
  const options = { include: component.include, exclude: component.exclude, extraExcludes: scanExcludes(core, component) };
  let changes;
  try {
    changes = await tracker.changesSince(component.id, component.root, options, last?.token ?? null);
  } catch {
    return NO_PROBE;
  }
  if (changes.fresh || !last || last.generation !== core.store.collectionGeneration() || !core.store.has(last.root)) return { token: changes.token, unchanged: null, changed: null };
  if (changes.paths.length > 0) return { token: changes.token, unchanged: null, changed: { root: last.root, paths: changes.paths } };
  try {
    const tree = readTree(core.store, last.root, { folder: "" });
    return { token: changes.token, unchanged: { root: last.root, totals: { files: tree.files, dirs: tree.dirs, symlinks: tree.symlinks, bytes: tree.bytes }, git: last.git }, changed: null };
  } catch {
    return { token: changes.token, unchanged: null, changed: null };
  }
}

/** Remembers a whole capture (or forgets the component's, when it cannot be reused). */
export function rememberCapture(
  core: Core,
  componentId: string,
  token: string | null,
  root: string,
  scanned: readonly ScannedEntry[] | null,
  unstable: number,
  git: RememberedGit | null = null,
): void {
  const reusable = token !== null && unstable === 0 && (scanned === null || scanned.every((e) => e.kind !== "file" || (e.nlink ?? 1) <= 1));
  if (reusable) lastCaptures.set(componentId, { token, root, generation: core.store.collectionGeneration(), git });
  else lastCaptures.delete(componentId);
}
