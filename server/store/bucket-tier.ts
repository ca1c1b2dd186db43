/**
 * The bucket behind a data directory whose objects live in S3-compatible
 * storage. The local store (objects/) stays what every reader and writer uses;
 * with a bucket it is a staging area for new objects and a bounded read-through
 * cache of the bucket's:
 *
 *   <store>/outbox/<sha>          an empty marker made before a new object is renamed into objects/,
 *                                 removed once the bucket has it: what is local but maybe not in the bucket
 *   <store>/outbox/records/<id>   a snapshot record changed (or removed) locally, not yet in the bucket
 *
 * Keys in the bucket mirror the local layout: `objects/ab/<sha>` (raw) or
 * `objects/ab/<sha>.z` (compressed, the same bytes as the local file), and
 * `snapshots/<id>.json`. So every object in objects/ is either in the bucket or
 * has an outbox entry, and `flush()`, which checkpoints await before their rows
 * are written, is what makes a checkpoint survive the loss of this host.
 *
 * Objects are written once; a retention sweep (on any host) deletes them, and
 * writes first, to `collections/`, the list of what it deletes: each host reads
 * the lists it has not seen before relying on its cache (collections.ts).
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { mapConcurrent } from "../concurrency";
import { describeFsError } from "../errors";
import { PRIVATE_DIR_MODE } from "../private-files";
import type { Bucket } from "./bucket/bucket";
import { COMPRESSED_SUFFIX } from "./object-codec";
import type { StoredForm } from "./materialize";
import { isSha256Hex } from "./sha256";
import { writeFileAtomic } from "../atomic-file";

/** Uploads and downloads in flight at once. */
const TRANSFER_CONCURRENCY = 8;
const RECORDS = "records";
/** A marker whose object never reached objects/ is dropped once older than this (a write takes far less). */
const ORPHAN_MARKER_MS = 60 * 60_000;

export interface DownloadedForm {
  tmp: string;
  compressed: boolean;
  /** The bucket key it came from (named in errors). */
  key: string;
}

export interface CollectionLog {
  generation: number;
  /** Objects deleted from the bucket. */
  objects: string[];
  /** Snapshot records deleted from the bucket. */
  records: string[];
}

const GENERATION_KEY = "collections/generation";

function collectionLogKey(generation: number): string {
  return `collections/${String(generation).padStart(12, "0")}.json`;
}

export function objectKey(sha256: string, compressed: boolean): string {
  return `objects/${sha256.slice(0, 2)}/${sha256}${compressed ? COMPRESSED_SUFFIX : ""}`;
}

export function recordKey(id: string): string {
  return `snapshots/${id}.json`;
}

export class BucketTier {
  readonly outboxDir: string;
  private readonly recordsDir: string;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    readonly bucket: Bucket,
    private readonly storeDir: string,
  ) {
    this.outboxDir = path.join(storeDir, "outbox");
    this.recordsDir = path.join(this.outboxDir, RECORDS);
  }

  get location(): string {
    return this.bucket.location;
  }

  init(): void {
    for (const dir of [this.outboxDir, this.recordsDir]) {
      try {
        fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
      } catch (error) {
        throw describeFsError(error, dir);
      }
    }
  }

  /**
   * Notes a new object before it is renamed into objects/: an object that
   * reaches objects/ is then uploaded even if this process dies first. Never
   * undone by a writer that finds the object there already: another writer's
   * copy (in another process) may be the one that needs the marker.
   */
  stage(sha256: string): void {
    const marker = path.join(this.outboxDir, sha256);
    try {
      fs.closeSync(fs.openSync(marker, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o600));
    } catch (error) {
      throw describeFsError(error, marker);
    }
  }

  /** Notes that snapshot record `id` changed or was removed locally: the next flush brings the bucket's copy in line. */
  recordChanged(id: string): void {
    const marker = path.join(this.recordsDir, id);
    try {
      fs.writeFileSync(marker, "", { flag: "w", mode: 0o600 });
    } catch (error) {
      throw describeFsError(error, marker);
    }
  }

  /**
   * Uploads every staged object (from objects/, found by `locate`), then every
   * changed snapshot record, and clears their outbox entries. Resolves once the bucket holds everything staged
   * before the call; throws (leaving the entries for the next flush) when the
   * bucket cannot be written. One pass at a time per process.
   */
  flush(locate: (sha256: string) => StoredForm | null): Promise<void> {
    const pass = this.flushing.then(
      () => this.flushPass(locate),
      () => this.flushPass(locate),
    );
    this.flushing = pass.catch(() => undefined);
    return pass;
  }

  /** Whether anything waits in the outbox (objects or records). */
  pending(): { objects: number; records: number } {
    return { objects: this.objectEntries().length, records: readDirOrEmpty(this.recordsDir).length };
  }

  /** Objects staged here and not yet in the bucket (as far as this host knows). */
  stagedObjects(): string[] {
    return this.objectEntries();
  }

  private objectEntries(): string[] {
    return readDirOrEmpty(this.outboxDir).filter(isSha256Hex);
  }

  private async flushPass(locate: (sha256: string) => StoredForm | null): Promise<void> {
    const now = Date.now();
    await mapConcurrent(this.objectEntries(), TRANSFER_CONCURRENCY, async (sha256) => {
      const marker = path.join(this.outboxDir, sha256);
      const located = locate(sha256);
      if (!located) {
        // Not stored: a write in progress (its own flush uploads it) or one that died before its rename.
        // Only the latter is forgotten, once older than any write runs.
        const stat = fs.statSync(marker, { throwIfNoEntry: false });
        if (stat && now - stat.mtimeMs > ORPHAN_MARKER_MS) await fsp.rm(marker, { force: true });
        return;
      }
      await this.bucket.putFile(objectKey(sha256, located.compressed), located.path);
      await fsp.rm(marker, { force: true });
    });
    // Records after objects: a record in the bucket names a manifest the bucket holds.
    await mapConcurrent(readDirOrEmpty(this.recordsDir), TRANSFER_CONCURRENCY, async (id) => {
      const marker = path.join(this.recordsDir, id);
      const local = path.join(this.storeDir, "snapshots", `${id}.json`);
      let content: Buffer | null;
      try {
        content = await fsp.readFile(local);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw describeFsError(error, local);
        content = null;
      }
      // The marker goes first: a change made while uploading writes a new marker, uploaded next time.
      await fsp.rm(marker, { force: true });
      try {
        if (content) await this.bucket.putBuffer(recordKey(id), content, { overwrite: true });
        else await this.bucket.deleteMany([recordKey(id)]);
      } catch (error) {
        this.recordChanged(id);
        throw error;
      }
    });
  }

  /**
   * Downloads object `sha256` (either form) into a new file in `tmpDir`; null
   * when the bucket has neither. The caller verifies it and moves it into place.
   */
  async download(sha256: string, tmpDir: string): Promise<DownloadedForm | null> {
    for (const compressed of [false, true]) {
      const key = objectKey(sha256, compressed);
      const tmp = path.join(tmpDir, `download-${randomUUID()}`);
      const size = await this.bucket.download(key, tmp);
      if (size !== null) return { tmp, compressed, key };
    }
    return null;
  }

  /** The collection generation the bucket is at (the number of sweeps that deleted from it). */
  async generation(): Promise<number> {
    const body = await this.bucket.getBuffer(GENERATION_KEY, 1024);
    const value = body ? Number(body.toString("utf8").trim()) : 0;
    return Number.isSafeInteger(value) && value >= 0 ? value : 0;
  }

  /**
   * Before a sweep deletes from the bucket: writes the list of what it deletes
   * as the next generation's log, then moves the generation on. A host that
   * finds a newer generation drops those objects from its cache before it
   * trusts the cache again (collectedSince).
   */
  async beginCollection(objects: readonly string[], records: readonly string[]): Promise<number> {
    const next = (await this.generation()) + 1;
    const log: CollectionLog = { generation: next, objects: [...objects], records: [...records] };
    await this.bucket.putBuffer(collectionLogKey(next), Buffer.from(JSON.stringify(log)), { overwrite: true });
    await this.bucket.putBuffer(GENERATION_KEY, Buffer.from(`${next}\n`), { overwrite: true });
    return next;
  }

  /** The logs of the collections after generation `seen` up to `current`; null when one is gone (trust nothing cached then). */
  async collectedSince(seen: number, current: number): Promise<CollectionLog[] | null> {
    const logs: CollectionLog[] = [];
    for (let generation = seen + 1; generation <= current; generation++) {
      const body = await this.bucket.getBuffer(collectionLogKey(generation), 256 * 1024 * 1024);
      if (!body) return null;
      const log = JSON.parse(body.toString("utf8")) as CollectionLog;
      if (!Array.isArray(log.objects) || !Array.isArray(log.records)) return null;
      logs.push(log);
    }
    return logs;
  }

  /** Deletes objects (both forms) from the bucket, in batches. */
  async deleteObjects(sha256s: readonly string[]): Promise<void> {
    await this.bucket.deleteMany(sha256s.flatMap((sha) => [objectKey(sha, false), objectKey(sha, true)]));
  }

  /**
   * Every object in the bucket: sha256, bytes (both forms together) and when it
   * was written (the later form), sorted by sha256.
   */
  async listObjects(): Promise<{ sha256: string; size: number; mtimeMs: number }[]> {
    const bySha = new Map<string, { sha256: string; size: number; mtimeMs: number }>();
    for await (const object of this.bucket.list("objects/")) {
      const name = object.key.slice(object.key.lastIndexOf("/") + 1);
      const sha256 = name.endsWith(COMPRESSED_SUFFIX) ? name.slice(0, -COMPRESSED_SUFFIX.length) : name;
      if (!isSha256Hex(sha256)) continue;
      const seen = bySha.get(sha256);
      const mtimeMs = object.lastModified.getTime();
      if (seen) {
        seen.size += object.size;
        seen.mtimeMs = Math.max(seen.mtimeMs, mtimeMs);
      } else bySha.set(sha256, { sha256, size: object.size, mtimeMs });
    }
    return [...bySha.values()].sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1));
  }

  /**
   * Brings the local snapshots/ in line with the bucket's records (what rebuild-db
   * and a sweep read): records only the bucket has are downloaded; local ones the
   * bucket no longer has, and that are not waiting to be uploaded, are removed.
   */
  async syncRecords(): Promise<void> {
    const remote = new Set(await this.recordIds());
    const localDir = path.join(this.storeDir, "snapshots");
    const waiting = new Set(readDirOrEmpty(this.recordsDir));
    for (const name of readDirOrEmpty(localDir)) {
      if (!name.endsWith(".json") || name.startsWith(".")) continue;
      const id = name.slice(0, -".json".length);
      if (!remote.has(id) && !waiting.has(id)) fs.rmSync(path.join(localDir, name), { force: true });
    }
    const local = new Set(readDirOrEmpty(localDir));
    await mapConcurrent([...remote].filter((id) => !local.has(`${id}.json`) && !waiting.has(id)), TRANSFER_CONCURRENCY, async (id) => {
      const body = await this.readRecord(id);
      if (body) writeFileAtomic(path.join(localDir, `${id}.json`), body);
    });
  }

  /** Whether the bucket holds object `sha256` (either form). */
  async has(sha256: string): Promise<boolean> {
    for (const compressed of [false, true]) if (await this.bucket.head(objectKey(sha256, compressed))) return true;
    return false;
  }

  /** The bucket's snapshot records (ids), for rebuild-db. */
  async recordIds(): Promise<string[]> {
    const ids: string[] = [];
    for await (const object of this.bucket.list("snapshots/")) {
      const name = object.key.slice(object.key.lastIndexOf("/") + 1);
      if (name.endsWith(".json")) ids.push(name.slice(0, -".json".length));
    }
    return ids;
  }

  async readRecord(id: string): Promise<Buffer | null> {
    return this.bucket.getBuffer(recordKey(id), 16 * 1024 * 1024);
  }
}

function readDirOrEmpty(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw describeFsError(error, dir);
  }
}
