/**
 * Compares two checkpoints by their trees: a folder whose tree hash is the same
 * on both sides is skipped whole (its entries count as unchanged from its
 * totals), so the work follows what changed, not the size of the tree. Paths are
 * classified exactly as compareManifests does for a checkpoint and the live state.
 */
import type { ObjectStore } from "../store/object-store";
import type { CheckpointScope } from "./manifest-types";
import { classifyChange, type ManifestComparison, type PathChange } from "./compare";
import { treeOf, type OpenedManifest } from "./tree-read";
import { entryOfChild, type TreeChild, type TreeObject } from "./tree-format";

/** How much of a path a scope covers: all of it and below, only some paths below it, or nothing. */
type Coverage = "all" | "below" | "none";

export function scopeCoverage(scope: CheckpointScope | null, path: string): Coverage {
  if (!scope || scope.kind === "all") return "all";
  if (path === "") return scope.paths.includes("") ? "all" : "below";
  let below = false;
  for (const p of scope.paths) {
    if (p === "" || path === p || path.startsWith(`${p}/`)) return "all";
    if (p.startsWith(`${path}/`)) below = true;
  }
  return below ? "below" : "none";
}

/** The narrower of two coverages. */
function both(a: Coverage, b: Coverage): Coverage {
  if (a === "none" || b === "none") return "none";
  return a === "below" || b === "below" ? "below" : "all";
}

const EMPTY: TreeObject = { files: 0, dirs: 0, symlinks: 0, bytes: 0, children: [] };

interface Side {
  manifest: OpenedManifest;
  sha: string | null;
}

class TreeComparison {
  readonly changes: PathChange[] = [];
  readonly unstable: string[] = [];
  unchanged = 0;
  /** Unstable paths of `before` that `after` holds too (neither changed nor unchanged). */
  unstableHeld = 0;
  /**
   * Both checkpoints hold their whole component (no implicit folders, every path
   * compared): then the unchanged paths are counted from `after`'s totals at the
   * end, and a folder whose tree is the same on both sides is never read. Reading
   * each one for its totals read every unchanged sibling of every changed folder:
   * at 250,000 files, hundreds of folder trees per small change.
   */
  readonly countFromTotals: boolean;

  constructor(
    private readonly store: ObjectStore,
    private readonly before: OpenedManifest,
    private readonly after: OpenedManifest,
    /** Only paths both scopes cover are compared (null: everything). */
    private readonly scopes: [CheckpointScope | null, CheckpointScope | null],
  ) {
    this.countFromTotals = before.scope.kind === "all" && after.scope.kind === "all" && scopes.every((scope) => scope === null || scope.kind === "all");
  }

  private coverage(path: string): Coverage {
    return both(scopeCoverage(this.scopes[0], path), scopeCoverage(this.scopes[1], path));
  }

  private tree(side: Side, folder: string): TreeObject {
    return side.sha === null ? EMPTY : treeOf(this.store, side.manifest, side.sha, folder);
  }

  folder(beforeSha: string | null, afterSha: string | null, folder: string, coverage: Coverage): void {
    if (beforeSha === afterSha && coverage === "all") {
      if (beforeSha !== null && !this.countFromTotals) {
        const tree = this.tree({ manifest: this.before, sha: beforeSha }, folder);
        this.unchanged += tree.files + tree.dirs + tree.symlinks;
      }
      return;
    }
    const oldTree = this.tree({ manifest: this.before, sha: beforeSha }, folder);
    const nowTree = this.tree({ manifest: this.after, sha: afterSha }, folder);
    const olds = oldTree.children;
    const nows = nowTree.children;
    const base = folder === "" ? "" : `${folder}/`;
    // A page of a large folder that is the same object on both sides holds the same children: only its unstable files are news.
    const oldPages = this.countFromTotals && coverage === "all" ? pageStarts(oldTree) : null;
    const nowPages = oldPages ? pageStarts(nowTree) : null;
    let i = 0;
    let j = 0;
    while (i < olds.length || j < nows.length) {
      const samePage = oldPages?.get(i);
      if (samePage && nowPages?.get(j)?.sha === samePage.sha) {
        for (let k = i; k < i + samePage.size; k++) {
          const child = olds[k] as TreeChild;
          if (child.unstable) {
            this.unstable.push(base + child.name);
            this.unstableHeld++;
          }
        }
        i += samePage.size;
        j += samePage.size;
        continue;
      }
      const old = olds[i];
      const now = nows[j];
      let pair: [TreeChild | undefined, TreeChild | undefined];
      if (now === undefined || (old !== undefined && old.name < now.name)) {
        pair = [old, undefined];
        i++;
      } else if (old === undefined || now.name < old.name) {
        pair = [undefined, now];
        j++;
      } else {
        pair = [old, now];
        i++;
        j++;
      }
      const name = ((pair[0] ?? pair[1]) as TreeChild).name;
      const path = base + name;
      const childCoverage = coverage === "all" ? "all" : this.coverage(path);
      if (childCoverage === "none") continue;
      this.child(path, pair[0], pair[1], childCoverage);
    }
  }

  private child(path: string, old: TreeChild | undefined, now: TreeChild | undefined, coverage: Coverage): void {
    const oldEntry = old && !old.implicit && coverage === "all" ? entryOfChild(old, path) : undefined;
    const nowEntry = now && !now.implicit && coverage === "all" ? entryOfChild(now, path) : undefined;
    if (oldEntry?.unstable) {
      this.unstable.push(path);
      if (nowEntry) this.unstableHeld++;
    } else if (oldEntry && nowEntry) {
      const change = classifyChange(oldEntry, nowEntry);
      if (change) this.changes.push({ path, change, before: oldEntry, after: nowEntry });
      else this.unchanged++;
    } else if (oldEntry) this.changes.push({ path, change: "deleted", before: oldEntry });
    else if (nowEntry) this.changes.push({ path, change: "added", after: nowEntry });
    const oldTree = old?.kind === "dir" ? (old.tree as string) : null;
    const nowTree = now?.kind === "dir" ? (now.tree as string) : null;
    if (oldTree !== null || nowTree !== null) this.folder(oldTree, nowTree, path, coverage);
  }
}

/** Where each page of a paged folder's children starts (none for a folder of one object, or one read without its page sizes). */
function pageStarts(tree: TreeObject): Map<number, { sha: string; size: number }> | null {
  const { pages, pageSizes } = tree;
  if (!pages || !pageSizes || pages.length !== pageSizes.length) return null;
  const starts = new Map<number, { sha: string; size: number }>();
  let offset = 0;
  for (let p = 0; p < pages.length; p++) {
    const size = pageSizes[p] as number;
    starts.set(offset, { sha: pages[p] as string, size });
    offset += size;
  }
  return offset === tree.children.length ? starts : null;
}

export interface TreeCompareOptions {
  /** Compare only the paths both these scopes cover (for checkpoints of different scopes). */
  scopes?: [CheckpointScope | null, CheckpointScope | null];
}

/** `before` and `after` are two checkpoints; the result is as compareManifests's, sorted by path. */
export function compareTrees(store: ObjectStore, before: OpenedManifest, after: OpenedManifest, options: TreeCompareOptions = {}): ManifestComparison {
  const comparison = new TreeComparison(store, before, after, options.scopes ?? [null, null]);
  const coverage = both(scopeCoverage(options.scopes?.[0] ?? null, ""), scopeCoverage(options.scopes?.[1] ?? null, ""));
  if (coverage !== "none") comparison.folder(before.root, after.root, "", coverage);
  if (comparison.countFromTotals) {
    // Every path of `after` is added, changed, unstable before, or unchanged.
    const held = after.totals.files + after.totals.dirs + after.totals.symlinks;
    comparison.unchanged = held - comparison.changes.filter((c) => c.after !== undefined).length - comparison.unstableHeld;
  }
  const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  return { changes: comparison.changes.sort(byPath), unchanged: comparison.unchanged, unstable: comparison.unstable.sort() };
}
