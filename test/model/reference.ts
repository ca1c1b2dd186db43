/**
 * The reference model of the model-based test: what a checkpoint must hold, what
 * `checkpoint diff` must list and what a rollback must leave, computed from trees
 * read with the test's own reader (test/support/workspace.ts readTree), never with
 * the product's scanner. Its rules are the product's promises, written out:
 *
 * - A checkpoint holds every entry of its scope that is not ignored: files (content,
 *   mode, mtime), directories (mode) and symlinks (target, never followed).
 * - Ignored: any path with a segment node_modules, .git, .next, dist or .safetynet,
 *   and files or folders whose name ends in ".log" (the workspace's .gitignore).
 * - A partial checkpoint of a file covers the file, its tests (x.test.*), its
 *   same-stem siblings (x.md) and the files it imports relatively ("./y" → y.ts),
 *   and everything under each of those paths; of a folder, the folder's subtree.
 * - Files of one checkpoint that are one inode under several names (hard links) are
 *   one file again after a rollback: each later name (in code-unit order) is
 *   another name of the first; files that were separate stay separate.
 * - A sparse file (1 MiB or more in holes) comes back sparse, with the same bytes;
 *   a dense one dense. The same bytes with and without holes are a modification.
 * - A memory store the agent overwrote with bytes that are not a database is kept
 *   as those bytes by the safety checkpoint of a rollback that replaces it: the
 *   undo gives them back exactly. A checkpoint with the database is refused then.
 * - A path the checkpoint recorded as unstable (it kept changing while read) has
 *   no content there: diffs and plans leave it out and rollbacks leave it alone.
 * - A rollback makes the in-scope tree equal to the checkpoint, except folders the
 *   checkpoint did not have that still hold ignored files (never touched, so they
 *   stay); ignored and out-of-scope entries are untouched. It is refused, changing
 *   nothing, when a file or link must take the place of a folder that still holds
 *   ignored files, or when a parent it needs is a file or link outside its scope.
 */
import type { NodeState, TreeState } from "../support/workspace";

export type Scope = { kind: "all" } | { kind: "paths"; paths: string[] };

const BUILTIN_IGNORED = new Set(["node_modules", ".git", ".next", "dist", ".safetynet"]);

export function isIgnored(rel: string): boolean {
  for (const segment of rel.split("/")) if (BUILTIN_IGNORED.has(segment) || segment.endsWith(".log")) return true;
  return false;
}

export function inScope(scope: Scope, rel: string): boolean {
  if (scope.kind === "all") return true;
  return scope.paths.some((p) => rel === p || rel.startsWith(`${p}/`));
}

/** The entries a checkpoint of `scope` sees in `tree`. */
export function scopedView(tree: TreeState, scope: Scope): TreeState {
  const view: TreeState = new Map();
  for (const [rel, node] of tree) {
    if (node.kind === "other" || isIgnored(rel) || !inScope(scope, rel)) continue;
    view.set(rel, node);
  }
  return view;
}

const dirOf = (rel: string) => (rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "");
const nameOf = (rel: string) => rel.slice(rel.lastIndexOf("/") + 1);
const stemOf = (name: string) => (name.lastIndexOf(".") > 0 ? name.slice(0, name.lastIndexOf(".")) : name);

/**
 * The scope of `checkpoint create --path <primary>` on `tree` (depth 1), or null
 * when the product must refuse it (the path is missing or ignored). `contentOf`
 * reads a file's text (for its imports).
 */
export function partialScope(tree: TreeState, primary: string, contentOf: (rel: string) => string): Scope | null {
  const node = tree.get(primary);
  if (!node || node.kind === "other" || isIgnored(primary)) return null;
  const paths = new Set([primary]);
  if (node.kind === "file") {
    const dir = dirOf(primary);
    const stem = stemOf(nameOf(primary));
    const files = [...tree].filter(([rel, n]) => n.kind === "file" && !isIgnored(rel) && dirOf(rel) === dir && rel !== primary).map(([rel]) => rel);
    for (const rel of files) {
      const name = nameOf(rel);
      if (name.startsWith(`${stem}.test.`) || name.startsWith(`${stem}.spec.`)) paths.add(rel);
      else if (name.startsWith(`${stem}.`)) paths.add(rel);
    }
    if (/\.(ts|tsx|js)$/.test(primary)) {
      for (const match of contentOf(primary).matchAll(/from\s+"\.\/([\w-]+)"/g)) {
        const target = dir ? `${dir}/${match[1]}.ts` : `${match[1]}.ts`;
        if (tree.get(target)?.kind === "file" && !isIgnored(target)) paths.add(target);
      }
    }
  }
  return { kind: "paths", paths: [...paths].sort() };
}

export type ChangeKind = "added" | "modified" | "deleted" | "modeChanged" | "typeChanged" | "linkChanged" | "mtimeChanged";

/**
 * For each file of `view` that is another name of an earlier file of the view (the
 * same inode), that earlier file's path: the first of the inode's names in
 * code-unit order. Files of their own are not in the map.
 */
export function hardLinkHeads(view: TreeState): Map<string, string> {
  const first = new Map<number, string>();
  const heads = new Map<string, string>();
  for (const rel of [...view.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const node = view.get(rel) as NodeState;
    if (node.kind !== "file") continue;
    const head = first.get(node.ino);
    if (head === undefined) first.set(node.ino, rel);
    else heads.set(rel, head);
  }
  return heads;
}

/**
 * A file with at least 1 MiB of its size in holes (not allocated): the product
 * stores and restores it with its holes. The same content with and without holes
 * are different states to it (telling them apart by content would mean reading
 * every zero of the holes).
 */
export function isSparse(node: NodeState): boolean {
  return node.kind === "file" && node.size - (node.blocks ?? Number.MAX_SAFE_INTEGER) * 512 >= 1024 * 1024;
}

/** Node's utimes() keeps microseconds: closer mtimes are the same mtime. */
const sameMtime = (a: number, b: number) => Math.abs(a - b) <= 0.002;

/**
 * What `checkpoint diff` must list: every path whose state differs between the
 * checkpoint and the live view, but the paths the checkpoint recorded as unstable.
 */
export function expectedChanges(checkpoint: TreeState, live: TreeState, unstable: ReadonlySet<string> = new Set()): Map<string, ChangeKind> {
  const changes = new Map<string, ChangeKind>();
  const headsBefore = hardLinkHeads(checkpoint);
  const headsAfter = hardLinkHeads(live);
  for (const [rel, before] of checkpoint) {
    if (unstable.has(rel)) continue;
    const after = live.get(rel);
    if (!after) changes.set(rel, "deleted");
    else if (after.kind !== before.kind) changes.set(rel, "typeChanged");
    else if (before.kind === "file" ? before.sha256 !== after.sha256 || isSparse(before) !== isSparse(after) : before.kind === "symlink" && before.linkTarget !== after.linkTarget) changes.set(rel, "modified");
    else if (before.kind === "file" && headsBefore.get(rel) !== headsAfter.get(rel)) changes.set(rel, "linkChanged");
    else if (before.kind !== "symlink" && before.mode !== after.mode) changes.set(rel, "modeChanged");
    else if (before.kind === "file" && !sameMtime(before.mtimeMs, after.mtimeMs)) changes.set(rel, "mtimeChanged");
  }
  for (const rel of live.keys()) if (!checkpoint.has(rel) && !unstable.has(rel)) changes.set(rel, "added");
  return changes;
}

/** Does any entry below `dir` in `tree` sit outside what the rollback may touch? */
function holdsUntouchable(tree: TreeState, dir: string, scope: Scope): string[] {
  const out: string[] = [];
  for (const [rel, node] of tree) {
    if (!rel.startsWith(`${dir}/`)) continue;
    if (isIgnored(rel) || !inScope(scope, rel) || node.kind === "other") out.push(rel);
  }
  return out;
}

export interface RollbackExpectation {
  /** Refused before any change (paths in the way). */
  refused: boolean;
  /** The in-scope view after a successful rollback. */
  after: TreeState;
}

/** What a rollback to a checkpoint of `scope` holding `checkpoint` must do to `tree`. */
export function expectRollback(checkpoint: TreeState, scope: Scope, tree: TreeState, unstable: ReadonlySet<string> = new Set()): RollbackExpectation {
  const live = scopedView(tree, scope);
  const changes = expectedChanges(checkpoint, live, unstable);
  const restoredDirs = new Set([...checkpoint].filter(([rel, n]) => n.kind === "dir" && changes.has(rel)).map(([rel]) => rel));
  const deleted = new Set([...changes].filter(([, kind]) => kind === "added").map(([rel]) => rel));
  let refused = false;
  for (const [rel, node] of checkpoint) {
    const current = tree.get(rel);
    // A file or link that must replace a folder still holding what the rollback may not remove.
    if (changes.has(rel) && node.kind !== "dir" && current?.kind === "dir" && holdsUntouchable(tree, rel, scope).length > 0) refused = true;
    // A folder that must replace something the rollback may not remove.
    if (node.kind === "dir" && current && current.kind !== "dir" && (isIgnored(rel) || !inScope(scope, rel))) refused = true;
    // A parent that is a file or a link the plan neither deletes nor turns into a folder.
    if (changes.has(rel)) {
      for (let parent = dirOf(rel); parent !== ""; parent = dirOf(parent)) {
        const p = tree.get(parent);
        if (p && p.kind !== "dir" && !restoredDirs.has(parent) && !deleted.has(parent)) refused = true;
      }
    }
  }
  const after: TreeState = new Map(checkpoint);
  // Folders the checkpoint did not have are removed unless they still hold ignored files.
  for (const [rel, node] of live) {
    if (node.kind === "dir" && !checkpoint.has(rel) && holdsUntouchable(tree, rel, scope).length > 0) after.set(rel, node);
  }
  return { refused, after };
}

/**
 * Differences between two in-scope views (empty when equal); folder mtimes are not
 * compared, leftover folders only by kind, `skip` (a checkpoint's unstable paths) not
 * at all. `mtimeTo: "ms"` compares file mtimes to the millisecond: what a confirm
 * token holds a workspace to. Hard links count: a file that is another name of an
 * earlier one on one side must be so on the other.
 */
export function viewDifferences(expected: TreeState, actual: TreeState, leftovers: ReadonlySet<string> = new Set(), options: { mtimeTo?: "µs" | "ms"; skip?: ReadonlySet<string> } = {}): string[] {
  const sameTime = options.mtimeTo === "ms" ? (a: number, b: number) => Math.floor(a) === Math.floor(b) : sameMtime;
  const skip = options.skip ?? new Set<string>();
  const problems: string[] = [];
  const headsWanted = hardLinkHeads(expected);
  const headsGot = hardLinkHeads(actual);
  for (const [rel, want] of expected) {
    if (skip.has(rel)) continue;
    const got = actual.get(rel);
    if (!got) {
      problems.push(`missing: ${rel}`);
      continue;
    }
    if (got.kind !== want.kind) problems.push(`${rel}: kind ${want.kind} -> ${got.kind}`);
    else if (leftovers.has(rel)) continue;
    else if (want.sha256 !== got.sha256) problems.push(`${rel}: content differs`);
    else if (isSparse(want) !== isSparse(got)) problems.push(`${rel}: ${isSparse(want) ? "sparse" : "dense"} -> ${isSparse(got) ? "sparse" : "dense"}`);
    else if (want.linkTarget !== got.linkTarget) problems.push(`${rel}: link target ${want.linkTarget} -> ${got.linkTarget}`);
    else if (want.kind !== "symlink" && want.mode !== got.mode) problems.push(`${rel}: mode ${want.mode.toString(8)} -> ${got.mode.toString(8)}`);
    else if (want.kind === "file" && !sameTime(want.mtimeMs, got.mtimeMs)) problems.push(`${rel}: mtime ${want.mtimeMs} -> ${got.mtimeMs}`);
    else if (want.kind === "file" && headsWanted.get(rel) !== headsGot.get(rel)) problems.push(`${rel}: hard link: another name of ${headsWanted.get(rel) ?? "nothing"} -> of ${headsGot.get(rel) ?? "nothing"}`);
  }
  for (const rel of actual.keys()) if (!expected.has(rel) && !skip.has(rel)) problems.push(`unexpected: ${rel}`);
  return problems;
}

/**
 * Entries the product must never touch: ignored ones, and (for a partial scope) those
 * outside it, compared by identity. The one thing allowed to appear outside the scope
 * is a missing parent folder of a path the checkpoint holds (`checkpointPaths`).
 */
export function untouchableDifferences(before: TreeState, after: TreeState, scope: Scope, checkpointPaths: Iterable<string> = []): string[] {
  const neededParents = new Set<string>();
  for (const rel of checkpointPaths) for (let parent = dirOf(rel); parent !== ""; parent = dirOf(parent)) neededParents.add(parent);
  const problems: string[] = [];
  const untouchable = (rel: string) => isIgnored(rel) || !inScope(scope, rel);
  const same = (a: NodeState, b: NodeState) =>
    a.kind === b.kind && a.sha256 === b.sha256 && a.linkTarget === b.linkTarget && (a.kind === "dir" || (a.mode === b.mode && a.ino === b.ino && sameMtime(a.mtimeMs, b.mtimeMs)));
  for (const [rel, node] of before) {
    if (!untouchable(rel)) continue;
    const now = after.get(rel);
    if (!now) problems.push(`untouchable entry removed: ${rel}`);
    else if (!same(node, now)) problems.push(`untouchable entry changed: ${rel}`);
  }
  for (const [rel, node] of after) {
    if (!untouchable(rel) || before.has(rel) || isIgnored(rel)) continue;
    if (node.kind === "dir" && neededParents.has(rel)) continue;
    problems.push(`untouchable entry appeared: ${rel}`);
  }
  return problems;
}
