/**
 * A snapshot record is the small JSON document naming a checkpoint and its
 * manifest, kept in <store>/snapshots/<id>.json next to the objects. With the
 * manifests it is enough to rebuild a lost database from the store alone.
 */
import path from "node:path";
import { readdirSync, readFileSync, rmSync } from "node:fs";
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
}

function recordPath(store: ObjectStore, id: string): string {
  return path.join(store.dir, "snapshots", `${id}.json`);
}

export function writeSnapshotRecord(store: ObjectStore, record: SnapshotRecord): void {
  writeFileAtomic(recordPath(store, record.id), JSON.stringify(record) + "\n");
}

export function deleteSnapshotRecord(store: ObjectStore, id: string): void {
  rmSync(recordPath(store, id), { force: true });
}

export function listSnapshotRecords(store: ObjectStore): SnapshotRecord[] {
  const dir = path.join(store.dir, "snapshots");
  return readdirSync(dir)
    .filter((name) => name.endsWith(".json"))
    .map((name) => JSON.parse(readFileSync(path.join(dir, name), "utf8")) as SnapshotRecord);
}
