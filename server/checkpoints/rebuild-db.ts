/**
 * `safetynet rebuild-db`: rebuilds a lost database from the store alone. Every
 * snapshot record names a checkpoint, its manifest (an object, verified here)
 * and the component it belongs to (root, include/exclude, metadata), with its
 * pin and retention state; that is enough to bring back the components and
 * their checkpoints, with the database snapshots their manifests list. The
 * entries index is derived from the manifests again on
 * first use, as always. API tokens, sessions and history are not in the store:
 * they start afresh (history records the rebuild).
 */
import type { Core, Actor } from "../core";
import { newId } from "../ids";
import { recordEvent } from "../audit/history";
import { openManifest } from "./tree-read";
import type { TreeTotals } from "./tree-format";
import { changeRowInserts, changesAgainstBase, type CheckpointChanges } from "./change-records";
import type { DatabaseSnapshot } from "../dbstate/snapshot-types";
import { readSnapshotRecord, snapshotRecordIds, type SnapshotRecord } from "./snapshot-record";
import { ensureManifestLocal } from "./tree-fetch";

export interface RebuildResult {
  components: { name: string; root: string; checkpoints: number }[];
  checkpoints: number;
  pinned: number;
  skipped: { id: string; reason: string }[];
  durationMs: number;
}

export interface RebuildOptions {
  /** Roots for components whose records predate keeping the root in them: name → directory. */
  roots?: Record<string, string>;
}

export async function rebuildDatabase(core: Core, actor: Actor, options: RebuildOptions = {}): Promise<RebuildResult> {
  const startedAt = core.now();
  const t0 = performance.now();
  const skipped: RebuildResult["skipped"] = [];
  const records: SnapshotRecord[] = [];
  // With a bucket, the records of every host are there: this host's snapshots/ is brought in line first.
  await core.store.bucket?.syncRecords();
  for (const id of snapshotRecordIds(core.store).sort()) {
    try {
      records.push(readSnapshotRecord(core.store, id));
    } catch (error) {
      skipped.push({ id, reason: `unreadable snapshot record: ${error instanceof Error ? error.message : String(error)}` });
    }
  }
  const byComponent = new Map<string, SnapshotRecord[]>();
  for (const record of records) byComponent.set(record.component, [...(byComponent.get(record.component) ?? []), record]);

  const components: RebuildResult["components"] = [];
  let checkpoints = 0;
  let pinned = 0;
  for (const [name, list] of [...byComponent].sort(([a], [b]) => (a < b ? -1 : 1))) {
    list.sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
    const newest = list[list.length - 1] as SnapshotRecord;
    const registered = [...list].reverse().find((r) => r.componentRoot);
    const root = options.roots?.[name] ?? registered?.componentRoot;
    if (!root) {
      for (const record of list) skipped.push({ id: record.id, reason: `no root is known for component "${name}": pass --root ${name}=<dir>` });
      continue;
    }
    const existing = await core.db.component.findUnique({ where: { name } });
    const component =
      existing ??
      (await core.db.component.create({
        data: {
          id: newId("cmp"),
          name,
          root,
          include: registered?.componentInclude ?? [],
          exclude: registered?.componentExclude ?? [],
          dbTargets: registered?.componentDbTargets ?? [],
          metadata: (newest.componentMeta ?? { status: "active" }) as object,
        },
      }));
    let restored = 0;
    for (const record of list) {
      if (await core.db.checkpoint.findUnique({ where: { id: record.id } })) continue;
      let counts: TreeTotals;
      let databases: DatabaseSnapshot[];
      let changes: CheckpointChanges;
      try {
        await ensureManifestLocal(core.store, record.manifestSha256);
        const manifest = openManifest(core.store, record.manifestSha256);
        databases = manifest.databases;
        counts = manifest.totals;
        // Earlier checkpoints of the component are back already (oldest first): the change records are found as at commit.
        changes = record.status === "expired" ? { baseId: null, counts: null, rows: [] } : await changesAgainstBase(core, component.id, manifest, new Date(record.createdAt));
      } catch (error) {
        skipped.push({ id: record.id, reason: `manifest ${record.manifestSha256}: ${error instanceof Error ? error.message : String(error)}` });
        continue;
      }
      await core.db.$transaction([
        core.db.manifest.upsert({
          where: { sha256: record.manifestSha256 },
          create: { sha256: record.manifestSha256, files: counts.files, dirs: counts.dirs, symlinks: counts.symlinks, bytes: BigInt(counts.bytes) },
          update: {},
        }),
        core.db.checkpoint.create({
          data: {
            id: record.id,
            componentId: component.id,
            kind: record.kind,
            status: record.status ?? "active",
            expiredReason: record.expiredReason ?? null,
            pinned: record.pinned,
            retentionUntil: new Date(record.retentionUntil),
            manifestSha: record.manifestSha256,
            files: counts.files,
            bytes: BigInt(counts.bytes),
            // Not recorded in the store: how many bytes were new, and how long it took.
            newBytes: BigInt(0),
            durationMs: 0,
            paths: record.primaries,
            reason: record.reason,
            actor: record.actor,
            callerMeta: record.callerMeta as object,
            componentMeta: (record.componentMeta ?? {}) as object,
            dbSnapshots: databases as unknown as object[],
            baseId: changes.baseId,
            added: changes.counts?.added ?? null,
            modified: changes.counts?.modified ?? null,
            deleted: changes.counts?.deleted ?? null,
            createdAt: new Date(record.createdAt),
          },
        }),
        ...changeRowInserts(core, changes.rows, { id: record.id, componentId: component.id, createdAt: new Date(record.createdAt) }),
      ]);
      restored++;
      if (record.pinned) pinned++;
    }
    checkpoints += restored;
    components.push({ name, root: component.root, checkpoints: restored });
  }
  const durationMs = Math.round(performance.now() - t0);
  await recordEvent(core, {
    kind: "rebuild-db",
    actor,
    outcome: skipped.length === 0 ? "succeeded" : "failed",
    startedAt,
    durationMs,
    files: checkpoints,
    error: skipped.length > 0 ? `${skipped.length} checkpoint(s) could not be rebuilt: ${skipped.slice(0, 5).map((s) => `${s.id} (${s.reason})`).join("; ")}` : undefined,
    details: { components: components.length, checkpoints, pinned, skipped: skipped.length },
  });
  return { components, checkpoints, pinned, skipped, durationMs };
}
