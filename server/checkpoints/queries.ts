/** Read side of checkpoints: list (cursor-paginated, newest first), get, entries. */
import type { Core } from "../core";
import { NotFoundError } from "../errors";
import type { Checkpoint, Component } from "../generated/prisma/client";
import type { CheckpointListInput } from "../schemas";
import type { ObjectStore } from "../store/object-store";
import { readManifest } from "./manifest";
import { openManifest, walkEntries } from "./tree-read";
import type { ManifestEntry } from "./manifest-types";
import { storedProblems, type DamagedObject } from "./integrity-record";
import { snapshotsOfRow, type DatabaseSnapshot } from "../dbstate/snapshot-types";
import { ensureManifestLocal } from "./tree-fetch";

export interface CheckpointView {
  id: string;
  component: string;
  kind: string;
  status: string;
  expiredReason: string | null;
  verifyState: string;
  verifiedAt: string | null;
  /** The damaged files the last check found (empty unless verifyState is corrupt or missing). */
  damagedFiles: DamagedObject[];
  pinned: boolean;
  retentionUntil: string;
  manifestSha256: string;
  files: number;
  bytes: number;
  newBytes: number;
  /**
   * Size of the checkpoint's manifest object (paths, modes, mtimes, hashes). newBytes
   * counts it when the manifest was new, so a small checkpoint can add more bytes to
   * the store than its files hold. null when the object cannot be found.
   */
  manifestBytes: number | null;
  durationMs: number;
  paths: string[];
  reason: string | null;
  actor: string;
  callerMeta: Record<string, unknown>;
  componentMeta: Record<string, unknown>;
  /** The database snapshots the checkpoint holds ([] when taken without its databases). */
  databases: DatabaseSnapshot[];
  /**
   * Files and symlinks added, modified (content, mode or type) and deleted against
   * `changesAgainst`, the component's previous checkpoint covering this one's scope;
   * null for a checkpoint with none before it (or taken before change records existed).
   */
  changes: { added: number; modified: number; deleted: number } | null;
  changesAgainst: string | null;
  createdAt: string;
}

export type CheckpointRow = Checkpoint & { component: Component };

export function toCheckpointView(row: CheckpointRow, store: ObjectStore): CheckpointView {
  return {
    id: row.id,
    component: row.component.name,
    kind: row.kind,
    status: row.status,
    expiredReason: row.expiredReason,
    verifyState: row.verifyState,
    verifiedAt: row.verifiedAt?.toISOString() ?? null,
    damagedFiles: row.verifyState === "corrupt" || row.verifyState === "missing" ? storedProblems(row.verifyProblems) : [],
    pinned: row.pinned,
    retentionUntil: row.retentionUntil.toISOString(),
    manifestSha256: row.manifestSha,
    files: row.files,
    bytes: Number(row.bytes),
    newBytes: Number(row.newBytes),
    manifestBytes: store.objectSize(row.manifestSha),
    durationMs: row.durationMs,
    paths: (row.paths as string[] | null) ?? [],
    reason: row.reason,
    actor: row.actor,
    callerMeta: (row.callerMeta as Record<string, unknown> | null) ?? {},
    componentMeta: (row.componentMeta as Record<string, unknown> | null) ?? {},
    databases: snapshotsOfRow(row.dbSnapshots),
    changes: row.added === null || row.modified === null || row.deleted === null ? null : { added: row.added, modified: row.modified, deleted: row.deleted },
    changesAgainst: row.baseId,
    createdAt: row.createdAt.toISOString(),
  };
}

export async function findCheckpointRow(core: Core, id: string): Promise<CheckpointRow> {
  const row = await core.db.checkpoint.findUnique({ where: { id }, include: { component: true } });
  if (!row || row.status === "deleted") throw new NotFoundError(`no checkpoint with id "${id}"`, { checkpointId: id });
  return row;
}

/** `components`: only checkpoints of these components (a scoped token's list); null or absent: every component. */
export async function listCheckpoints(
  core: Core,
  input: CheckpointListInput,
  options: { components?: readonly string[] | null } = {},
): Promise<{ items: CheckpointView[]; nextCursor: string | null }> {
  const limit = input.limit ?? 50;
  let componentId: string | undefined;
  if (input.component) {
    const component = await core.db.component.findUnique({ where: { name: input.component } });
    if (!component) throw new NotFoundError(`no component named "${input.component}"`, { component: input.component });
    componentId = component.id;
  }
  const rows = await core.db.checkpoint.findMany({
    where: {
      componentId,
      component: options.components ? { name: { in: [...options.components] } } : undefined,
      status: { not: "deleted" },
      id: input.cursor ? { lt: input.cursor } : undefined,
    },
    include: { component: true },
    orderBy: { id: "desc" },
    take: limit + 1,
  });
  const page = rows.slice(0, limit);
  return { items: page.map((r) => toCheckpointView(r, core.store)), nextCursor: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null };
}

export interface CheckpointDetail extends CheckpointView {
  dirs: number;
  symlinks: number;
  scope: { kind: string; paths?: string[] };
  /** Entry counts per inclusion reason. */
  reasons: Record<string, number>;
  /** Related (non-primary) entries: what discovery added and why. */
  related: { path: string; reason: string }[];
  /** Files that kept changing while the checkpoint read them: it holds no content for them, and its rollbacks leave them alone. */
  unstable: string[];
  /** A safety checkpoint: the rollback that went back to it, undoing the rollback it was taken before (null: none yet, or not a safety checkpoint). */
  undoneBy: { rollbackId: string; at: string } | null;
}

export async function getCheckpoint(core: Core, id: string): Promise<CheckpointDetail> {
  const row = await findCheckpointRow(core, id);
  const manifestRow = await core.db.manifest.findUnique({ where: { sha256: row.manifestSha } });
  await ensureManifestLocal(core.store, row.manifestSha);
  const manifest = readManifest(core.store, row.manifestSha);
  const undo =
    row.kind === "safety"
      ? await core.db.rollback.findFirst({
          where: { componentId: row.componentId, checkpointId: row.id, outcome: { in: ["succeeded", "recovered"] } },
          orderBy: [{ startedAt: "asc" }, { id: "asc" }],
          select: { id: true, startedAt: true },
        })
      : null;
  const reasons: Record<string, number> = {};
  for (const entry of manifest.entries) reasons[entry.reason] = (reasons[entry.reason] ?? 0) + 1;
  return {
    ...toCheckpointView(row, core.store),
    dirs: manifestRow?.dirs ?? 0,
    symlinks: manifestRow?.symlinks ?? 0,
    scope: manifest.scope,
    reasons,
    related: manifest.entries.filter((e) => e.reason !== "primary").map((e) => ({ path: e.path, reason: e.reason })),
    unstable: manifest.entries.filter((e) => e.unstable).map((e) => e.path),
    undoneBy: undo ? { rollbackId: undo.id, at: undo.startedAt.toISOString() } : null,
  };
}

export interface EntryPage {
  items: ManifestEntry[];
  nextCursor: string | null;
  total: number;
}

/**
 * Entries of a checkpoint, by path, read from its tree objects: only the folders
 * that can hold the page are read (a prefix names the folders to descend into,
 * a cursor skips every folder whose paths all sort before it). `total` is the
 * number of entries of the checkpoint, from its root tree's totals.
 */
export async function listCheckpointEntries(core: Core, id: string, options: { prefix?: string; cursor?: string; limit?: number } = {}): Promise<EntryPage> {
  const row = await findCheckpointRow(core, id);
  await ensureManifestLocal(core.store, row.manifestSha);
  const manifest = openManifest(core.store, row.manifestSha);
  const limit = options.limit ?? 200;
  const items: ManifestEntry[] = [];
  let more = false;
  for (const entry of walkEntries(core.store, manifest, { prefix: options.prefix ?? "", after: options.cursor })) {
    if (items.length === limit) {
      more = true;
      break;
    }
    items.push(entry);
  }
  const { files, dirs, symlinks } = manifest.totals;
  return { items, nextCursor: more && items.length > 0 ? (items[items.length - 1] as ManifestEntry).path : null, total: files + dirs + symlinks };
}
