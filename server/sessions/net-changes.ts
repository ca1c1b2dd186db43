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
 * The records read are those of the checkpoints in each stretch (found through the
 * (componentId, createdAt) index, then each one's records by its key), so the cost
 * follows the number of changes in the stretches, never the size of the tree. A
 * page of sessions is one query: the stretches are a VALUES table.
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

/** The checkpoints of a component after `from`, up to and including `through`. */
export interface Stretch {
  componentId: string;
  from: CheckpointMark;
  through: CheckpointMark;
}

interface CountRow {
  n: bigint | number;
  added: bigint | number | null;
  modified: bigint | number | null;
  deleted: bigint | number | null;
}

const NONE: ChangeCounts = { added: 0, modified: 0, deleted: 0 };

/** Net changes of each stretch, in the order given: one query for all of them. */
export async function netChangesOf(core: Core, stretches: readonly Stretch[]): Promise<ChangeCounts[]> {
  if (stretches.length === 0) return [];
  const sql = sqlDialect(core.config.dataDir);
  // One row per stretch; its index is a literal from this code, so both stores type the column alike.
  const windows = stretches.map(
    (s, n) => Prisma.sql`(${Prisma.raw(String(n))}, ${s.componentId}, ${sql.timestamp(s.from.createdAt)}, ${s.from.id}, ${sql.timestamp(s.through.createdAt)}, ${s.through.id})`,
  );
  const rows = await core.db.$queryRaw<CountRow[]>(Prisma.sql`
    WITH w (n, cid, s, sid, e, eid) AS (VALUES ${Prisma.join(windows)}),
    r AS (
      SELECT w.n AS n, f."path" AS path, f."change" AS change, f."kind" AS kind,
             f."oldSha256" AS old_sha, f."newSha256" AS new_sha, f."oldMode" AS old_mode, f."newMode" AS new_mode,
             ROW_NUMBER() OVER (PARTITION BY w.n, f."path" ORDER BY c."createdAt", c."id") AS up,
             ROW_NUMBER() OVER (PARTITION BY w.n, f."path" ORDER BY c."createdAt" DESC, c."id" DESC) AS down
      FROM w
      JOIN ${sql.table("Checkpoint")} c
        ON c."componentId" = w.cid AND c."createdAt" >= w.s AND c."createdAt" <= w.e
       AND NOT (c."createdAt" = w.s AND c."id" <= w.sid)
       AND NOT (c."createdAt" = w.e AND c."id" > w.eid)
      JOIN ${sql.table("FileChange")} f ON f."checkpointId" = c."id"
    )
    SELECT a.n AS n,
      SUM(CASE WHEN a.change = 'added' AND z.change <> 'deleted' THEN 1 ELSE 0 END) AS added,
      SUM(CASE WHEN a.change <> 'added' AND z.change = 'deleted' THEN 1 ELSE 0 END) AS deleted,
      SUM(CASE WHEN a.change <> 'added' AND z.change <> 'deleted'
                AND (COALESCE(a.old_sha, '') <> COALESCE(z.new_sha, '') OR COALESCE(a.old_mode, -1) <> COALESCE(z.new_mode, -1))
               THEN 1 ELSE 0 END) AS modified
    FROM r a
    JOIN r z ON z.n = a.n AND z.path = a.path AND z.down = 1
    WHERE a.up = 1 AND NOT (a.kind = 'dir' AND z.kind = 'dir')
    GROUP BY a.n`);
  const counts = stretches.map(() => ({ ...NONE }));
  for (const row of rows) {
    counts[Number(row.n)] = { added: Number(row.added ?? 0), modified: Number(row.modified ?? 0), deleted: Number(row.deleted ?? 0) };
  }
  return counts;
}
