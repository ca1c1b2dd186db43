/**
 * The model's legacy-format mode: rewrites every active checkpoint the way the
 * release before tree manifests stored it (one flat manifest object, written by
 * the same encoder that release used, named in the database row and the
 * snapshot record), so the commands that follow run on checkpoints of that
 * format mixed with new ones: rollbacks, diffs, verify, retention, change
 * records against a flat base. With the objects in a bucket, the trees are
 * fetched first (the cache may have lost them) and what was rewritten is
 * uploaded, as the product does before it writes a checkpoint's rows.
 */
import type { Core } from "../../server/core";
import { encodeManifest } from "../../server/checkpoints/flat-manifest";
import { readSnapshotRecord, writeSnapshotRecord } from "../../server/checkpoints/snapshot-record";
import { flattenManifest, openManifest } from "../../server/checkpoints/tree-read";
import { ensureManifestLocal } from "../../server/checkpoints/tree-fetch";

/** Returns how many checkpoints were rewritten. */
export async function downgradeToFlatManifests(core: Core): Promise<number> {
  const rows = await core.db.checkpoint.findMany({ where: { status: "active" }, select: { id: true, manifestSha: true } });
  let rewritten = 0;
  for (const row of rows) {
    await ensureManifestLocal(core.store, row.manifestSha);
    const opened = openManifest(core.store, row.manifestSha);
    if (opened.version !== 4) continue;
    const entries = flattenManifest(core.store, opened);
    const flat = core.store.putBuffer(encodeManifest(opened.scope, entries, opened.databases));
    await core.store.flushRemote();
    const { files, dirs, symlinks, bytes } = opened.totals;
    await core.db.$transaction([
      core.db.manifest.upsert({ where: { sha256: flat.sha256 }, create: { sha256: flat.sha256, files, dirs, symlinks, bytes: BigInt(bytes) }, update: {} }),
      core.db.checkpoint.update({ where: { id: row.id }, data: { manifestSha: flat.sha256 } }),
    ]);
    writeSnapshotRecord(core.store, { ...readSnapshotRecord(core.store, row.id), manifestSha256: flat.sha256 });
    await core.store.flushRemote();
    rewritten++;
  }
  return rewritten;
}
