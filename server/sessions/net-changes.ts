/**
 * What a stretch of a component's checkpoints changed in total, from their
 * change records, computed in SQL: for each path, its first record says whether
 * it existed before the stretch (and with what content and mode), its last
 * whether it exists after it (and with what). The counts are net:
 *
 *   added     absent before, present after
 *   deleted   present before, absent after
 *   modified  present before and after, with other content, mode or kind
 *
 * A path added and deleted again within the stretch, or changed and changed
 * back, counts as nothing: it is as it was. Folders are not counted (as in a
 * checkpoint's own counts: files and symlinks only).
 *
 * The records read are those of the checkpoints in the stretch (found through the
 * (componentId, createdAt) index, then each one's records by its key), so the cost
 * follows the number of changes in the stretch, never the size of the tree.
 */
import type { Core } from "../core";
import { Prisma } from "../generated/prisma/client";
import { sqlDialect } from "../db/sql-dialect";
import type { ChangeCounts } from "../checkpoints/change-records";

/** A checkpoint's place on the component's time axis: (createdAt, id). */
export interface CheckpointMark {
  id: string;
  createdAt: Date;
}

interface CountRow {
  added: bigint | number | null;
  modified: bigint | number | null;
  deleted: bigint | number | null;
}

/** Net changes recorded by the checkpoints after `from` up to and including `through`. */
export async function netChangesBetween(core: Core, componentId: string, from: CheckpointMark, through: CheckpointMark): Promise<ChangeCounts> {
  if (through.createdAt.getTime() < from.createdAt.getTime() || (through.createdAt.getTime() === from.createdAt.getTime() && through.id <= from.id)) {
    return { added: 0, modified: 0, deleted: 0 };
  }
  const sql = sqlDialect(core.config.dataDir);
  const start = sql.timestamp(from.createdAt);
  const end = sql.timestamp(through.createdAt);
  const rows = await core.db.$queryRaw<CountRow[]>(Prisma.sql`
    WITH r AS (
      SELECT f."path" AS path, f."change" AS change, f."kind" AS kind,
             f."oldSha256" AS old_sha, f."newSha256" AS new_sha, f."oldMode" AS old_mode, f."newMode" AS new_mode,
             ROW_NUMBER() OVER (PARTITION BY f."path" ORDER BY c."createdAt", c."id") AS up,
             ROW_NUMBER() OVER (PARTITION BY f."path" ORDER BY c."createdAt" DESC, c."id" DESC) AS down
      FROM ${sql.table("Checkpoint")} c
      JOIN ${sql.table("FileChange")} f ON f."checkpointId" = c."id"
      WHERE c."componentId" = ${componentId}
        AND c."createdAt" >= ${start} AND c."createdAt" <= ${end}
        AND NOT (c."createdAt" = ${start} AND c."id" <= ${from.id})
        AND NOT (c."createdAt" = ${end} AND c."id" > ${through.id})
    )
    SELECT
      SUM(CASE WHEN a.change = 'added' AND z.change <> 'deleted' THEN 1 ELSE 0 END) AS added,
      SUM(CASE WHEN a.change <> 'added' AND z.change = 'deleted' THEN 1 ELSE 0 END) AS deleted,
      SUM(CASE WHEN a.change <> 'added' AND z.change <> 'deleted'
                AND (COALESCE(a.old_sha, '') <> COALESCE(z.new_sha, '') OR COALESCE(a.old_mode, -1) <> COALESCE(z.new_mode, -1))
               THEN 1 ELSE 0 END) AS modified
    FROM r a
    JOIN r z ON z.path = a.path AND z.down = 1
    WHERE a.up = 1 AND NOT (a.kind = 'dir' AND z.kind = 'dir')`);
  const row = rows[0];
  return { added: Number(row?.added ?? 0), modified: Number(row?.modified ?? 0), deleted: Number(row?.deleted ?? 0) };
}
