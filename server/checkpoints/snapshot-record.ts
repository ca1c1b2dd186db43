/**
 * A snapshot record is the small JSON document naming a checkpoint and its
 * manifest, kept in <store>/snapshots/<id>.json next to the objects. With the
 * manifests it is enough to rebuild a lost database from the store alone
 * (`safetynet rebuild-db`), so it carries the component's registration too, and
 * is kept current when the checkpoint is pinned, unpinned or expired.
 */
import path from "node:path";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import type { ObjectStore } from "../store/object-store";
import { writeFileAtomic } from "../atomic-file";

export interface SnapshotRecord {
  id: string;
  component: string;
  kind: "manual" | "safety";
  createdAt: string;
  manifestSha256: string;
  primaries: string[];
  reason: string | null;
  actor: string;
  callerMeta: Record<string, unknown>;
  componentMeta: unknown;
  retentionUntil: string;
  pinned: boolean;
  /** The component as registered when the checkpoint was taken (absent in records written before it was kept). */
  componentRoot?: string;
  componentInclude?: string[];
  componentExclude?: string[];
  /** Its database targets (absent in records written before components had them). */
  componentDbTargets?: string[];
  /** "active" unless retention expired it (the sweep then removes the record with the checkpoint). */
  status?: "active" | "expired";
  expiredReason?: string | null;
}

function recordPath(store: ObjectStore, id: string): string {
  return path.join(store.dir, "snapshots", `${id}.json`);
}

export function writeSnapshotRecord(store: ObjectStore, record: SnapshotRecord): void {
  // Noted first: a crash between the two leaves the bucket's copy to be brought in line, never forgotten.
  store.bucket?.recordChanged(record.id);
  writeFileAtomic(recordPath(store, record.id), JSON.stringify(record) + "\n");
}

/** Rewrites a record with some fields changed; a missing or unreadable record is left alone (nothing to keep current). */
export function updateSnapshotRecord(store: ObjectStore, id: string, change: Partial<Pick<SnapshotRecord, "pinned" | "status" | "expiredReason" | "retentionUntil">>): void {
  let record: SnapshotRecord;
  try {
    record = readSnapshotRecord(store, id);
  } catch {
    return;
  }
  writeSnapshotRecord(store, { ...record, ...change });
}

export function deleteSnapshotRecord(store: ObjectStore, id: string): void {
  store.bucket?.recordChanged(id);
  rmSync(recordPath(store, id), { force: true });
}

/** Ids of every snapshot record in the store (temp files of atomic writes excluded). */
export function snapshotRecordIds(store: ObjectStore): string[] {
  try {
    return readdirSync(path.join(store.dir, "snapshots"))
      .filter((name) => name.endsWith(".json") && !name.startsWith("."))
      .map((name) => name.slice(0, -".json".length));
  } catch {
    return [];
  }
}

export function readSnapshotRecord(store: ObjectStore, id: string): SnapshotRecord {
  return JSON.parse(readFileSync(recordPath(store, id), "utf8")) as SnapshotRecord;
}

/** When the record was written (ms), or null when it is gone. */
export function snapshotRecordMtime(store: ObjectStore, id: string): number | null {
  try {
    return statSync(recordPath(store, id)).mtimeMs;
  } catch {
    return null;
  }
}
