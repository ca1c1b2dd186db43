/**
 * Where a data directory's objects live: in the directory itself (the default),
 * or in an S3-compatible bucket (SAFETYNET_OBJECT_STORE=s3://…), the directory
 * then holding a cache of them. The choice is recorded in `<store>/bucket` when
 * a data directory is first opened with a bucket (or moved to one by `safetynet
 * store migrate`), so that every later process uses the same place whether or
 * not it was given the setting, and a process given another place is refused
 * before it writes anything where the others would not look.
 */
import fs from "node:fs";
import path from "node:path";
import { InvalidInputError, OperationFailedError } from "../errors";
import { writeFileAtomic } from "../atomic-file";
import { nonNegativeNumberFromEnv } from "../env-number";
import type { Bucket, BucketObjectInfo } from "./bucket/bucket";
import { bucketLocation, describeBucket, isBucketUrl, OBJECT_STORE_SETTING, parseBucketUrl, type BucketUrl } from "./bucket/bucket-url";

const LOCAL = "local";
/** Default bound of a bucket's local cache (objects/ of the data directory). */
const DEFAULT_CACHE_MAX_BYTES = 10 * 1024 ** 3;

/** SAFETYNET_CACHE_MAX_BYTES: how much of the bucket's objects the data directory keeps (tree objects and staged uploads always stay). */
export function cacheMaxBytes(): number {
  return nonNegativeNumberFromEnv("SAFETYNET_CACHE_MAX_BYTES", DEFAULT_CACHE_MAX_BYTES);
}

/** The file in the store directory naming the bucket the data directory's objects live in. */
export function bucketRecordPath(storeDir: string): string {
  return path.join(storeDir, "bucket");
}

/** The bucket this data directory is recorded to use, or null (local objects). */
export function recordedBucket(storeDir: string): string | null {
  try {
    const value = fs.readFileSync(bucketRecordPath(storeDir), "utf8").trim();
    return value === "" ? null : value;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/** Records (or, with null, forgets) the bucket a data directory's objects live in. */
export function recordBucket(storeDir: string, url: string | null): void {
  if (url === null) fs.rmSync(bucketRecordPath(storeDir), { force: true });
  else writeFileAtomic(bucketRecordPath(storeDir), `${url}\n`);
}

/** Whether the local store holds objects or snapshot records (a data directory in use with local objects). */
function holdsLocalObjects(storeDir: string): boolean {
  const any = (dir: string, accept: (name: string) => boolean) => {
    try {
      return fs.readdirSync(dir).some(accept);
    } catch {
      return false;
    }
  };
  return any(path.join(storeDir, "objects"), (name) => /^[0-9a-f]{2}$/.test(name) && any(path.join(storeDir, "objects", name), () => true)) || any(path.join(storeDir, "snapshots"), (name) => name.endsWith(".json"));
}

/**
 * The bucket the store in `storeDir` must use, or null for local objects, from
 * the setting (SAFETYNET_OBJECT_STORE, `objectStore`) and the data directory's record; records a first choice
 * of a bucket. Refuses a setting that disagrees with the record, and a bucket
 * for a directory whose objects are still local (they would be left behind).
 */
export function resolveStoreLocation(storeDir: string, objectStore: string | undefined): BucketUrl | null {
  const setting = objectStore?.trim() ?? "";
  const recorded = recordedBucket(storeDir);
  if (setting === "" || setting === LOCAL) {
    if (setting === LOCAL && recorded) {
      throw new InvalidInputError(
        `${OBJECT_STORE_SETTING}=local, but this data directory's objects live in ${recorded}: run \`safetynet store migrate --to local\` to bring them back first`,
        { field: OBJECT_STORE_SETTING, recorded },
      );
    }
    return recorded ? parseBucketUrl(recorded) : null;
  }
  if (!isBucketUrl(setting)) throw new InvalidInputError(`${OBJECT_STORE_SETTING} must be an s3://<bucket>[/<prefix>]?endpoint=…&region=… URL, or \`local\``, { field: OBJECT_STORE_SETTING });
  const url = parseBucketUrl(setting);
  if (recorded) {
    if (sameBucket(parseBucketUrl(recorded), url)) return parseBucketUrl(recorded);
    throw new InvalidInputError(`${OBJECT_STORE_SETTING} names ${describeBucket(url)}, but this data directory's objects live in ${recorded}: use that, or move them with \`safetynet store migrate --to <url>\``, {
      field: OBJECT_STORE_SETTING,
      recorded,
    });
  }
  if (holdsLocalObjects(storeDir)) {
    throw new OperationFailedError(
      `this data directory's objects are stored in it (${storeDir}), not in ${describeBucket(url)}: run \`safetynet store migrate --to ${setting}\` to copy them into the bucket, or unset ${OBJECT_STORE_SETTING}`,
      { store: storeDir },
    );
  }
  recordBucket(storeDir, setting);
  return url;
}

function sameBucket(a: BucketUrl, b: BucketUrl): boolean {
  return a.bucket === b.bucket && a.prefix === b.prefix && (a.endpoint ?? "") === (b.endpoint ?? "");
}

/**
 * A bucket whose client (the AWS SDK, a large module) is loaded on first use:
 * a command that never reaches the bucket never pays for it.
 */
export function lazyBucket(url: BucketUrl): Bucket {
  let loaded: Promise<Bucket> | undefined;
  const client = () => (loaded ??= import("./bucket/s3-bucket").then(({ S3Bucket }) => new S3Bucket(url)));
  return {
    location: bucketLocation(url),
    putFile: async (key, file) => (await client()).putFile(key, file),
    putBuffer: async (key, body, options) => (await client()).putBuffer(key, body, options),
    download: async (key, dest) => (await client()).download(key, dest),
    getBuffer: async (key, maxBytes) => (await client()).getBuffer(key, maxBytes),
    head: async (key) => (await client()).head(key),
    list: (prefix) => listThrough(client, prefix),
    deleteMany: async (keys) => (await client()).deleteMany(keys),
    checkWritable: async () => (await client()).checkWritable(),
    close: () => {
      void loaded?.then((bucket) => bucket.close());
    },
  };
}

async function* listThrough(client: () => Promise<Bucket>, prefix: string): AsyncIterable<BucketObjectInfo> {
  yield* (await client()).list(prefix);
}

/**
 * Refuses to change anything when the data directory's objects moved (`store
 * migrate`) since this process opened it: it would write where the others no
 * longer look. One small read per mutation.
 */
export function assertStoreLocationCurrent(storeDir: string, using: string | null): void {
  const recorded = recordedBucket(storeDir);
  const now = recorded ? bucketLocation(parseBucketUrl(recorded)) : null;
  if (now === using) return;
  throw new OperationFailedError(
    `this data directory's objects moved to ${now ?? "the data directory itself"} (safetynet store migrate) since this process started using ${using ?? "the data directory itself"}; nothing was changed: run the command again (restart a server)`,
    { store: storeDir, recorded: now, using },
  );
}
