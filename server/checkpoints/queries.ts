/** Read side of checkpoints: list (cursor-paginated, newest first), get, entries. */
import type { Core } from "../core";
import { metadataStore } from "../db";
import { quoteIdent } from "../db/sql-identifier";
import { NotFoundError } from "../errors";
import { fromStorageText, toStorageText } from "../byte-paths";
import type { Checkpoint, Component } from "../generated/prisma/client";
import type { CheckpointListInput } from "../schemas";
import type { ObjectStore } from "../store/object-store";
import { readManifest } from "./manifest";
import type { ManifestEntry } from "./manifest-types";
import { storedProblems, type DamagedObject } from "./integrity-record";
import { snapshotsOfRow, type DatabaseSnapshot } from "../dbstate/snapshot-types";

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
    createdAt: row.createdAt.toISOString(),
  };
}

export async function findCheckpointRow(core: Core, id: string): Promise<CheckpointRow> {
  const row = await core.db.checkpoint.findUnique({ where: { id }, include: { component: true } });
  if (!row || row.status === "deleted") throw new NotFoundError(`no checkpoint with id "${id}"`, { checkpointId: id });
  return row;
}

export async function listCheckpoints(core: Core, input: CheckpointListInput): Promise<{ items: CheckpointView[]; nextCursor: string | null }> {
  const limit = input.limit ?? 50;
  let componentId: string | undefined;
  if (input.component) {
    const component = await core.db.component.findUnique({ where: { name: input.component } });
    if (!component) throw new NotFoundError(`no component named "${input.component}"`, { component: input.component });
    componentId = component.id;
  }
  const rows = await core.db.checkpoint.findMany({
    where: { componentId, status: { not: "deleted" }, id: input.cursor ? { lt: input.cursor } : undefined },
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
}

export async function getCheckpoint(core: Core, id: string): Promise<CheckpointDetail> {
  const row = await findCheckpointRow(core, id);
  const manifestRow = await core.db.manifest.findUnique({ where: { sha256: row.manifestSha } });
  const manifest = readManifest(core.store, row.manifestSha);
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
  };
}

export interface EntryPage {
  items: ManifestEntry[];
  nextCursor: string | null;
  total: number;
}

/**
 * Entries of a checkpoint, by path. The ManifestEntry table is a query index of
 * the manifest object, filled the first time a manifest is browsed, so creating
 * a checkpoint never pays for thousands of row inserts.
 */
export async function listCheckpointEntries(core: Core, id: string, options: { prefix?: string; cursor?: string; limit?: number } = {}): Promise<EntryPage> {
  const row = await findCheckpointRow(core, id);
  await indexManifestEntries(core, row.manifestSha);
  const limit = options.limit ?? 200;
  // Paths are kept in their text-column form (server/byte-paths.ts): compare in that form.
  const prefix = toStorageText(options.prefix ?? "");
  const cursor = options.cursor === undefined ? undefined : toStorageText(options.cursor);
  // A prefix is literal text, not a LIKE pattern (where `%` and `_` are wildcards): paths
  // sharing a prefix sort together from the prefix on, so take the rows from there and
  // keep those that start with it.
  const where = {
    manifestSha: row.manifestSha,
    path: { ...(prefix ? { gte: prefix } : {}), ...(cursor ? { gt: cursor } : {}) },
  };
  const [candidates, total] = await Promise.all([
    core.db.manifestEntry.findMany({ where, orderBy: { path: "asc" }, take: limit + 1 }),
    core.db.manifestEntry.count({ where: { manifestSha: row.manifestSha } }),
  ]);
  const rows = candidates.filter((e) => e.path.startsWith(prefix));
  const page = rows.slice(0, limit);
  return {
    items: page.map((e) => ({
      path: fromStorageText(e.path),
      kind: e.kind as ManifestEntry["kind"],
      mode: e.mode,
      size: Number(e.size),
      mtimeMs: e.mtimeMs,
      sha256: e.sha256 ?? undefined,
      linkTarget: e.linkTarget === null ? undefined : fromStorageText(e.linkTarget),
      // The index has no column of its own for it: a file without content is one the checkpoint found unstable.
      ...(e.kind === "file" && e.sha256 === null ? { unstable: true as const } : {}),
      reason: e.reason as ManifestEntry["reason"],
    })),
    nextCursor: rows.length > limit && page.length > 0 ? fromStorageText((page[page.length - 1] as (typeof page)[number]).path) : null,
    total,
  };
}

const INSERT_CHUNK = 400;

async function indexManifestEntries(core: Core, manifestSha: string): Promise<void> {
  const indexed = await core.db.manifestEntry.findFirst({ where: { manifestSha }, select: { path: true } });
  if (indexed) return;
  const manifest = readManifest(core.store, manifestSha);
  if (manifest.entries.length === 0) return;
  const store = metadataStore(core.config.dataDir);
  const postgres = store?.kind === "postgres";
  const table = postgres ? `${quoteIdent(store.schema)}.${quoteIdent("ManifestEntry")}` : quoteIdent("ManifestEntry");
  await core.db.$transaction(async (tx) => {
    for (let i = 0; i < manifest.entries.length; i += INSERT_CHUNK) {
      const chunk = manifest.entries.slice(i, i + INSERT_CHUNK);
      // One multi-row insert per chunk; a row another reader indexed meanwhile is kept.
      const values = chunk.map((_, row) => `(${Array.from({ length: 9 }, (_, col) => (postgres ? `$${row * 9 + col + 1}` : "?")).join(",")})`).join(",");
      const params = chunk.flatMap((e) => [manifestSha, toStorageText(e.path), e.kind, e.mode, e.size, e.mtimeMs, e.sha256 ?? null, e.linkTarget === undefined ? null : toStorageText(e.linkTarget), e.reason]);
      const columns = `("manifestSha","path","kind","mode","size","mtimeMs","sha256","linkTarget","reason")`;
      await tx.$executeRawUnsafe(
        postgres ? `INSERT INTO ${table} ${columns} VALUES ${values} ON CONFLICT DO NOTHING` : `INSERT OR IGNORE INTO ${table} ${columns} VALUES ${values}`,
        ...params,
      );
    }
  });
}
