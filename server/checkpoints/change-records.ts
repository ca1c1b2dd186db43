/**
 * Change records: what a checkpoint changed against the component's previous
 * checkpoint that covers its scope (its base), found by comparing their trees,
 * so a checkpoint inserts one row per changed path and none for the rest of the
 * tree. Only content, mode and kind count as changes: a file touched but not
 * changed, or a hard link made of two equal files, is not one.
 */
import type { Core } from "../core";
import type { CheckpointScope } from "./manifest-types";
import type { ChangeKind, PathChange } from "./compare";
import { compareTrees } from "./tree-diff";
import { openManifest, type OpenedManifest } from "./tree-read";
import { toStorageText } from "../byte-paths";
import { ensureManifestLocal } from "./tree-fetch";
import { Prisma } from "../generated/prisma/client";
import { sqlDialect } from "../db/sql-dialect";

export type RecordedChange = "added" | "modified" | "deleted" | "mode" | "type";

const RECORDED: Partial<Record<ChangeKind, RecordedChange>> = {
  added: "added",
  modified: "modified",
  deleted: "deleted",
  "mode-changed": "mode",
  "type-changed": "type",
};

export interface FileChangeRow {
  path: string;
  change: RecordedChange;
  kind: string;
  oldSha256: string | null;
  newSha256: string | null;
  oldMode: number | null;
  newMode: number | null;
  size: bigint | null;
}

export interface ChangeCounts {
  added: number;
  modified: number;
  deleted: number;
}

export interface CheckpointChanges {
  baseId: string | null;
  counts: ChangeCounts | null;
  rows: FileChangeRow[];
}

/** How many earlier checkpoints are looked at for one covering the new one's scope. */
const BASE_CANDIDATES = 20;

/** True when every path of `inner` is covered by `outer`. */
export function scopeCovers(outer: CheckpointScope, inner: CheckpointScope): boolean {
  if (outer.kind === "all") return true;
  if (inner.kind === "all") return outer.paths.includes("");
  return inner.paths.every((p) => outer.paths.some((q) => q === "" || p === q || p.startsWith(`${q}/`)));
}

/** The component's latest active checkpoint taken before `before` whose scope covers `scope`, opened. */
export async function findBase(core: Core, componentId: string, scope: CheckpointScope, before: Date): Promise<{ id: string; manifest: OpenedManifest } | null> {
  const candidates = await core.db.checkpoint.findMany({
    where: { componentId, status: "active", createdAt: { lte: before } },
    select: { id: true, manifestSha: true },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: BASE_CANDIDATES,
  });
  for (const candidate of candidates) {
    let manifest: OpenedManifest;
    try {
      await ensureManifestLocal(core.store, candidate.manifestSha);
      manifest = openManifest(core.store, candidate.manifestSha);
    } catch {
      continue; // A damaged checkpoint is no base: the next one may be.
    }
    if (scopeCovers(manifest.scope, scope)) return { id: candidate.id, manifest };
  }
  return null;
}

/**
 * The change a path's history records: content, kind and mode count. A link made
 * or broken (classified first) is not a change of the file itself, but its mode
 * changing at the same time still is.
 */
function recordedAs(change: PathChange): RecordedChange | undefined {
  if (change.change === "link-changed") return change.before && change.after && change.before.mode !== change.after.mode ? "mode" : undefined;
  return RECORDED[change.change];
}

function rowOf(change: PathChange, recorded: RecordedChange): FileChangeRow {
  const now = change.after;
  const old = change.before;
  return {
    path: toStorageText(change.path),
    change: recorded,
    kind: (now ?? old)?.kind ?? "file",
    oldSha256: old?.sha256 ?? null,
    newSha256: now?.sha256 ?? null,
    oldMode: old ? old.mode : null,
    newMode: now ? now.mode : null,
    size: now ? BigInt(now.size) : old ? BigInt(old.size) : null,
  };
}

/** What `manifest` changed against its base (none: no rows, null counts). */
export async function changesAgainstBase(core: Core, componentId: string, manifest: OpenedManifest, takenAt: Date): Promise<CheckpointChanges> {
  const base = await findBase(core, componentId, manifest.scope, takenAt);
  if (!base) return { baseId: null, counts: null, rows: [] };
  const { changes } = compareTrees(core.store, base.manifest, manifest, { scopes: [base.manifest.scope, manifest.scope] });
  const rows: FileChangeRow[] = [];
  const counts: ChangeCounts = { added: 0, modified: 0, deleted: 0 };
  for (const change of changes) {
    const recorded = recordedAs(change);
    if (!recorded) continue;
    rows.push(rowOf(change, recorded));
    // Folders are recorded, not counted: the counts are of files and symlinks, as a diffstat's.
    const isFolder = (change.before?.kind ?? "dir") === "dir" && (change.after?.kind ?? "dir") === "dir";
    if (isFolder) continue;
    if (recorded === "added") counts.added++;
    else if (recorded === "deleted") counts.deleted++;
    else counts.modified++;
  }
  return { baseId: base.id, counts, rows };
}

/**
 * Change rows per insert statement: 11 bound values a row, under SQLite's limit
 * of 32,766 per statement (PostgreSQL allows 65,535).
 */
const ROWS_PER_INSERT = 1_000;

/**
 * The inserts of a checkpoint's change rows, for the transaction that records the
 * checkpoint. Plain multi-row INSERTs: Prisma's createMany costs about 0.4 ms a
 * row here (its query compiler and row mapping), so 50 changed files took 20 ms
 * of a checkpoint and 1,000 took 400 ms; the statement itself takes a few.
 */
export function changeRowInserts(core: Core, rows: readonly FileChangeRow[], checkpoint: { id: string; componentId: string; createdAt: Date }) {
  const sql = sqlDialect(core.config.dataDir);
  const createdAt = sql.timestamp(checkpoint.createdAt);
  const inserts = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
    const values = rows
      .slice(i, i + ROWS_PER_INSERT)
      .map((r) => Prisma.sql`(${checkpoint.id}, ${checkpoint.componentId}, ${r.path}, ${r.change}, ${r.kind}, ${r.oldSha256}, ${r.newSha256}, ${r.oldMode}, ${r.newMode}, ${r.size}, ${createdAt})`);
    inserts.push(
      core.db.$executeRaw`INSERT INTO ${sql.table("FileChange")} ("checkpointId", "componentId", "path", "change", "kind", "oldSha256", "newSha256", "oldMode", "newMode", "size", "createdAt") VALUES ${Prisma.join(values)}`,
    );
  }
  return inserts;
}
