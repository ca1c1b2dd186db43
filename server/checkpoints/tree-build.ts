/**
 * Builds the tree objects of a list of entries: folders deepest first, so each
 * folder's tree names its subfolders' hashes. Every tree object is handed to
 * `emit` (the caller stores it, or keeps it in memory for a manifest of the
 * flat format); identical folders give identical bytes, so storing them again
 * writes nothing.
 */
import type { ManifestEntry } from "./manifest-types";
import { childOfEntry, emitFolder, type TreeChild, type TreeTotals } from "./tree-format";

interface FolderBuild {
  children: TreeChild[];
  /** Totals of the subtree: the folder's own children first, its subfolders' added as each is built. */
  totals: TreeTotals;
  /** This folder's child record in its parent (none for the root): its tree hash is set once it is built. */
  slot: TreeChild | null;
}

export interface BuiltTrees {
  root: string;
  totals: TreeTotals;
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "" : path.slice(0, slash);
}

function nameOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

function depthOf(path: string): number {
  if (path === "") return 0;
  let depth = 1;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 47) depth++;
  return depth;
}

export const emptyTotals = (): TreeTotals => ({ files: 0, dirs: 0, symlinks: 0, bytes: 0 });

/** Adds a folder's own children to its totals (a folder only on the way to a partial checkpoint's paths is not counted). */
export function addChildrenTotals(totals: TreeTotals, children: readonly TreeChild[]): void {
  for (const child of children) {
    if (child.kind === "file") {
      totals.files++;
      totals.bytes += child.size ?? 0;
    } else if (child.kind === "symlink") totals.symlinks++;
    else if (!child.implicit) totals.dirs++;
  }
}

/** Adds a subfolder's totals to its parent's. */
export function addTotals(into: TreeTotals, from: TreeTotals): void {
  into.files += from.files;
  into.dirs += from.dirs;
  into.symlinks += from.symlinks;
  into.bytes += from.bytes;
}

export function buildTrees(entries: readonly ManifestEntry[], emit: (sha256: string, bytes: string) => void): BuiltTrees {
  const folders = new Map<string, FolderBuild>([["", { children: [], totals: emptyTotals(), slot: null }]]);
  const folder = (path: string): FolderBuild => {
    let found = folders.get(path);
    if (!found) {
      // A folder with no entry of its own (above a partial checkpoint's paths) is on the way only.
      const slot: TreeChild = { name: nameOf(path), kind: "dir", implicit: true };
      folder(parentOf(path)).children.push(slot);
      found = { children: [], totals: emptyTotals(), slot };
      folders.set(path, found);
    }
    return found;
  };
  for (const entry of entries) {
    if (entry.kind === "dir") {
      const existing = folders.get(entry.path);
      const child = childOfEntry(entry, nameOf(entry.path));
      if (existing?.slot) {
        // Seen implicit first (an entry below it came earlier in the caller's order): it is a real entry after all.
        delete existing.slot.implicit;
        Object.assign(existing.slot, child);
        continue;
      }
      folder(parentOf(entry.path)).children.push(child);
      folders.set(entry.path, { children: [], totals: emptyTotals(), slot: child });
    } else {
      folder(parentOf(entry.path)).children.push(childOfEntry(entry, nameOf(entry.path)));
    }
  }
  const order = [...folders.keys()].sort((a, b) => depthOf(b) - depthOf(a));
  let root = "";
  for (const path of order) {
    const build = folders.get(path) as FolderBuild;
    addChildrenTotals(build.totals, build.children);
    const sha = emitFolder(build.children, build.totals, emit);
    if (build.slot === null) {
      root = sha;
      continue;
    }
    build.slot.tree = sha;
    addTotals((folders.get(parentOf(path)) as FolderBuild).totals, build.totals);
  }
  return { root, totals: (folders.get("") as FolderBuild).totals };
}
