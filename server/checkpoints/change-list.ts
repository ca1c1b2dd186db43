/**
 * One checkpoint's change records, page by page in path order: what it added,
 * modified and deleted against its base (the previous checkpoint covering its
 * scope). Read from the change-record table by its primary key, so a page costs
 * the rows it returns, whatever the size of the tree. Folders are left out unless
 * their type changed, as in the counts on the checkpoint.
 */
import type { Core } from "../core";
import { fromStorageText, toStorageText } from "../byte-paths";
import type { CheckpointChangesInput } from "../schemas";
import type { RecordedChange } from "./change-records";
import { findCheckpointRow } from "./queries";

export interface CheckpointChangeItem {
  path: string;
  change: RecordedChange;
  /** The entry's kind in this checkpoint (before it, for a deletion). */
  kind: string;
  oldMode: number | null;
  newMode: number | null;
  /** Bytes in this checkpoint (before it, for a deletion). */
  size: number | null;
}

export interface CheckpointChangesPage {
  checkpointId: string;
  /** The checkpoint these changes are against; null when there is none before it (nothing recorded). */
  against: string | null;
  counts: { added: number; modified: number; deleted: number } | null;
  items: CheckpointChangeItem[];
  /** The last path of this page, to pass as `cursor` for the next one. */
  nextCursor: string | null;
}

const DEFAULT_LIMIT = 50;

export async function listCheckpointChanges(core: Core, input: CheckpointChangesInput): Promise<CheckpointChangesPage> {
  const row = await findCheckpointRow(core, input.id);
  const limit = input.limit ?? DEFAULT_LIMIT;
  const rows = await core.db.fileChange.findMany({
    where: {
      checkpointId: row.id,
      OR: [{ kind: { not: "dir" } }, { change: "type" }],
      ...(input.cursor !== undefined ? { path: { gt: toStorageText(input.cursor) } } : {}),
    },
    orderBy: { path: "asc" },
    take: limit + 1,
    select: { path: true, change: true, kind: true, oldMode: true, newMode: true, size: true },
  });
  const page = rows.slice(0, limit);
  const items = page.map((r) => ({
    path: fromStorageText(r.path),
    change: r.change as RecordedChange,
    kind: r.kind,
    oldMode: r.oldMode,
    newMode: r.newMode,
    size: r.size === null ? null : Number(r.size),
  }));
  const counts = row.added === null || row.modified === null || row.deleted === null ? null : { added: row.added, modified: row.modified, deleted: row.deleted };
  return { checkpointId: row.id, against: row.baseId, counts, items, nextCursor: rows.length > limit ? (items[items.length - 1]?.path ?? null) : null };
}
