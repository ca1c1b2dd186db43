/**
 * Commits captured state as a checkpoint: manifest object first (with the
 * database snapshots, when taken), then a snapshot record in the store (so the
 * store alone can rebuild the database), then the database rows. A failure before the rows leaves only unreferenced objects,
 * which the retention sweep collects: never a half-written checkpoint.
 */
import type { Core, Actor } from "../core";
import { newId } from "../ids";
import { storeBuiltTree, storeTreeManifest } from "./tree-write";
import type { TreeTotals } from "./tree-format";
import type { OpenedManifest } from "./tree-read";
import { changeRowInserts, changesAgainstBase, type ChangeCounts } from "./change-records";
import type { CheckpointScope } from "./manifest-types";
import type { LiveState } from "./live-state";
import { deleteSnapshotRecord, writeSnapshotRecord } from "./snapshot-record";
import { prepareEvent, type AuditRecord } from "../audit/history";
import type { GitInfo } from "./git-info";
import type { DatabaseSnapshot } from "../dbstate/snapshot-types";
import { describeSnapshots, type SnapshotSummary } from "../dbstate/databases";

const DAY_MS = 86_400_000;

export const DEFAULT_RETENTION_DAYS = 7;

export interface CheckpointCreated {
  id: string;
  component: string;
  kind: "manual" | "safety";
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  newBytes: number;
  filesRead: number;
  durationMs: number;
  manifestSha256: string;
  retentionUntil: string;
  pinned: boolean;
  related: { path: string; reason: string }[];
  /** Files that kept changing while they were read: recorded without content, left alone by rollbacks to this checkpoint. */
  unstable: string[];
  /** The database snapshots taken with the files ([] without --db / includeDb). */
  databases: SnapshotSummary[];
  /** Files and symlinks added, modified and deleted against `changesAgainst` (the previous checkpoint covering this scope); null when there is none. */
  changes: ChangeCounts | null;
  changesAgainst: string | null;
}

export interface CommitRequest {
  component: { id: string; name: string; root: string; include: string[]; exclude: string[]; metadata: unknown; dbTargets?: string[] };
  scope: CheckpointScope;
  live: LiveState;
  kind: "manual" | "safety";
  primaries: string[];
  reason?: string;
  callerMeta: Record<string, unknown>;
  git: GitInfo | null;
  retentionDays?: number;
  pinned?: boolean;
  actor: Actor;
  startedAt: Date;
  startedAtMs: number;
  /** The history row of this checkpoint, written in the same transaction as its rows (none for a safety checkpoint). */
  history?: (created: CheckpointCreated) => AuditRecord;
  /** Also store `component.metadata` as the component's metadata document, in the same transaction (a checkpoint that clears a rollback's status). */
  saveComponentMetadata?: boolean;
  /** Database snapshots taken with the files, and the bytes they added to the store. */
  databases?: { snapshots: DatabaseSnapshot[]; newBytes: number };
  /**
   * The checkpoint's files as a tree built already: nothing changed since a capture
   * with it (unchanged-capture.ts), or it was patched from one (patched-capture.ts),
   * with the tree objects not yet stored in `fresh`. `live` then holds only what was read.
   */
  builtTree?: { root: string; totals: TreeTotals; fresh?: ReadonlyMap<string, string> };
}

export async function commitCheckpoint(core: Core, request: CommitRequest): Promise<CheckpointCreated> {
  const { live, component } = request;
  const databases = request.databases?.snapshots ?? [];
  const manifest = request.builtTree ? await storeBuiltTree(core.store, request.scope, databases, request.builtTree) : await storeTreeManifest(core.store, request.scope, live.entries, databases);
  const manifestSha256 = manifest.sha256;
  const opened: OpenedManifest = { sha256: manifestSha256, version: 4, scope: request.scope, databases, root: manifest.root, totals: manifest.totals };
  const changes = await changesAgainstBase(core, component.id, opened, request.startedAt);
  const id = newId("cp", request.startedAt.getTime());
  const counts = { files: manifest.totals.files, dirs: manifest.totals.dirs, symlinks: manifest.totals.symlinks };
  const retentionUntil = new Date(request.startedAt.getTime() + (request.retentionDays ?? DEFAULT_RETENTION_DAYS) * DAY_MS);
  const callerMeta = { ...request.callerMeta, git: request.git };
  const newBytes = live.newBytes + (request.databases?.newBytes ?? 0) + manifest.newBytes;
  writeSnapshotRecord(core.store, {
    id,
    component: component.name,
    kind: request.kind,
    createdAt: request.startedAt.toISOString(),
    manifestSha256,
    primaries: request.primaries,
    reason: request.reason ?? null,
    actor: request.actor,
    callerMeta,
    componentMeta: component.metadata,
    retentionUntil: retentionUntil.toISOString(),
    pinned: request.pinned ?? false,
    componentRoot: component.root,
    componentInclude: component.include,
    componentExclude: component.exclude,
    componentDbTargets: component.dbTargets ?? [],
    status: "active",
  });
  const durationMs = Math.round(performance.now() - request.startedAtMs);
  const created: CheckpointCreated = {
    id,
    component: component.name,
    kind: request.kind,
    ...counts,
    bytes: live.bytes,
    newBytes,
    filesRead: live.filesRead,
    durationMs,
    manifestSha256,
    retentionUntil: retentionUntil.toISOString(),
    pinned: request.pinned ?? false,
    related: live.entries.filter((e) => e.reason !== "primary").map((e) => ({ path: e.path, reason: e.reason })),
    unstable: live.unstable,
    databases: describeSnapshots(databases),
    changes: changes.counts,
    changesAgainst: changes.baseId,
  };
  const event = request.history ? prepareEvent(core, request.history(created)) : null;
  try {
    // With a bucket, the checkpoint exists only once the bucket holds what it names.
    await core.store.flushRemote();
    await core.db.$transaction([
      core.db.manifest.upsert({
        where: { sha256: manifestSha256 },
        create: { sha256: manifestSha256, ...counts, bytes: BigInt(live.bytes) },
        update: {},
      }),
      core.db.checkpoint.create({
        data: {
          id,
          componentId: component.id,
          kind: request.kind,
          pinned: request.pinned ?? false,
          retentionUntil,
          manifestSha: manifestSha256,
          files: counts.files,
          bytes: BigInt(live.bytes),
          newBytes: BigInt(newBytes),
          durationMs,
          paths: request.primaries,
          reason: request.reason ?? null,
          actor: request.actor,
          callerMeta: callerMeta as object,
          componentMeta: (component.metadata ?? {}) as object,
          dbSnapshots: databases as unknown as object[],
          baseId: changes.baseId,
          added: changes.counts?.added ?? null,
          modified: changes.counts?.modified ?? null,
          deleted: changes.counts?.deleted ?? null,
          createdAt: request.startedAt,
        },
      }),
      ...changeRowInserts(core, changes.rows, { id, componentId: component.id, createdAt: request.startedAt }),
      ...(request.saveComponentMetadata ? [core.db.component.update({ where: { id: component.id }, data: { metadata: (component.metadata ?? {}) as object } })] : []),
      ...(event ? [event.write] : []),
    ]);
  } catch (error) {
    // Nothing was recorded: the snapshot record must not make the store claim a checkpoint the database never had
    // (a bucket's copy included; if that fails too, the next flush removes it).
    deleteSnapshotRecord(core.store, id);
    await core.store.flushRemote().catch(() => undefined);
    throw error;
  }
  event?.announce();
  return created;
}
