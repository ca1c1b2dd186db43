/**
 * Reading a checkpoint's manifest whole, whatever format wrote it: the tree
 * format (tree-read.ts), or the flat one of earlier releases (flat-manifest.ts).
 */
import type { ObjectStore } from "../store/object-store";
import type { Manifest, ManifestEntry } from "./manifest-types";
import { snapshotObjects, type DatabaseSnapshot } from "../dbstate/snapshot-types";
import { flattenManifest, openManifest, type OpenedManifest } from "./tree-read";

export { encodeManifest, decodeManifest } from "./flat-manifest";

/** Reads a manifest from the store, re-hashing it: a corrupt manifest is never trusted. */
export function readManifest(store: ObjectStore, sha256: string): Manifest {
  return manifestOf(store, openManifest(store, sha256));
}

/** An opened manifest with every entry, its trees walked. */
export function manifestOf(store: ObjectStore, opened: OpenedManifest): Manifest {
  return { version: opened.version, scope: opened.scope, databases: opened.databases, entries: flattenManifest(store, opened) };
}

/** The database snapshots a manifest holds (none in a version 1 manifest). */
export function databasesOf(manifest: Manifest): DatabaseSnapshot[] {
  return manifest.databases ?? [];
}

/** Every object a manifest references: file contents and database snapshots (with a raw snapshot's journal files). */
export function referencedObjects(manifest: Pick<Manifest, "entries" | "databases">): string[] {
  const files = manifest.entries.filter((e) => e.kind === "file" && e.sha256).map((e) => e.sha256 as string);
  const databases = (manifest.databases ?? []).flatMap((d) => snapshotObjects(d).map((o) => o.sha256));
  return [...files, ...databases];
}

/** Bytes a file's content takes on disk when written out: a sparse file's data, anything else's size. */
export function contentBytesOnDisk(entry: Pick<ManifestEntry, "size" | "sparse">): number {
  return entry.sparse?.dataBytes ?? entry.size;
}

export function entriesByPath(entries: readonly ManifestEntry[]): Map<string, ManifestEntry> {
  const map = new Map<string, ManifestEntry>();
  for (const entry of entries) map.set(entry.path, entry);
  return map;
}
