/**
 * A new tree from an earlier one and what changed: only the folders on the paths
 * of the changes are read and re-encoded; every other folder keeps its tree hash,
 * so a checkpoint after a 50-file change costs those folders, not the tree.
 *
 * Totals are carried by difference: a folder's new totals are its old ones, less
 * what its changed children held, plus what they hold now. A folder's untouched
 * subfolders are never read.
 */
import type { ObjectStore } from "../store/object-store";
import type { ManifestEntry } from "./manifest-types";
import { buildTrees, emptyTotals, type BuiltTrees } from "./tree-build";
import { childOfEntry, emitFolderTree, type TreeChild, type TreeObject, type TreeTotals } from "./tree-format";
import { readTree } from "./tree-read";

/** The path's entry and everything below it as they are now (path order; empty: it is gone). */
export interface TreeReplacement {
  path: string;
  entries: readonly ManifestEntry[];
}

export interface TreePatch {
  /** Paths replaced whole, none below another. */
  replacements: readonly TreeReplacement[];
  /** Folders still there whose own mode or mtime is as given (what changed inside them is in the other edits). */
  folders: readonly ManifestEntry[];
}

/** Why a patch cannot be applied (the caller captures the whole tree instead). */
export class TreePatchMismatch extends Error {}

interface EditNode {
  replacement?: readonly ManifestEntry[];
  folder?: ManifestEntry;
  children: Map<string, EditNode>;
}

function editTree(patch: TreePatch): EditNode {
  const root: EditNode = { children: new Map() };
  const nodeAt = (path: string): EditNode => {
    let node = root;
    for (const part of path.split("/")) {
      let next = node.children.get(part);
      if (!next) {
        next = { children: new Map() };
        node.children.set(part, next);
      }
      node = next;
    }
    return node;
  };
  for (const r of patch.replacements) nodeAt(r.path).replacement = r.entries;
  for (const f of patch.folders) nodeAt(f.path).folder = f;
  return root;
}

/**
 * The tree of `baseRoot` with `patch` applied. New tree objects go to `emit`.
 * Throws TreePatchMismatch when the patch does not fit the tree (a folder it edits
 * inside is not a folder there): the changes were not what the tree was taken from.
 */
export function patchTree(store: ObjectStore, baseRoot: string, patch: TreePatch, emit: (sha256: string, bytes: string) => void): BuiltTrees & { patched: Map<string, TreeObject> } {
  const patched = new Map<string, TreeObject>();
  const built = patchFolder(store, readTree(store, baseRoot, { folder: "" }), "", editTree(patch), { emit, patched });
  return { root: built.sha256, totals: built.totals, patched };
}

interface PatchOutput {
  emit: (sha256: string, bytes: string) => void;
  /** The folders' new trees, as they would be read back. */
  patched: Map<string, TreeObject>;
}

function add(into: TreeTotals, from: TreeTotals, sign: 1 | -1): void {
  into.files += sign * from.files;
  into.dirs += sign * from.dirs;
  into.symlinks += sign * from.symlinks;
  into.bytes += sign * from.bytes;
}

/** What a child holds, itself included. `subtree` is a folder's tree totals. */
function heldBy(child: TreeChild, subtree: TreeTotals | null): TreeTotals {
  const held = emptyTotals();
  if (child.kind === "file") {
    held.files = 1;
    held.bytes = child.size ?? 0;
  } else if (child.kind === "symlink") held.symlinks = 1;
  else {
    if (!child.implicit) held.dirs = 1;
    if (subtree) add(held, subtree, 1);
  }
  return held;
}

function patchFolder(store: ObjectStore, tree: TreeObject, folder: string, edits: EditNode, out: PatchOutput): { sha256: string; totals: TreeTotals } {
  const children = new Map<string, TreeChild>(tree.children.map((c) => [c.name, c]));
  const totals: TreeTotals = { files: tree.files, dirs: tree.dirs, symlinks: tree.symlinks, bytes: tree.bytes };
  for (const [name, edit] of edits.children) {
    const path = folder === "" ? name : `${folder}/${name}`;
    const old = children.get(name);
    const oldSubtree = old?.kind === "dir" ? readTree(store, old.tree as string, { folder: path }) : null;
    if (old) add(totals, heldBy(old, oldSubtree), -1);
    let next: { child: TreeChild; subtree: TreeTotals | null } | null;
    if (edit.replacement !== undefined) {
      next = replacementChild(name, path, edit.replacement, out.emit);
    } else {
      if (!old || old.kind !== "dir" || !oldSubtree) throw new TreePatchMismatch(`${path} is not a folder of the tree the changes are against`);
      const inner = edit.children.size > 0 ? patchFolder(store, oldSubtree, path, edit, out) : { sha256: old.tree as string, totals: oldSubtree };
      const child: TreeChild = { ...old, tree: inner.sha256 };
      if (edit.folder) {
        delete child.implicit;
        child.mode = edit.folder.mode;
        child.mtimeMs = edit.folder.mtimeMs;
        child.reason = edit.folder.reason;
      }
      next = { child, subtree: inner.totals };
    }
    if (next) {
      children.set(name, next.child);
      add(totals, heldBy(next.child, next.subtree), 1);
    } else children.delete(name);
  }
  const built = emitFolderTree([...children.values()], totals, out.emit, tree);
  out.patched.set(built.sha256, built.tree);
  return { sha256: built.sha256, totals };
}

/** The child that replaces `path`: its first entry, with a folder's tree built from the rest. Null when it is gone. */
function replacementChild(name: string, path: string, entries: readonly ManifestEntry[], emit: (sha256: string, bytes: string) => void): { child: TreeChild; subtree: TreeTotals | null } | null {
  const own = entries[0];
  if (!own) return null;
  if (own.path !== path) throw new TreePatchMismatch(`the entries replacing ${path} start at ${own.path}`);
  if (own.kind !== "dir") return { child: childOfEntry(own, name), subtree: null };
  const below = `${path}/`;
  const inside = entries.slice(1).map((e) => {
    if (!e.path.startsWith(below)) throw new TreePatchMismatch(`${e.path} is not below ${path}`);
    return { ...e, path: e.path.slice(below.length) };
  });
  const built = buildTrees(inside, emit);
  return { child: childOfEntry(own, name, built.root), subtree: built.totals };
}
