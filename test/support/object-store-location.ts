/**
 * Where the tests keep objects. `npm test` runs the engine, CLI and HTTP suites
 * with the data directory as the store (the default), and again with the
 * objects in an S3-compatible bucket (`SAFETYNET_TEST_OBJECT_STORE=s3`, see
 * test/support/s3-pass.ts): one s3rver for the run, and every data directory a
 * test makes gets its own prefix in its bucket, named after the data
 * directory, so the CLI processes, the servers and the in-process cores a test
 * opens on it all find the same objects, and no test sees another's.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { S3Bucket } from "../../server/store/bucket/s3-bucket";
import { objectKey, recordKey } from "../../server/store/bucket-tier";
import { recordBucket } from "../../server/store/store-location";
import { bucketSetting, S3RVER_CREDENTIALS } from "./s3-server";
import { corruptStoredObjectFile, corruptStoredObjectUndoably, isCompressedObjectFile, storedObjectFile } from "./stored-objects";

/** Set by the S3 pass's global setup: the s3rver of this run, and its bucket. */
export const S3_PASS_ENDPOINT_ENV = "SAFETYNET_TEST_S3_ENDPOINT";
export const S3_PASS_BUCKET_ENV = "SAFETYNET_TEST_S3_BUCKET";

export function onS3Pass(): boolean {
  return Boolean(process.env[S3_PASS_ENDPOINT_ENV]);
}

/** The SAFETYNET_OBJECT_STORE of a data directory on the S3 pass; undefined when its objects stay in it. */
export function objectStoreFor(dataDir: string): string | undefined {
  const endpoint = process.env[S3_PASS_ENDPOINT_ENV];
  const bucket = process.env[S3_PASS_BUCKET_ENV];
  if (!endpoint || !bucket) return undefined;
  return bucketSetting(bucket, `t-${createHash("sha256").update(dataDir).digest("hex").slice(0, 24)}`, endpoint);
}

/**
 * What a process working on `dataDir` needs in its environment on the S3 pass:
 * SAFETYNET_OBJECT_STORE and the credentials s3rver accepts (the SDK's own
 * chain reads them). Empty otherwise.
 */
export function objectStoreEnvFor(dataDir: string): Record<string, string> {
  const setting = objectStoreFor(dataDir);
  return setting ? { ...S3RVER_CREDENTIALS, SAFETYNET_OBJECT_STORE: setting } : {};
}

/** The configuration fields a core opened in-process on `dataDir` needs (config.objectStore on the S3 pass). */
export function objectStoreConfigFor(dataDir: string): { objectStore?: string } {
  const setting = objectStoreFor(dataDir);
  return setting ? { objectStore: setting } : {};
}

/** Runs `use` on the bucket behind `dataDir` (S3 pass only). */
async function withBucketOf<T>(dataDir: string, use: (bucket: S3Bucket) => Promise<T>): Promise<T> {
  const setting = objectStoreFor(dataDir);
  if (!setting) throw new Error(`${dataDir} keeps its objects itself: not on the S3 pass`);
  const bucket = S3Bucket.fromSetting(setting);
  try {
    return await use(bucket);
  } finally {
    bucket.close();
  }
}

/**
 * Damages object `sha256` wherever it is kept: its file in the data directory
 * (stored-objects.ts), and on the S3 pass its copy in the bucket too, in the
 * same way (the bucket's copy holds the same bytes as the file): a damaged
 * cached copy alone would be replaced by the bucket's.
 */
export async function corruptObjectEverywhere(dataDir: string, sha256: string): Promise<string> {
  const file = corruptStoredObjectFile(dataDir, sha256);
  await copyObjectFileToBucket(dataDir, sha256);
  return file;
}

/** corruptObjectEverywhere, undoably: the function returned puts the object's bytes back, here and in the bucket. */
export async function corruptObjectUndoablyEverywhere(dataDir: string, sha256: string): Promise<() => Promise<void>> {
  const undo = corruptStoredObjectUndoably(dataDir, sha256);
  await copyObjectFileToBucket(dataDir, sha256);
  return async () => {
    undo();
    await copyObjectFileToBucket(dataDir, sha256);
  };
}

/** On the S3 pass, removes object `sha256` from the bucket (both forms), leaving the data directory alone. Nothing otherwise. */
export async function deleteObjectFromBucket(dataDir: string, sha256: string): Promise<void> {
  if (!onS3Pass()) return;
  await withBucketOf(dataDir, (bucket) => bucket.deleteMany([objectKey(sha256, false), objectKey(sha256, true)]));
}

/**
 * On the S3 pass, puts the data directory's file of object `sha256`, as it is
 * now (damaged, cut short or put back by the test), in place of the bucket's
 * copy. Nothing otherwise.
 */
export async function copyObjectFileToBucket(dataDir: string, sha256: string): Promise<void> {
  if (!onS3Pass()) return;
  const file = storedObjectFile(dataDir, sha256);
  await withBucketOf(dataDir, (bucket) => bucket.putBuffer(objectKey(sha256, isCompressedObjectFile(file)), fs.readFileSync(file), { overwrite: true }));
}

/** Removes object `sha256` wherever it is kept (on the S3 pass, from the bucket too: a cached copy removed alone is downloaded again). */
export async function deleteObjectEverywhere(dataDir: string, sha256: string): Promise<void> {
  fs.rmSync(storedObjectFile(dataDir, sha256));
  await deleteObjectFromBucket(dataDir, sha256);
}

/**
 * On the S3 pass, moves the objects of a data directory that holds them itself
 * (an earlier release's) into its prefix in the bucket, the way a data
 * directory moved to a bucket holds them: every object and snapshot record
 * uploaded under the keys the store uses, the bucket recorded, and the objects
 * removed from the directory, so that every read comes from the bucket.
 * Nothing otherwise.
 */
export async function moveObjectsIntoBucket(dataDir: string): Promise<void> {
  const setting = objectStoreFor(dataDir);
  if (!setting) return;
  const store = path.join(dataDir, "store");
  const objects = path.join(store, "objects");
  const snapshots = path.join(store, "snapshots");
  await withBucketOf(dataDir, async (bucket) => {
    for (const fanout of fs.readdirSync(objects)) {
      for (const name of fs.readdirSync(path.join(objects, fanout))) {
        const compressed = isCompressedObjectFile(name);
        await bucket.putFile(objectKey(compressed ? name.slice(0, -".z".length) : name, compressed), path.join(objects, fanout, name));
      }
    }
    for (const name of fs.existsSync(snapshots) ? fs.readdirSync(snapshots) : []) {
      if (name.endsWith(".json")) await bucket.putBuffer(recordKey(name.slice(0, -".json".length)), fs.readFileSync(path.join(snapshots, name)), { overwrite: true });
    }
  });
  recordBucket(store, setting);
  for (const fanout of fs.readdirSync(objects)) fs.rmSync(path.join(objects, fanout), { recursive: true });
}
