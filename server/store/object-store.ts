/**
 * The content-addressed object store: every blob is a file named by the sha256
 * of its content, written once and never modified (read-only and private, 0o400;
 * directories 0o700, see server/private-files.ts).
 *
 *   <dir>/objects/ab/abcdef...     an object's content as it is (two-character fan-out)
 *   <dir>/objects/ab/abcdef....z   or compressed, where that pays (object-codec.ts)
 *   <dir>/tmp/<random>             in-progress writes (same filesystem, so rename is atomic)
 *   <dir>/snapshots/               one small record per checkpoint (checkpoints/snapshot-record.ts)
 *
 * A write goes to tmp/, is fdatasync'ed, then renamed into place, unless the
 * object already exists (in either form), in which case the tmp file is dropped
 * (dedup). A reader therefore sees either no object or a complete one. Durability
 * of the renames themselves (the directory entries) is batched: see syncDirectories().
 *
 * Objects are read only through this class, which inflates compressed ones and
 * checks them against their names: nothing else opens a file in objects/.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { createHash } from "node:crypto";
import { describeFsError, SafetyNetError } from "../errors";
import { fsyncDirectory, fsyncDirectorySync, OBJECT_FILE_MODE, openNewFd, removeQuietly, removeQuietlySync, writeNewFile, writeNewFileOpen, writeNewFileSync } from "./atomic-write";
import { CHUNK_SIZE, hashPath, readFileStable, SMALL_FILE_LIMIT, type ExpectedStat, type FileStat } from "./hash-file";
import { materializeObject, type MaterializeOptions, type StoredForm } from "./materialize";
import { WriteBatch } from "./write-batch";
import { flushDirectories } from "./sync-fs";
import type { SparseInfo } from "./sparse-format";
import { COMPRESSED_SUFFIX, CompressedFormatError, compressIfItPays, decompressSync, pays, RAW_ONLY_MAX_BYTES, SAMPLE_BYTES, samplePays } from "./object-codec";
import { inflateObject, inflateSmallObject, ObjectReadError, rawObject, readHeaderSync } from "./object-content";
import { corruptObjectError, missingObjectError, type ObjectState } from "./object-errors";
import { closeFd, closeFdQuietly, closeFdQuietlySync, fstatFd, openFd, readFdAt, writeFdAll } from "./raw-fd";
import { CompressingSpill, RawSpill, type OpenSpill } from "./spill";
import { assertSha256Hex, isSha256Hex, sha256Hex } from "./sha256";
import { writeFileAtomic } from "../atomic-file";
import { PRIVATE_DIR_MODE } from "../private-files";
import { objectKey as objectKeyOf, type BucketTier, type DownloadedForm } from "./bucket-tier";
import { mapConcurrent } from "../concurrency";
import { trimCache, type TrimResult } from "./cache-trim";

export { sha256Hex } from "./sha256";
export type { ExpectedStat, FileStat } from "./hash-file";
export type { StoredForm } from "./materialize";
export type { ObjectState } from "./object-errors";
export type { WriteBatch } from "./write-batch";

declare const storedBrand: unique symbol;
/**
 * A sha256 the store handed out because the object is in it (or staged in a write
 * batch that commits before anyone may rely on it). Only the store makes these:
 * a file that was merely hashed has a plain string, and so cannot be recorded as
 * stored by the stat cache.
 */
export type StoredSha256 = string & { readonly [storedBrand]: true };

export interface PutResult {
  sha256: StoredSha256;
  /** Bytes of the object's content (for a sparse file, of its representation), whatever it takes on disk. */
  size: number;
  /** false when the object already existed (dedup) */
  written: boolean;
}

/**
 * An object's content, read from the store as it streams (inflated when it is
 * stored compressed). Iterating it throws IntegrityError (state "corrupt") when
 * the stored form cannot be read back; it does not hash: the reader checks the
 * content against the object's name (the store's own readers all do).
 */
export interface ObjectContent {
  /** Bytes of content the object says it holds (a raw object's size, a compressed one's header). */
  readonly size: number;
  readonly chunks: AsyncIterable<Buffer>;
  close(): Promise<void>;
}

/**
 * New content for commit(): the bytes (encoded there: compressed where it pays,
 * unless `compressible` is false), or a tmp file already written in its final form.
 */
type NewContent = { tmp: string; compressed: boolean; size?: number } | { data: Buffer; compressible: boolean };

export interface ObjectStoreOptions {
  /**
   * TEST ONLY: called by putFile after a file's content was read and before the
   * second fstat, with the attempt number (0 = first read). Lets a test modify the
   * file mid-read to exercise change detection. Never set in production code.
   */
  afterReadForTests?: (absPath: string, attempt: number) => void | Promise<void>;
}

const FANOUT_NAME = /^[0-9a-f]{2}$/;
/** Objects downloaded from the bucket at once by ensureLocal. */
const FETCH_CONCURRENCY = 8;
/** Block size assumed when the file system does not say (statfs). */
const DEFAULT_BLOCK_SIZE = 4096;

export class ObjectStore {
  private readonly objectsDir: string;
  private readonly tmpDir: string;
  private readonly snapshotsDir: string;
  private readonly generationFile: string;
  /** Fan-out directories known to exist (or being created), by two-character prefix. */
  private readonly fanouts = new Map<string, Promise<void>>();
  /** Writes of an object in progress in this process, by sha256: a second writer waits instead of writing too. */
  private readonly inflight = new Map<string, Promise<void>>();
  /** Fan-out directories with entries renamed in or removed since the last syncDirectories(). */
  private readonly unsyncedFanouts = new Set<string>();
  /** The file system's block size (statfs), read on first use: what compressing must save to pay. */
  private blockBytes: number | undefined;
  /** The bucket the objects live in (bucket-tier.ts), or null: this directory is the store. */
  private tier: BucketTier | null = null;
  private cacheBound: { maxBytes: number; keep: (head: Buffer) => boolean } | null = null;
  /** Bytes downloaded into this directory since the last trim; whether this process trimmed yet. */
  private downloadedBytes = 0;
  private trimmedOnce = false;
  /** Downloads from the bucket in progress, by sha256. */
  private readonly fetching = new Map<string, Promise<void>>();

  constructor(
    readonly dir: string,
    private readonly options: ObjectStoreOptions = {},
  ) {
    const root = path.resolve(dir);
    this.objectsDir = path.join(root, "objects");
    this.tmpDir = path.join(root, "tmp");
    this.snapshotsDir = path.join(root, "snapshots");
    this.generationFile = path.join(root, "collection-generation");
  }

  /** Creates objects/, tmp/ and snapshots/ (idempotent). */
  init(): void {
    for (const dir of [this.objectsDir, this.tmpDir, this.snapshotsDir]) {
      try {
        fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
      } catch (error) {
        throw describeFsError(error, dir);
      }
    }
  }

  /**
   * Puts the store in front of a bucket: new objects are staged for upload
   * (flushRemote), and objects missing here are downloaded by the readers that
   * can wait (ensureLocal; the async ones do it themselves).
   */
  attachBucket(tier: BucketTier): void {
    tier.init();
    this.tier = tier;
  }

  /**
   * Trims this directory to the cache's bound when it holds objects of a
   * bucket (cache-trim.ts; it lists objects/): called when an operation ends,
   * it does so once this process has downloaded a hundredth of the bound since
   * its last trim (or anything, before its first). `force` trims anyway.
   */
  trimCache(options: { force?: boolean } = {}): TrimResult {
    const none = { objects: 0, bytes: 0 };
    const tier = this.tier;
    if (!tier || !this.cacheBound) return none;
    const due = this.downloadedBytes > 0 && (this.trimmedOnce ? this.downloadedBytes >= this.cacheBound.maxBytes / 100 : true);
    if (!options.force && !due) return none;
    this.downloadedBytes = 0;
    this.trimmedOnce = true;
    const removed = trimCache(this, this.cacheBound.maxBytes, new Set(tier.stagedObjects()), this.cacheBound.keep);
    this.syncDirectories();
    return removed;
  }

  /** The cache's bound (bytes of objects/) and what is never trimmed; set with the bucket. */
  setCacheBound(bound: { maxBytes: number; keep: (head: Buffer) => boolean }): void {
    this.cacheBound = bound;
  }

  /** Stops using the bucket (its objects were all brought here: `store migrate --to local`). */
  detachBucket(): void {
    this.tier = null;
    this.cacheBound = null;
  }

  /** The bucket behind this store, or null when this directory is the store. */
  get bucket(): BucketTier | null {
    return this.tier;
  }

  /**
   * Makes everything stored so far durable beyond this host: uploads the new
   * objects and changed snapshot records to the bucket. A no-op without one.
   * Awaited before a checkpoint's rows are written.
   */
  flushRemote(): Promise<void> {
    const tier = this.tier;
    if (!tier) return Promise.resolve();
    return tier.flush((sha256) => this.locate(sha256));
  }

  /**
   * Brings objects into this directory from the bucket when they are not here
   * (each verified against its name on the way), for the synchronous readers
   * (readBuffer). IntegrityError names the bucket key of one that is missing
   * or corrupt there. A no-op without a bucket.
   */
  async ensureLocal(sha256s: Iterable<string>): Promise<void> {
    if (!this.tier) return;
    const missing = [...new Set(sha256s)].filter((sha) => !this.has(sha));
    if (missing.length === 0) return;
    for (let i = 0; i < missing.length; i += FETCH_CONCURRENCY) await Promise.all(missing.slice(i, i + FETCH_CONCURRENCY).map((sha) => this.fetch(sha)));
  }

  /**
   * Brings a graph of objects here from the bucket (a checkpoint's root record
   * and tree objects: `linksOf` reads an object's links from its content),
   * descending only into objects not here, and placing them children first: an
   * object here has everything it links here too, so the next call stops at
   * the first one it finds. Objects are verified as they arrive; nothing is
   * placed unless the whole graph arrived. A no-op without a bucket.
   */
  async ensureLocalGraph(roots: readonly string[], linksOf: (content: Buffer, sha256: string) => readonly string[]): Promise<void> {
    if (!this.tier) return;
    const arrived: { sha256: string; form: DownloadedForm }[] = [];
    try {
      const seen = new Set<string>();
      let level = roots.filter((sha) => !seen.has(sha) && (seen.add(sha), !this.has(sha)));
      while (level.length > 0) {
        const next: string[] = [];
        const got = await mapConcurrent(level, FETCH_CONCURRENCY, (sha) => this.downloadVerified(sha));
        for (const [i, { form, content }] of got.entries()) {
          const sha256 = level[i] as string;
          arrived.push({ sha256, form });
          for (const link of linksOf(content, sha256)) if (!seen.has(link) && (seen.add(link), !this.has(link))) next.push(link);
        }
        level = next;
      }
      for (const { sha256, form } of arrived.reverse()) await this.place(sha256, form);
      this.syncDirectories();

    } finally {
      for (const { form } of arrived) await removeQuietly(form.tmp);
    }
  }

  /** Downloads one small object (a tree) and checks it against its name; its content for reading links. */
  private async downloadVerified(sha256: string): Promise<{ form: DownloadedForm; content: Buffer }> {
    const tier = this.tier as BucketTier;
    assertSha256Hex(sha256);
    const form = await tier.download(sha256, this.tmpDir);
    if (!form) throw missingObjectError(sha256, `${tier.location}/${objectKeyOf(sha256, false)}`);
    try {
      const stored = await fsp.readFile(form.tmp);
      let content: Buffer;
      try {
        content = form.compressed ? decompressSync(stored) : stored;
      } catch (error) {
        if (error instanceof CompressedFormatError) throw corruptObjectError(sha256, `${tier.location}/${form.key}`);
        throw error;
      }
      const actual = sha256Hex(content);
      if (actual !== sha256) throw corruptObjectError(sha256, `${tier.location}/${form.key}`, actual);
      return { form, content };
    } catch (error) {
      await removeQuietly(form.tmp);
      throw error;
    }
  }

  /** Moves a downloaded, verified form into objects/ (not staged: the bucket has it); dropped when the object is here already. */
  private async place(sha256: string, form: DownloadedForm): Promise<void> {
    const { size } = await fsp.stat(form.tmp);
    this.downloadedBytes += size;
    // A long read (verify --all, an export) trims as it goes rather than filling the disk first.
    if (this.cacheBound && this.downloadedBytes >= this.cacheBound.maxBytes / 10) this.trimCache();
    await fsp.chmod(form.tmp, OBJECT_FILE_MODE);
    const prefix = sha256.slice(0, 2);
    await this.ensureFanout(prefix);
    if (this.has(sha256)) return;
    await this.renameIntoPlace(form.tmp, this.formPath(sha256, form.compressed), prefix);
  }

  /** Which of these objects the store does not hold (here, or in the bucket when there is one). */
  async absentObjects(sha256s: readonly string[]): Promise<Set<string>> {
    const notHere = [...new Set(sha256s)].filter((sha) => !this.has(sha));
    const tier = this.tier;
    if (!tier || notHere.length === 0) return new Set(notHere);
    const inBucket = await mapConcurrent(notHere, FETCH_CONCURRENCY * 2, (sha) => tier.has(sha));
    return new Set(notHere.filter((_, i) => !inBucket[i]));
  }

  private fetch(sha256: string): Promise<void> {
    let pending = this.fetching.get(sha256);
    if (!pending) {
      pending = this.download(sha256).finally(() => this.fetching.delete(sha256));
      this.fetching.set(sha256, pending);
    }
    return pending;
  }

  private async download(sha256: string): Promise<void> {
    const tier = this.tier as BucketTier;
    assertSha256Hex(sha256);
    if (this.has(sha256)) return;
    const got = await tier.download(sha256, this.tmpDir);
    if (!got) throw missingObjectError(sha256, `${tier.location}/${objectKeyOf(sha256, false)}`);
    try {
      const state = await this.verifyForm(sha256, { path: got.tmp, compressed: got.compressed });
      if (state !== "ok") throw corruptObjectError(sha256, `${tier.location}/${got.key}`);
      await this.place(sha256, got);
    } finally {
      await removeQuietly(got.tmp);
    }
  }

  /** Path of the raw form of an object; throws InvalidInputError unless `sha256` is 64 lowercase hex characters. */
  private rawPath(sha256: string): string {
    assertSha256Hex(sha256);
    return path.join(this.objectsDir, sha256.slice(0, 2), sha256);
  }

  private formPath(sha256: string, compressed: boolean): string {
    const raw = this.rawPath(sha256);
    return compressed ? raw + COMPRESSED_SUFFIX : raw;
  }

  /** Both places an object may be, the raw form first (the one earlier releases wrote, and preferred when both exist). */
  private forms(sha256: string): [StoredForm, StoredForm] {
    const raw = this.rawPath(sha256);
    return [
      { path: raw, compressed: false },
      { path: raw + COMPRESSED_SUFFIX, compressed: true },
    ];
  }

  /**
   * Where object `sha256` is stored and in which form, or null when it is not in
   * the store. For diagnostics and tests: read objects through the store, which
   * inflates and verifies them. A raw form is preferred when both exist.
   */
  locate(sha256: string): StoredForm | null {
    const raw = this.rawPath(sha256);
    if (fs.existsSync(raw)) return { path: raw, compressed: false };
    const compressed = raw + COMPRESSED_SUFFIX;
    if (fs.existsSync(compressed)) return { path: compressed, compressed: true };
    return null;
  }

  /**
   * Whether the object is stored, in either form. With the content's `size`, content
   * of RAW_ONLY_MAX_BYTES or less (never stored compressed) costs one look-up, not two:
   * the store's hot path knows the size of what it is about to write.
   */
  has(sha256: string, size?: number): boolean {
    if (size !== undefined && size <= RAW_ONLY_MAX_BYTES) return fs.existsSync(this.rawPath(sha256));
    return this.locate(sha256) !== null;
  }

  /**
   * Bytes of the object's content (what readBuffer returns; a compressed object's
   * header says), or null when it is not in the store or its header is damaged.
   */
  objectSize(sha256: string): number | null {
    const located = this.locate(sha256);
    if (!located) return null;
    if (!located.compressed) return fs.statSync(located.path, { throwIfNoEntry: false })?.size ?? null;
    let fd: number;
    try {
      fd = fs.openSync(located.path, fs.constants.O_RDONLY);
    } catch {
      return null;
    }
    try {
      return readHeaderSync(fd);
    } catch {
      return null;
    } finally {
      closeFdQuietlySync(fd);
    }
  }

  /** Bytes the object takes in objects/ (the size of its file, of both when it is there in both forms), or null when it is not in the store. */
  storedSize(sha256: string): number | null {
    let bytes: number | null = null;
    for (const compressed of [false, true]) {
      const stat = fs.statSync(this.formPath(sha256, compressed), { throwIfNoEntry: false });
      if (stat) bytes = (bytes ?? 0) + stat.size;
    }
    return bytes;
  }

  /** When the object's file was last modified (it was stored then: objects are never written again), or null when it is not in the store. */
  objectMtimeMs(sha256: string): number | null {
    const located = this.locate(sha256);
    return located ? (fs.statSync(located.path, { throwIfNoEntry: false })?.mtimeMs ?? null) : null;
  }

  /** The file-system block size of objects/: content that fits one block is never compressed. */
  private blockSize(): number {
    if (this.blockBytes === undefined) {
      let size = DEFAULT_BLOCK_SIZE;
      try {
        size = fs.statfsSync(this.objectsDir).bsize;
      } catch {
        // objects/ not created yet, or no statfs here: the common block size will do
      }
      this.blockBytes = Number.isInteger(size) && size >= 512 && size <= 1024 * 1024 ? size : DEFAULT_BLOCK_SIZE;
    }
    return this.blockBytes;
  }

  /** The bytes to store for `data`: compressed where that pays (object-codec.ts), else as they are. */
  private encode(data: Buffer, compressible = true): { bytes: Buffer; compressed: boolean } {
    const compressed = compressible ? compressIfItPays(data, this.blockSize()) : null;
    return compressed ? { bytes: compressed, compressed: true } : { bytes: data, compressed: false };
  }

  /** A copy in tmp/ for a large file being stored: compressed where it pays, unless it must stay as it is. */
  private spillFor(sourcePath: string): OpenSpill {
    return (compressible, sizeHint) => (compressible ? CompressingSpill.open(this.newTmpPath(), sourcePath, sizeHint) : RawSpill.open(this.newTmpPath(), sourcePath));
  }

  /**
   * Stores a workspace file, reading it once: small files (< 1 MiB) in one read,
   * hashed, and written to tmp only if the object is new; larger files streamed
   * through a fixed buffer into the hash and a tmp file at the same time.
   * A file that changes while read is read again (up to 3 retries), then
   * OperationFailedError ("changed while being read") names the path; so does a
   * symlink (opened with O_NOFOLLOW) and, when `expected` is given, a file whose
   * inode differs from it or that is no longer a regular file. fs errors come out
   * of describeFsError: reading names absPath; writing into the store names the
   * store path and absPath (ENOSPC: "no space left on device while writing
   * <store>/objects/ab/ab… (storing <absPath>)"), so a full data disk is not
   * mistaken for a full workspace.
   * No tmp file is left behind on failure. `stat` is the fstat of what was read
   * (`mode` is st_mode with the type bits). A sparse file is stored as its
   * representation (sparse-format.ts), named by its sha256, and `sparse` says so.
   */
  async putFile(absPath: string, expected?: ExpectedStat, batch?: WriteBatch): Promise<PutResult & { stat: FileStat; sparse?: SparseInfo }> {
    const hook = this.options.afterReadForTests;
    const read = await readFileStable(absPath, {
      expected,
      spillTo: this.spillFor(absPath),
      afterRead: hook ? (attempt) => hook(absPath, attempt) : undefined,
    });
    try {
      // A sparse file's representation stays as it is: it is read back at offsets (its map comes last).
      const source: NewContent = read.spilled !== undefined ? { tmp: read.spilled.path, compressed: read.spilled.compressed } : { data: read.data ?? Buffer.alloc(0), compressible: read.sparse === undefined };
      const written = batch ? await batch.stage(read.sha256, source) : await this.commit(read.sha256, source);
      return { sha256: read.sha256 as StoredSha256, size: read.objectBytes, written, stat: read.stat, ...(read.sparse ? { sparse: read.sparse } : {}) };
    } catch (error) {
      throw error instanceof SafetyNetError ? error : describeFsError(error, `${this.rawPath(read.sha256)} (storing ${absPath})`);
    }
  }

  /** Starts a batch of putFile calls whose durability is settled once, by WriteBatch.commit(). */
  createBatch(): WriteBatch {
    const writeTmp = (tmp: string, data: Buffer, compressible: boolean, keepOpen: boolean) => {
      const { bytes, compressed } = this.encode(data, compressible);
      if (keepOpen) return Promise.resolve({ compressed, fd: writeNewFileOpen(tmp, bytes, OBJECT_FILE_MODE) });
      return writeNewFile(tmp, bytes, OBJECT_FILE_MODE, { durable: false }).then(() => ({ compressed }));
    };
    return new WriteBatch(this, this.tmpDir, writeTmp, () => this.newTmpPath());
  }

  /** Moves a flushed tmp file (holding the compressed form or not) into place as object `sha256` (WriteBatch.commit); false when it already exists. */
  async placeDurableTmp(sha256: string, tmp: string, compressed: boolean, size?: number): Promise<boolean> {
    return this.commit(sha256, { tmp, compressed, size });
  }

  /**
   * Stores bytes (a manifest) synchronously: hash, write tmp, fdatasync, rename.
   * Also a durability barrier: it fsyncs every fan-out directory that received
   * objects since the last barrier (see syncDirectories), so once a manifest is
   * stored, the objects written before it by this store are durable too.
   */
  putBuffer(content: Buffer | string): PutResult {
    const data = typeof content === "string" ? Buffer.from(content, "utf8") : content;
    const sha256 = sha256Hex(data);
    let finalPath = this.rawPath(sha256);
    let written = false;
    if (!this.has(sha256, data.length)) {
      const tmp = this.newTmpPath();
      try {
        const { bytes, compressed } = this.encode(data);
        finalPath = this.formPath(sha256, compressed);
        writeNewFileSync(tmp, bytes, OBJECT_FILE_MODE);
        const prefix = sha256.slice(0, 2);
        this.ensureFanoutSync(prefix);
        if (this.has(sha256, data.length)) {
          removeQuietlySync(tmp);
        } else {
          this.tier?.stage(sha256);
          fs.renameSync(tmp, finalPath);
          this.unsyncedFanouts.add(prefix);
          written = true;
        }
      } catch (error) {
        removeQuietlySync(tmp);
        throw error instanceof SafetyNetError ? error : describeFsError(error, finalPath);
      }
    }
    this.syncDirectories();
    return { sha256: sha256 as StoredSha256, size: data.length, written };
  }

  /**
   * The store's collection generation: it moves on each time objects are about to be
   * deleted (beginCollection). Anything that remembered "this object is stored"
   * under an older generation must not trust it any more (the stat cache).
   */
  collectionGeneration(): number {
    try {
      const value = Number(fs.readFileSync(this.generationFile, "utf8").trim());
      return Number.isSafeInteger(value) && value >= 0 ? value : 0;
    } catch {
      return 0;
    }
  }

  /** Takes on another store's collection generation (a bucket's, when the objects move there). */
  adoptCollectionGeneration(generation: number): void {
    writeFileAtomic(this.generationFile, `${generation}\n`);
  }

  /** Moves the collection generation on, durably, before objects are deleted. */
  beginCollection(): void {
    writeFileAtomic(this.generationFile, `${this.collectionGeneration() + 1}\n`);
  }

  /**
   * Deletes objects a sweep found unreferenced, after moving the generation on
   * (with a bucket: the bucket's, after logging what goes, so that every host
   * drops them from its cache; then from the bucket, then from here). `records`
   * are the snapshot records the sweep removed (logged for the other hosts).
   * Returns the objects that existed.
   */
  async collect(sha256s: readonly string[], records: readonly string[] = []): Promise<string[]> {
    if (sha256s.length === 0) return [];
    if (!this.tier) {
      this.beginCollection();
      const deleted = sha256s.filter((sha) => this.deleteObject(sha));
      this.syncDirectories();
      return deleted;
    }
    const generation = await this.tier.beginCollection(sha256s, records);
    writeFileAtomic(this.generationFile, `${generation}\n`);
    await this.tier.deleteObjects(sha256s);
    for (const sha of sha256s) this.deleteObject(sha);
    this.syncDirectories();
    return [...sha256s];
  }

  /**
   * With a bucket: drops from this directory what sweeps on any host deleted
   * from the bucket since this host last looked, and takes on their generation
   * (which disowns the stat caches). Called under the component lock before a
   * mutation: a copy here must never vouch for an object the bucket lost, or a
   * checkpoint would name it without uploading it. A no-op without a bucket.
   */
  async syncCollections(): Promise<void> {
    if (!this.tier) return;
    const current = await this.tier.generation();
    const seen = this.collectionGeneration();
    if (current <= seen) return;
    const logs = await this.tier.collectedSince(seen, current);
    if (logs) {
      for (const log of logs) for (const sha of log.objects) if (isSha256Hex(sha)) this.deleteObject(sha);
    } else {
      // A log is gone: nothing here can be vouched for. Staged objects stay (they are this host's, not yet uploaded).
      const staged = new Set(this.tier.stagedObjects());
      for (const object of [...this.listObjects()]) if (!staged.has(object.sha256)) this.deleteObject(object.sha256);
    }
    this.syncDirectories();
    writeFileAtomic(this.generationFile, `${current}\n`);
  }

  /**
   * syncDirectories, several directories at a time, for a caller that can wait:
   * the objects of a checkpoint after a small change land in a hundred fan-out
   * directories or more, and one fsync after the other made up most of the cost
   * of storing its root record. A directory is taken off the list before its
   * fsync, so a rename into it meanwhile puts it back for the next barrier.
   */
  async syncDirectoriesConcurrently(): Promise<void> {
    const prefixes = [...this.unsyncedFanouts];
    for (const prefix of prefixes) this.unsyncedFanouts.delete(prefix);
    try {
      await flushDirectories(prefixes.map((prefix) => path.join(this.objectsDir, prefix)));
    } catch (error) {
      for (const prefix of prefixes) this.unsyncedFanouts.add(prefix);
      throw describeFsError(error, this.objectsDir);
    }
  }

  /**
   * fsyncs the fan-out directories that had objects renamed into (or deleted from)
   * them since the last call, making those directory entries crash-safe. Object
   * contents are always fdatasync'ed before their rename; this makes the renames
   * durable in one batch (at most 256 fsyncs) instead of one fsync per object.
   * putBuffer calls it; call it directly after a batch of putFile without a manifest.
   */
  syncDirectories(): void {
    for (const prefix of [...this.unsyncedFanouts]) {
      const dir = path.join(this.objectsDir, prefix);
      try {
        fsyncDirectorySync(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw describeFsError(error, dir);
      }
      this.unsyncedFanouts.delete(prefix);
    }
  }

  /**
   * Reads a whole object's content (inflated when it is stored compressed). With
   * `verify`, re-hashes it and throws IntegrityError (details {sha256, state:
   * "corrupt"}) on a mismatch. A compressed form that cannot be inflated to the
   * length its header says is corrupt, verify or not. A missing object is an
   * IntegrityError with state "missing".
   */
  readBuffer(sha256: string, opts: { verify?: boolean } = {}): Buffer {
    // Read, not looked up first: a tree read of thousands of folders pays one call per object.
    const forms = this.forms(sha256);
    let data: Buffer | undefined;
    let located = forms[0];
    let missing: unknown;
    for (const form of forms) {
      try {
        data = fs.readFileSync(form.path);
        located = form;
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") {
          missing ??= error;
          continue;
        }
        // A directory or other non-file where the object should be is not that object.
        if ((error as NodeJS.ErrnoException).code === "EISDIR") throw corruptObjectError(sha256, form.path);
        throw describeFsError(error, form.path);
      }
    }
    if (data === undefined) throw missingObjectError(sha256, forms[0].path, missing);


    if (located.compressed) {
      try {
        data = decompressSync(data);
      } catch (error) {
        if (error instanceof CompressedFormatError) throw corruptObjectError(sha256, located.path);
        throw error;
      }
    }
    if (opts.verify) {
      const actual = sha256Hex(data);
      if (actual !== sha256) throw corruptObjectError(sha256, located.path, actual);
    }
    return data;
  }

  /**
   * Re-hashes the object's content by streaming it through a fixed buffer (a
   * compressed one as it inflates). With a bucket, an object not here is
   * downloaded (and checked on the way), and a copy here found damaged is
   * replaced by the bucket's: the state is then the bucket's copy's.
   */
  async verifyObject(sha256: string): Promise<ObjectState> {
    const located = this.locate(sha256);
    const state = located ? await this.verifyForm(sha256, located) : "missing";
    if (state === "ok" || !this.tier) return state;
    if (located) this.deleteObject(sha256);
    try {
      await this.fetch(sha256);
      return "ok";
    } catch (error) {
      if (error instanceof SafetyNetError && error.code === "INTEGRITY") return (error.details as { state: ObjectState }).state;
      throw error;
    }
  }

  /** Re-hashes one stored form of an object (a file in objects/, or one just downloaded). */
  private async verifyForm(sha256: string, located: StoredForm): Promise<ObjectState> {
    if (!located.compressed) {
      try {
        const { sha256: actual } = await hashPath(located.path);
        return actual === sha256 ? "ok" : "corrupt";
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return "missing";
        // A directory or other non-file where the object should be is not that object.
        if ((error as NodeJS.ErrnoException).code === "EISDIR") return "corrupt";
        throw describeFsError(error, located.path);
      }
    }
    let content: ObjectContent;
    try {
      content = await this.openForm(sha256, located);
    } catch (error) {
      if (error instanceof SafetyNetError && error.code === "INTEGRITY") return (error.details as { state: ObjectState }).state;
      throw error;
    }
    try {
      const hash = createHash("sha256");
      for await (const chunk of content.chunks) hash.update(chunk);
      return hash.digest("hex") === sha256 ? "ok" : "corrupt";
    } catch (error) {
      if (error instanceof SafetyNetError && error.code === "INTEGRITY") return (error.details as { state: ObjectState }).state;
      throw error;
    } finally {
      await content.close();
    }
  }

  /**
   * Opens an object's content for streaming (ObjectContent): a raw object's
   * bytes, or a compressed one's as it inflates. Throws IntegrityError with state
   * "missing" when it is not in the store, "corrupt" when what is there cannot be
   * its stored form; iterating throws "corrupt" when the stored form turns out
   * damaged. Memory stays at one chunk whatever the object's size.
   */
  async openContent(sha256: string): Promise<ObjectContent> {
    const content = await this.againFromBucket(sha256, async () => {
      await this.ensureLocal([sha256]);
      const located = this.locate(sha256);
      if (!located) throw missingObjectError(sha256, this.rawPath(sha256));
      return this.openForm(sha256, located);
    });
    return this.tier ? this.droppingDamagedCopy(sha256, content) : content;
  }

  /**
   * Runs a read of an object in a bucket's cache once more when the copy here
   * failed it: missing (another process trimmed the cache between the download
   * and the read) or damaged (a cached copy is only a copy: it is dropped, and
   * the bucket's, checked as it arrives, is read instead). Damage in the bucket's
   * own copy is reported as it is, with the bucket's key as its path.
   */
  private async againFromBucket<T>(sha256: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (!this.tier || !(error instanceof SafetyNetError) || error.code !== "INTEGRITY") throw error;
      if (!this.droppedDamagedCopy(sha256, error) && (error.details as { state?: unknown }).state !== "missing") throw error;
      return read();
    }
  }

  /**
   * An object's whole content, checked against its name: readBuffer with
   * verify, after bringing the object here from the bucket (where a damaged
   * cached copy is replaced by the bucket's, see againFromBucket).
   */
  async readVerified(sha256: string): Promise<Buffer> {
    return this.againFromBucket(sha256, async () => {
      await this.ensureLocal([sha256]);
      return this.readBuffer(sha256, { verify: true });
    });
  }

  /**
   * With a bucket, drops the copy here of an object `error` found damaged in
   * this store's objects/ (not a bucket key); true when it did.
   */
  private droppedDamagedCopy(sha256: string, error: unknown): boolean {
    if (!this.tier || !(error instanceof SafetyNetError) || error.code !== "INTEGRITY") return false;
    const { state, path: where } = error.details as { state?: unknown; path?: unknown };
    if (state !== "corrupt" || typeof where !== "string" || !where.startsWith(this.objectsDir + path.sep)) return false;
    this.deleteObject(sha256);
    return true;
  }

  /**
   * A stream that finds the cached copy damaged part-way cannot start again (its
   * reader has had the first bytes): the damage is reported, and the copy is
   * dropped so that the next read fetches the bucket's.
   */
  private droppingDamagedCopy(sha256: string, content: ObjectContent): ObjectContent {
    const drop = (error: unknown) => this.droppedDamagedCopy(sha256, error);
    async function* chunks(): AsyncGenerator<Buffer> {
      try {
        yield* content.chunks;
      } catch (error) {
        drop(error);
        throw error;
      }
    }
    return { ...content, chunks: chunks() };
  }

  private async openForm(sha256: string, located: StoredForm): Promise<ObjectContent> {
    const objectPath = located.path;
    let fd: number;
    try {
      fd = await openFd(objectPath, fs.constants.O_RDONLY);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw missingObjectError(sha256, objectPath, error);
      throw describeFsError(error, objectPath);
    }
    try {
      const stat = await fstatFd(fd);
      if (!stat.isFile()) throw corruptObjectError(sha256, objectPath);
      let size = stat.size;
      if (located.compressed) {
        try {
          size = readHeaderSync(fd);
        } catch (error) {
          if (error instanceof CompressedFormatError) throw corruptObjectError(sha256, objectPath);
          throw describeFsError(error, objectPath);
        }
      }
      const small = size < SMALL_FILE_LIMIT && stat.size <= SMALL_FILE_LIMIT;
      const source = !located.compressed ? rawObject(fd, stat.size) : small ? inflateSmallObject(fd, stat.size) : inflateObject(fd, stat.size, size);
      async function* chunks(): AsyncGenerator<Buffer> {
        try {
          yield* source;
        } catch (error) {
          if (error instanceof CompressedFormatError) throw corruptObjectError(sha256, objectPath);
          if (error instanceof ObjectReadError) throw describeFsError(error.original, objectPath);
          throw error;
        }
      }
      let open = true;
      return {
        size,
        chunks: chunks(),
        close: async () => {
          if (!open) return;
          open = false;
          await source.return(undefined);
          await closeFd(fd);
        },
      };
    } catch (error) {
      await closeFdQuietly(fd);
      throw error;
    }
  }

  /**
   * Runs `use` with the path of a file holding the object's content, for readers
   * that need a real file (SQLite, pg_restore): a raw object's own file (read-only:
   * never write to it), or a compressed one inflated into a private temp file in
   * tmp/ (0600), checked against its name on the way (IntegrityError otherwise)
   * and removed when `use` settles. A raw object is not re-hashed here: callers
   * verify the objects they restore before they start. `beforeInflating` is called
   * with the bytes about to be written to tmp/ (a free-space check may refuse them).
   */
  async withObjectFile<T>(sha256: string, use: (file: string) => Promise<T>, options: { beforeInflating?: (bytes: number, dir: string) => void } = {}): Promise<T> {
    await this.ensureLocal([sha256]);
    const located = this.locate(sha256);
    if (!located) throw missingObjectError(sha256, this.rawPath(sha256));
    if (!located.compressed && !this.tier) return use(located.path);
    if (!located.compressed) {
      // A cache's file may be trimmed while the reader still needs its name: the reader gets a link of its own.
      const link = this.tmpFilePath("object");
      try {
        fs.linkSync(located.path, link);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") throw missingObjectError(sha256, located.path, error);
        throw describeFsError(error, link);
      }
      try {
        return await use(link);
      } finally {
        await removeQuietly(link);
      }
    }
    options.beforeInflating?.(this.objectSize(sha256) ?? 0, this.tmpDir);
    const tmp = this.tmpFilePath("inflated");

    await this.inflateTo(sha256, tmp);
    try {
      return await use(tmp);
    } finally {
      await removeQuietly(tmp);
    }
  }

  /** Writes the content of compressed object `sha256` to a new private file `dest`, hashing it; nothing is left there on failure. */
  private async inflateTo(sha256: string, dest: string): Promise<void> {
    const content = await this.openContent(sha256);
    const onDest = <T>(op: Promise<T>): Promise<T> => op.catch((error: unknown) => Promise.reject(describeFsError(error, dest)));
    let created = false;
    try {
      const fd = await onDest(openNewFd(dest, 0o600));
      created = true;
      try {
        const hash = createHash("sha256");
        for await (const chunk of content.chunks) {
          hash.update(chunk);
          await onDest(writeFdAll(fd, chunk));
        }
        const actual = hash.digest("hex");
        if (actual !== sha256) throw corruptObjectError(sha256, this.locate(sha256)?.path ?? this.rawPath(sha256), actual);
      } catch (error) {
        await closeFdQuietly(fd);
        throw error;
      }
      await onDest(closeFd(fd));
    } catch (error) {

      if (created) await removeQuietly(dest);
      throw error;
    } finally {
      await content.close();
    }

  }

  /**
   * Copies an object's content to `destPath` (a temp path chosen by the caller,
   * which must not exist yet) with permission bits `mode & 0o7777`, fsyncs it, and
   * checks that the bytes copied hash to `sha256` (streaming). Throws IntegrityError
   * when the object is corrupt or missing, leaving nothing at `destPath`.
   */
  async materialize(sha256: string, destPath: string, mode: number, options: MaterializeOptions = {}): Promise<void> {
    if (this.tier) return this.againFromBucket(sha256, () => this.materializeHere(sha256, destPath, mode, options));
    return this.materializeHere(sha256, destPath, mode, options);
  }

  private async materializeHere(sha256: string, destPath: string, mode: number, options: MaterializeOptions): Promise<void> {
    await this.ensureLocal([sha256]);
    // A sparse representation is read at offsets, which a compressed stream has not: inflated first (rare: only
    // when the same bytes were stored before as an ordinary file's content).
    if (options.sparse && this.locate(sha256)?.compressed) {
      await this.withObjectFile(sha256, (file) => materializeObject({ path: file, compressed: false }, sha256, destPath, mode, options));
      return;
    }
    // The hot path of a restore: the raw form is opened, else the compressed one, without looking first.
    await materializeObject(this.forms(sha256), sha256, destPath, mode, options);
  }

  /** Removes an object (in whichever forms it is stored); true if it existed. */
  deleteObject(sha256: string): boolean {
    let existed = false;
    for (const compressed of [false, true]) {
      const objectPath = this.formPath(sha256, compressed);
      try {
        fs.unlinkSync(objectPath);
        existed = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw describeFsError(error, objectPath);
      }
    }
    if (existed) this.unsyncedFanouts.add(sha256.slice(0, 2));
    return existed;
  }

  /**
   * Every object in objects/ (sorted by sha256), with the bytes it takes on disk
   * (both files when it is there in both forms). Files not named like objects are skipped.
   */
  *listObjects(): Iterable<{ sha256: string; size: number }> {
    for (const prefix of this.readDirOrEmpty(this.objectsDir)) {
      if (!FANOUT_NAME.test(prefix)) continue;
      const fanoutDir = path.join(this.objectsDir, prefix);
      // Sorted, so both forms of one object ("<sha>", "<sha>.z") come one after the other.
      let pending = null as { sha256: string; size: number } | null;
      for (const name of this.readDirOrEmpty(fanoutDir)) {

        const sha256 = name.endsWith(COMPRESSED_SUFFIX) ? name.slice(0, -COMPRESSED_SUFFIX.length) : name;
        if (!isSha256Hex(sha256) || !sha256.startsWith(prefix)) continue;
        let stat: fs.Stats;
        try {
          stat = fs.lstatSync(path.join(fanoutDir, name));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "ENOENT") continue; // deleted while listing
          throw describeFsError(error, path.join(fanoutDir, name));
        }
        if (!stat.isFile()) continue;
        if (pending?.sha256 === sha256) {
          pending.size += stat.size;
          continue;
        }
        if (pending) yield pending;
        pending = { sha256, size: stat.size };
      }
      if (pending) yield pending;
    }
  }

  /** Objects, and the bytes they take on disk (compressed ones at their compressed size). */
  stats(): { objects: number; bytes: number } {
    let objects = 0;
    let bytes = 0;
    for (const object of this.listObjects()) {
      objects++;
      bytes += object.size;
    }
    return { objects, bytes };
  }

  /**
   * Removes entries of tmp/ last modified at least `olderThanMs` ago (leftovers of
   * writes interrupted by a crash); returns how many were removed. 0 removes all of
   * them: only do that when no write can be running; otherwise use an age well above
   * the longest write.
   */
  cleanTmp(olderThanMs: number): number {
    const now = Date.now();
    let removed = 0;
    for (const name of this.readDirOrEmpty(this.tmpDir)) {
      const entry = path.join(this.tmpDir, name);
      try {
        const stat = fs.lstatSync(entry);
        // (mtimeMs has sub-millisecond precision, Date.now() does not: 0 must still mean "everything".)
        if (olderThanMs > 0 && now - stat.mtimeMs < olderThanMs) continue;
        fs.rmSync(entry, { recursive: true, force: true });
        removed++;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
        throw describeFsError(error, entry);
      }
    }
    return removed;
  }

  private newTmpPath(): string {
    return path.join(this.tmpDir, randomUUID());
  }

  /** A fresh path in tmp/ for content another writer produces (a database snapshot) before adoptTmpFile stores it. */
  tmpFilePath(label: string): string {
    return path.join(this.tmpDir, `${label}-${randomUUID()}`);
  }

  /**
   * Stores a file written into tmp/ (by tmpFilePath) as its object: hashes it
   * (streamed: a dump of any size), compresses it where that pays (streamed too)
   * unless `compress` is false (content already compressed, such as a pg_dump
   * custom-format archive), makes it read-only and durable, and moves it into
   * place, or drops it when the object exists. The tmp file never outlives the call.
   */
  async adoptTmpFile(tmp: string, options: { compress?: boolean } = {}): Promise<PutResult> {
    let compressedTmp: string | undefined;
    try {
      const { sha256, size } = await hashPath(tmp);
      if (this.has(sha256)) {
        await removeQuietly(tmp);
        return { sha256: sha256 as StoredSha256, size, written: false };
      }
      if (options.compress !== false && size > this.blockSize() && samplePays(await readSample(tmp))) {
        compressedTmp = this.newTmpPath();
        await compressFile(tmp, compressedTmp, size);
        // The whole file is at hand: keep the compressed form only if it paid after all.
        if (pays(size, fs.statSync(compressedTmp).size, this.blockSize())) {
          await removeQuietly(tmp);
          const written = await this.commit(sha256, { tmp: compressedTmp, compressed: true });
          compressedTmp = undefined;
          return { sha256: sha256 as StoredSha256, size, written };
        }
        await removeQuietly(compressedTmp);
        compressedTmp = undefined;
      }
      const handle = await fsp.open(tmp, "r");
      try {
        await handle.chmod(OBJECT_FILE_MODE);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      const written = await this.commit(sha256, { tmp, compressed: false });
      return { sha256: sha256 as StoredSha256, size, written };
    } catch (error) {
      await removeQuietly(tmp);
      if (compressedTmp !== undefined) await removeQuietly(compressedTmp);
      throw error instanceof SafetyNetError ? error : describeFsError(error, tmp);
    }
  }

  /**
   * Moves new content into place as object `sha256` unless it already exists.
   * `source` is either a tmp file already written (large files) or the bytes to
   * write (small files: no tmp file at all when the object exists). Concurrent
   * commits of the same sha256 in this process are serialized: the later ones
   * find the object and report written: false. The tmp file never outlives the call.
   */
  private async commit(sha256: string, source: NewContent): Promise<boolean> {
    for (let pending = this.inflight.get(sha256); pending; pending = this.inflight.get(sha256)) await pending;
    // Bytes not written yet are not written at all when the object is there. A tmp file already written
    // skips this look-up: writeObject looks again right before its rename (each look-up is two calls, one per form).
    if ("data" in source && this.has(sha256, source.data.length)) return false;
    const work = this.writeObject(sha256, source);

    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.inflight.set(sha256, settled);
    try {
      return await work;
    } finally {
      if (this.inflight.get(sha256) === settled) this.inflight.delete(sha256);
    }
  }

  private async writeObject(sha256: string, source: NewContent): Promise<boolean> {
    const tmp = "tmp" in source ? source.tmp : this.newTmpPath();
    const prefix = sha256.slice(0, 2);
    try {
      let compressed: boolean;
      let size: number | undefined;
      if ("data" in source) {
        // Encoded only now: content the store already holds is never compressed for nothing.
        const encoded = this.encode(source.data, source.compressible);
        await writeNewFile(tmp, encoded.bytes, OBJECT_FILE_MODE);
        compressed = encoded.compressed;
        size = source.data.length;
      } else ({ compressed, size } = source);
      const finalPath = this.formPath(sha256, compressed);

      await this.ensureFanout(prefix);
      // Another process may have stored it meanwhile (in either form): keep theirs, never overwrite.
      if (this.has(sha256, size)) {
        await removeQuietly(tmp);
        return false;
      }
      this.tier?.stage(sha256);
      await this.renameIntoPlace(tmp, finalPath, prefix);
      return true;
    } catch (error) {
      await removeQuietly(tmp);
      throw error;
    }
  }

  /** Renames a finished tmp file into objects/<prefix>/ (created if it was removed behind this process's back). */
  private async renameIntoPlace(tmp: string, finalPath: string, prefix: string): Promise<void> {
    // rename is a metadata-only call: cheaper in place than as a thread-pool round trip.
    try {
      fs.renameSync(tmp, finalPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || !fs.existsSync(tmp)) throw error;
      // The fan-out directory (or objects/ itself, a cache cleared by hand) was removed behind our back: recreate it once.
      this.fanouts.delete(prefix);
      fs.mkdirSync(this.objectsDir, { recursive: true, mode: PRIVATE_DIR_MODE });
      await this.ensureFanout(prefix);
      fs.renameSync(tmp, finalPath);
    }
    this.unsyncedFanouts.add(prefix);
  }

  /** Creates objects/<prefix>/ once; when it is new, fsyncs objects/ so the directory itself survives a crash. */
  private ensureFanout(prefix: string): Promise<void> {
    let ready = this.fanouts.get(prefix);
    if (!ready) {
      ready = this.createFanout(prefix);
      this.fanouts.set(prefix, ready);
      ready.catch(() => this.fanouts.delete(prefix));
    }
    return ready;
  }

  private async createFanout(prefix: string): Promise<void> {
    if (!this.makeFanoutDir(prefix)) return;
    await fsyncDirectory(this.objectsDir);
  }

  private ensureFanoutSync(prefix: string): void {
    if (this.makeFanoutDir(prefix)) fsyncDirectorySync(this.objectsDir);
  }

  /** mkdir objects/<prefix>/; false when it was there. objects/ itself is made again when it is gone (a bucket's cache cleared by hand while this process runs). */
  private makeFanoutDir(prefix: string): boolean {
    const dir = path.join(this.objectsDir, prefix);
    try {
      fs.mkdirSync(dir, { mode: PRIVATE_DIR_MODE });
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST") return false;
      if (code !== "ENOENT") throw error;
    }
    fs.mkdirSync(this.objectsDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    try {
      fs.mkdirSync(dir, { mode: PRIVATE_DIR_MODE });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw error;
    }
  }

  private readDirOrEmpty(dir: string): string[] {
    try {
      return fs.readdirSync(dir).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw describeFsError(error, dir);
    }
  }
}

/** The first SAMPLE_BYTES of a file (all of it when it is shorter). */
async function readSample(file: string): Promise<Buffer> {
  const fd = await openFd(file, fs.constants.O_RDONLY);
  try {
    const buffer = Buffer.allocUnsafe(SAMPLE_BYTES);
    let got = 0;
    while (got < SAMPLE_BYTES) {
      const n = await readFdAt(fd, buffer, got, SAMPLE_BYTES - got, got);
      if (n === 0) break;
      got += n;
    }
    return buffer.subarray(0, got);
  } finally {
    await closeFdQuietly(fd);
  }
}

/** Writes the compressed form of `source` (`size` bytes) to the new file `dest`, streamed, and flushes it. */
async function compressFile(source: string, dest: string, size: number): Promise<void> {
  const spill = await CompressingSpill.open(dest, source, size, { forced: true });
  const fd = await openFd(source, fs.constants.O_RDONLY);
  try {
    const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
    for (let position = 0; ; ) {
      const n = await readFdAt(fd, buffer, 0, CHUNK_SIZE, position);
      if (n === 0) break;
      position += n;
      await spill.write(buffer.subarray(0, n));
    }
    await spill.finish();
  } catch (error) {
    await spill.abandon();
    throw error;
  } finally {
    await closeFdQuietly(fd);
  }
}
