/**
 * With a bucket, a checkpoint's tree objects are read from this host's copy:
 * before a checkpoint is opened, the root record and every tree below it that
 * is not here yet are downloaded (each verified), children before parents, so
 * a tree here always has its subtrees here too and a checkpoint this host wrote
 * or opened before costs one look-up. File contents are fetched by the
 * readers that need them. Without a bucket this does nothing.
 */
import type { ObjectStore } from "../store/object-store";
import { manifestLinks, treeLinks } from "./tree-links";

export async function ensureManifestLocal(store: ObjectStore, manifestSha: string): Promise<void> {
  if (!store.bucket) return;
  await store.ensureLocalGraph([manifestSha], (content, sha256) => (sha256 === manifestSha ? manifestLinks(content, sha256).trees : treeLinks(content, sha256).trees));
}
