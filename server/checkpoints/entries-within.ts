/** A checkpoint's entries under some paths, read without walking the rest of its tree. */
import type { ObjectStore } from "../store/object-store";
import { comparePaths } from "../scan/walk";
import type { ManifestEntry } from "./manifest-types";
import { lookupEntry, walkEntries, type OpenedManifest } from "./tree-read";

/** The checkpoint's entries at and under the paths (reading only the folders that hold them), in path order. */
export function entriesWithin(store: ObjectStore, checkpoint: OpenedManifest, paths: readonly string[]): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  for (const path of paths) {
    const entry = lookupEntry(store, checkpoint, path);
    if (entry) entries.push(entry);
    for (const below of walkEntries(store, checkpoint, { prefix: `${path}/` })) entries.push(below);
  }
  return entries.sort((a, b) => comparePaths(a.path, b.path));
}
