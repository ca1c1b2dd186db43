/**
 * Moving a data directory's objects between its own store and a bucket
 * (`safetynet store migrate --to s3://…|local`). Objects never change, so the
 * bulk is copied while everything else goes on; then, holding the store
 * exclusively (no checkpoint, rollback or sweep runs), what was written
 * meanwhile and the snapshot records are copied, and the data directory's
 * record of where its objects live is switched. Every object is checked
 * against its name before it is copied (a damaged one stops the switch: it
 * would be copied damaged), and against its size once it arrived.
 *
 * Resumable: to a bucket, what was copied is listed in `<store>/migrate-to-bucket`
 * (its first line names the bucket); to local, what is here already is done.
 * A rerun after an interruption copies the rest.
 */
import fs from "node:fs";
import path from "node:path";
import { mapConcurrent } from "../concurrency";
import { InsufficientStorageError, IntegrityError, InvalidInputError } from "../errors";
import { holdStoreExclusive, type LockSpace } from "../locks";
import type { Bucket } from "./bucket/bucket";
import { bucketLocation, parseBucketUrl } from "./bucket/bucket-url";
import { BucketTier, objectKey, recordKey } from "./bucket-tier";
import type { ObjectStore } from "./object-store";
import { lazyBucket, recordBucket } from "./store-location";

const COPY_CONCURRENCY = 8;
const PROGRESS_FILE = "migrate-to-bucket";
/** How long the final phase waits for running operations to finish before it gives up. */
const DRAIN_TIMEOUT_MS = 5 * 60_000;

export interface MigrationResult {
  from: string;
  to: string;
  /** Objects the destination holds for this data directory now. */
  objects: number;
  /** Of them, copied by this run (the rest were there already: an earlier, interrupted run). */
  copied: number;
  bytesCopied: number;
  records: number;
  /** Whether the data directory now uses the destination. */
  switched: boolean;
  durationMs: number;
  note: string;
}

export interface MigrationProgress {
  (done: number, total: number): void;
}

/**
 * Copies the local store into the bucket `setting` names, then switches the data directory to it.
 * `knownCheckpoint` says whether the database knows a checkpoint (records in the bucket of
 * checkpoints it does not know, and that are not here, are removed there: see below).
 */
export async function migrateToBucket(
  store: ObjectStore,
  locks: LockSpace,
  setting: string,
  onProgress: MigrationProgress = () => undefined,
  knownCheckpoint: (id: string) => Promise<boolean> = async () => true,
): Promise<MigrationResult> {
  const started = Date.now();
  if (store.bucket) throw new InvalidInputError(`this data directory's objects live in ${store.bucket.location} already; to move them elsewhere, migrate them --to local first`, { field: "--to" });
  const url = parseBucketUrl(setting);
  const bucket = lazyBucket(url);
  try {
    await bucket.checkWritable();
    const progressFile = path.join(store.dir, PROGRESS_FILE);
    const done = readProgress(progressFile, setting);
    const pass: CopyPass<string> = {
      pending: async () => [...store.listObjects()].map((o) => o.sha256).filter((sha) => !done.has(sha)),
      copy: async (sha256) => {
        const bytes = await copyObjectUp(store, bucket, sha256);
        fs.appendFileSync(progressFile, `${sha256}\n`);
        done.add(sha256);
        return bytes;
      },
    };
    const { copied, bytesCopied, records } = await copyThenSwitch(locks, pass, onProgress, async () => {
      let records = 0;
      const recordsDir = path.join(store.dir, "snapshots");
      const ids = readDir(recordsDir).filter((name) => name.endsWith(".json") && !name.startsWith("."));
      await mapConcurrent(ids, COPY_CONCURRENCY, async (name) => {
        await bucket.putBuffer(recordKey(name.slice(0, -".json".length)), fs.readFileSync(path.join(recordsDir, name)), { overwrite: true });
        records++;
      });
      await removeStaleRecords(bucket, new Set(ids.map((name) => name.slice(0, -".json".length))), knownCheckpoint);
      // The bucket's generation from now on (a prefix used before may be at any): what sweeps on other hosts log
      // after it is what this cache must drop; the stat caches, saved under the local one, are disowned.
      const tier = new BucketTier(bucket, store.dir);
      store.adoptCollectionGeneration(await tier.generation());
      recordBucket(store.dir, setting);
      fs.rmSync(progressFile, { force: true });
      // From here this process stages and uploads like any other that opens the data directory.
      store.attachBucket(tier);
      return records;
    });
    return {
      from: "local",
      to: bucketLocation(url),
      objects: done.size,
      copied,
      bytesCopied,
      records,
      switched: true,
      durationMs: Date.now() - started,
      note: `the data directory now uses ${bucketLocation(url)}; its objects/ is a cache from now on (SAFETYNET_CACHE_MAX_BYTES bounds it)`,
    };
  } catch (error) {
    bucket.close();
    throw error;
  }
}

/** Copies every object and record of the store's bucket here, then switches the data directory back to local objects. */
export async function migrateToLocal(store: ObjectStore, locks: LockSpace, onProgress: MigrationProgress = () => undefined): Promise<MigrationResult> {
  const started = Date.now();
  const tier = store.bucket;
  if (!tier) throw new InvalidInputError("this data directory's objects are local already", { field: "--to" });
  const from = tier.location;
  let objects = 0;
  // Staged uploads are local already; what other hosts write meanwhile is copied under the hold.
  const pass: CopyPass<{ sha256: string; size: number }> = {
    pending: async () => {
      const listed = await tier.listObjects();
      objects = listed.length;
      const pending = listed.filter((o) => !store.has(o.sha256));
      assertRoomFor(store.dir, pending.reduce((sum, o) => sum + o.size, 0));
      return pending;
    },
    copy: async (object) => {
      await store.ensureLocal([object.sha256]);
      return object.size;
    },
  };
  const { copied, bytesCopied, records } = await copyThenSwitch(locks, pass, onProgress, async () => {
    await tier.syncRecords();
    recordBucket(store.dir, null);
    store.detachBucket();
    fs.rmSync(tier.outboxDir, { recursive: true, force: true });
    return readDir(path.join(store.dir, "snapshots")).filter((name) => name.endsWith(".json")).length;
  });
  return {
    from,
    to: "local",
    objects,
    copied,
    bytesCopied,
    records,
    switched: true,
    durationMs: Date.now() - started,
    note: `the data directory keeps its objects itself again; nothing was deleted from ${from} (remove that prefix when no other data directory uses it)`,
  };
}

/**
 * A prefix this data directory used before (`--to local`, then back) still holds the records of the
 * checkpoints removed since: left there, the next sweep would download them back as records of lost
 * checkpoints (keeping their objects), and a rebuild from the bucket would bring the checkpoints back.
 */
async function removeStaleRecords(bucket: Bucket, here: ReadonlySet<string>, knownCheckpoint: (id: string) => Promise<boolean>): Promise<void> {
  const stale: string[] = [];
  for await (const object of bucket.list("snapshots/")) {
    const name = object.key.slice(object.key.lastIndexOf("/") + 1);
    if (!name.endsWith(".json")) continue;
    const id = name.slice(0, -".json".length);
    if (!here.has(id) && !(await knownCheckpoint(id))) stale.push(recordKey(id));
  }
  await bucket.deleteMany(stale);
}

/** One direction of a migration: what is left to copy, and copying one (the bytes it moved). */
interface CopyPass<T> {
  pending(): Promise<T[]>;
  copy(item: T): Promise<number>;
}

/**
 * The bulk copied while work goes on; then, under the store's exclusive hold (no
 * checkpoint, rollback or sweep runs), what was written meanwhile, and
 * `switchOver` (which says how many snapshot records the destination holds).
 */
async function copyThenSwitch<T>(locks: LockSpace, pass: CopyPass<T>, onProgress: MigrationProgress, switchOver: () => Promise<number>): Promise<{ copied: number; bytesCopied: number; records: number }> {
  let copied = 0;
  let bytesCopied = 0;
  const copyAll = async () => {
    const pending = await pass.pending();
    let finished = 0;
    await mapConcurrent(pending, COPY_CONCURRENCY, async (item) => {
      bytesCopied += await pass.copy(item);
      copied++;
      onProgress(++finished, pending.length);
    });
  };
  await copyAll();
  const release = await holdStoreExclusive(locks, { drainTimeoutMs: DRAIN_TIMEOUT_MS });
  try {
    await copyAll();
    return { copied, bytesCopied, records: await switchOver() };
  } finally {
    await release();
  }
}

/** Checks object `sha256` here, uploads it (write-once), and checks the size that arrived; the bytes sent. */
async function copyObjectUp(store: ObjectStore, bucket: Bucket, sha256: string): Promise<number> {
  const state = await store.verifyObject(sha256);
  const located = store.locate(sha256);
  if (state !== "ok" || !located) {
    throw new IntegrityError(`object ${sha256} is ${state === "ok" ? "missing" : state} in this data directory: nothing was switched. Run \`safetynet verify --all\` to see which checkpoints hold it`, {
      sha256,
      state: state === "ok" ? "missing" : state,
      path: located?.path ?? null,
    });
  }
  const key = objectKey(sha256, located.compressed);
  const size = fs.statSync(located.path).size;
  await bucket.putFile(key, located.path);
  const arrived = await bucket.head(key);
  if (!arrived || arrived.size !== size) {
    throw new IntegrityError(`object ${sha256} arrived in the bucket as ${arrived ? `${arrived.size} bytes` : "nothing"}, not ${size}: nothing was switched; run the migration again`, {
      sha256,
      state: "corrupt",
      path: key,
    });
  }
  return size;
}

/** What an earlier run to the same bucket copied (a run to another bucket starts over). */
function readProgress(file: string, setting: string): Set<string> {
  let lines: string[];
  try {
    lines = fs.readFileSync(file, "utf8").split("\n");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    lines = [];
  }
  if (lines[0] !== setting) {
    fs.writeFileSync(file, `${setting}\n`, { mode: 0o600 });
    return new Set();
  }
  return new Set(lines.slice(1).filter((line) => /^[0-9a-f]{64}$/.test(line)));
}

function assertRoomFor(dir: string, bytes: number): void {
  const { bavail, bsize } = fs.statfsSync(dir);
  const free = bavail * bsize;
  // Room for the objects and a margin: the data directory goes on being written.
  if (bytes > 0 && free < bytes * 1.1) {
    throw new InsufficientStorageError(`moving the objects here needs about ${bytes} bytes, but ${dir} has ${free} free: nothing was switched`, { needed: bytes, free, dir });
  }
}

function readDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
