/**
 * The flat manifest format written by earlier releases (versions 1–3): one
 * canonical JSON object listing every entry of a checkpoint, sorted by path.
 * Checkpoints are now written as trees (tree-format.ts); these are still read,
 * and turned into trees in memory (tree-read.ts).
 */
import { IntegrityError } from "../errors";
import type { CheckpointScope, Manifest, ManifestEntry } from "./manifest-types";
import { canonicalSnapshot, type DatabaseSnapshot } from "../dbstate/snapshot-types";

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

