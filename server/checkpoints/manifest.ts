/**
 * Manifest encoding: canonical JSON (fixed key order, entries sorted by path), so
 * the same state always yields the same bytes and therefore the same sha256.
 */
import type { ObjectStore } from "../store/object-store";
import { IntegrityError } from "../errors";
import type { CheckpointScope, Manifest, ManifestEntry } from "./manifest-types";
import { canonicalSnapshot, snapshotObjects, type DatabaseSnapshot } from "../dbstate/snapshot-types";

export function encodeManifest(scope: CheckpointScope, entries: readonly ManifestEntry[], databases: readonly DatabaseSnapshot[] = []): string {
  const sorted = isSortedByPath(entries) ? entries : [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  // Hand-built lines (same bytes as JSON.stringify of the object in this key order): this runs on
  // every checkpoint and rollback over every entry, so it avoids one JSON.stringify per entry.
  const lines = new Array<string>(sorted.length);
  let sparse = false;
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i] as ManifestEntry;
    let line = `{"path":${jsonString(e.path)},"kind":"${e.kind}","mode":${e.mode},"size":${e.size},"mtimeMs":${e.mtimeMs}`;
    if (e.sha256 !== undefined) line += `,"sha256":"${e.sha256}"`;
    if (e.linkTarget !== undefined) line += `,"linkTarget":${JSON.stringify(e.linkTarget)}`;
    if (e.unstable) line += `,"unstable":true`;
    if (e.hardlinkTo !== undefined) line += `,"hardlinkTo":${jsonString(e.hardlinkTo)}`;
    if (e.sparse !== undefined) {
      line += `,"sparse":{"dataBytes":${e.sparse.dataBytes}}`;
      sparse = true;
    }
    lines[i] = line + `,"reason":"${e.reason}"}`;
  }
  const canonicalScope = scope.kind === "all" ? { kind: "all" } : { kind: "paths", paths: [...scope.paths].sort() };
  const snapshots = databases.map((d) => JSON.stringify(canonicalSnapshot(d))).join(",\n");
  if (sparse) return `{"version":3,"scope":${JSON.stringify(canonicalScope)},"databases":[${databases.length > 0 ? `\n${snapshots}\n` : ""}],"entries":[\n${lines.join(",\n")}\n]}\n`;
  // Without databases the bytes are exactly version 1's: existing checkpoints keep their checksums.
  if (databases.length === 0) return `{"version":1,"scope":${JSON.stringify(canonicalScope)},"entries":[\n${lines.join(",\n")}\n]}\n`;
  return `{"version":2,"scope":${JSON.stringify(canonicalScope)},"databases":[\n${snapshots}\n],"entries":[\n${lines.join(",\n")}\n]}\n`;
}

/** Characters JSON must escape: most paths have none, and then quoting needs no escaping pass. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON must escape
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function jsonString(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

function isSortedByPath(entries: readonly ManifestEntry[]): boolean {
  for (let i = 1; i < entries.length; i++) if ((entries[i - 1] as ManifestEntry).path >= (entries[i] as ManifestEntry).path) return false;
  return true;
}

export function decodeManifest(bytes: Buffer, sha256: string): Manifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new IntegrityError(`manifest ${sha256} is not valid JSON`, { sha256, state: "corrupt" }, { cause: error });
  }
  const manifest = parsed as Manifest;
  const version = manifest?.version;
  if ((version !== 1 && version !== 2 && version !== 3) || !Array.isArray(manifest.entries) || !manifest.scope || (version !== 1 && !Array.isArray(manifest.databases))) {
    throw new IntegrityError(`manifest ${sha256} has an unknown format`, { sha256, state: "corrupt" });
  }
  return manifest;
}

/** Reads a manifest from the store, re-hashing it: a corrupt manifest is never trusted. */
export function readManifest(store: ObjectStore, sha256: string): Manifest {
  return decodeManifest(store.readBuffer(sha256, { verify: true }), sha256);
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
