/**
 * Stores a checkpoint's entries as tree objects and its root record. Only the
 * folders whose tree is not in the store yet are written (the folders on the
 * paths that changed since any earlier checkpoint of the same content); they
 * are made durable together, before the root record that names them.
 */
import type { ObjectStore } from "../store/object-store";
import type { DatabaseSnapshot } from "../dbstate/snapshot-types";
import type { CheckpointScope, ManifestEntry } from "./manifest-types";
import { buildTrees } from "./tree-build";
import { encodeRootRecord, type TreeTotals } from "./tree-format";

export interface StoredManifest {
  /** The checkpoint's checksum: the hash of its root record. */
  sha256: string;
  root: string;
  totals: TreeTotals;
  /** Bytes of tree objects and root record newly written. */
  newBytes: number;
  newTrees: number;
}

export async function storeTreeManifest(store: ObjectStore, scope: CheckpointScope, entries: readonly ManifestEntry[], databases: readonly DatabaseSnapshot[]): Promise<StoredManifest> {
  const fresh = new Map<string, string>();
  const built = buildTrees(entries, (sha, bytes) => {
    if (!fresh.has(sha) && !store.has(sha)) fresh.set(sha, bytes);
  });
  return storeBuiltTree(store, scope, databases, { ...built, fresh });
}

/**
 * The root record of a checkpoint whose tree is built already: nothing changed
 * since a capture with that tree (no `fresh` trees), or it was patched from one
 * (`fresh`: the tree objects of the folders on the changed paths not yet stored).
 */
export async function storeBuiltTree(
  store: ObjectStore,
  scope: CheckpointScope,
  databases: readonly DatabaseSnapshot[],
  tree: { root: string; totals: TreeTotals; fresh?: ReadonlyMap<string, string> },
): Promise<StoredManifest> {
  const fresh = tree.fresh ?? new Map<string, string>();
  let newBytes = 0;
  if (fresh.size > 0) {
    const batch = store.createBatch();
    try {
      for (const [sha, bytes] of fresh) {
        const data = Buffer.from(bytes, "utf8");
        if (await batch.stage(sha, { data })) newBytes += data.length;
      }
      await batch.commit();
    } catch (error) {
      await batch.abort();
      throw error;
    }
  }
  // The barrier: the root record is durable, and so are the renames of the trees (and contents) before it.
  await store.syncDirectoriesConcurrently();
  const record = store.putBuffer(encodeRootRecord(scope, databases, tree.root));
  return { sha256: record.sha256, root: tree.root, totals: tree.totals, newBytes: newBytes + (record.written ? record.size : 0), newTrees: fresh.size };
}
