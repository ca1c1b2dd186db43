/**
 * The content-addressed object store: every blob is a file named by the sha256
 * of its content, written once and never modified (read-only and private, 0o400;
 * directories 0o700, see server/private-files.ts).
 *
 *   <dir>/objects/ab/abcdef...   the objects (two-character fan-out)
 *   <dir>/tmp/<random>           in-progress writes (same filesystem, so rename is atomic)
 *   <dir>/snapshots/             one small record per checkpoint (checkpoints/snapshot-record.ts)
 *
 * A write goes to tmp/, is fdatasync'ed, then renamed into place, unless the
 * object already exists, in which case the tmp file is dropped (dedup). A reader
 * therefore sees either no object or a complete one. Durability of the renames
 * themselves (the directory entries) is batched: see syncDirectories().
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { describeFsError, SafetyNetError } from "../errors";
import { fsyncDirectory, fsyncDirectorySync, OBJECT_FILE_MODE, removeQuietly, removeQuietlySync, writeNewFile, writeNewFileSync } from "./atomic-write";
import { hashPath, readFileStable, type ExpectedStat, type FileStat } from "./hash-file";
import { materializeObject, type MaterializeOptions } from "./materialize";
import { WriteBatch } from "./write-batch";
import type { SparseInfo } from "./sparse-format";
import { corruptObjectError, missingObjectError, type ObjectState } from "./object-errors";
import { assertSha256Hex, isSha256Hex, sha256Hex } from "./sha256";
import { writeFileAtomic } from "../atomic-file";
import { PRIVATE_DIR_MODE } from "../private-files";

export { sha256Hex } from "./sha256";
export type { ExpectedStat, FileStat } from "./hash-file";
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
  /** Bytes of the object (for a sparse file, of its representation). */
  size: number;
  /** false when the object already existed (dedup) */
  written: boolean;
}

export interface ObjectStoreOptions {
  /**
   * TEST ONLY: called by putFile after a file's content was read and before the
   * second fstat, with the attempt number (0 = first read). Lets a test modify the
   * file mid-read to exercise change detection. Never set in production code.
   */
  afterReadForTests?: (absPath: string, attempt: number) => void | Promise<void>;
}

const FANOUT_NAME = /^[0-9a-f]{2}$/;

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

  /** Absolute path of an object; throws InvalidInputError unless `sha256` is 64 lowercase hex characters. */
  objectPath(sha256: string): string {
    assertSha256Hex(sha256);
    return path.join(this.objectsDir, sha256.slice(0, 2), sha256);
  }

  has(sha256: string): boolean {
    return fs.existsSync(this.objectPath(sha256));
  }

  /** Bytes of a stored object, or null when it is not in the store. */
  objectSize(sha256: string): number | null {
    try {
      return fs.statSync(this.objectPath(sha256)).size;
    } catch {
      return null;
    }
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
      spillTo: () => this.newTmpPath(),
      afterRead: hook ? (attempt) => hook(absPath, attempt) : undefined,
    });
    try {
      const source = read.spilled !== undefined ? { tmp: read.spilled } : { data: read.data ?? Buffer.alloc(0) };
      const written = batch ? await batch.stage(read.sha256, source) : await this.commit(read.sha256, source);
      return { sha256: read.sha256 as StoredSha256, size: read.objectBytes, written, stat: read.stat, ...(read.sparse ? { sparse: read.sparse } : {}) };
    } catch (error) {
      throw error instanceof SafetyNetError ? error : describeFsError(error, `${this.objectPath(read.sha256)} (storing ${absPath})`);
    }
  }

  /** Starts a batch of putFile calls whose durability is settled once, by WriteBatch.commit(). */
  createBatch(): WriteBatch {
    return new WriteBatch(this, this.tmpDir, (tmp, data) => writeNewFile(tmp, data, OBJECT_FILE_MODE, { durable: false }), () => this.newTmpPath());
  }

  /** Moves a flushed tmp file into place as object `sha256` (WriteBatch.commit); false when it already exists. */
  async placeDurableTmp(sha256: string, tmp: string): Promise<boolean> {
    return this.commit(sha256, { tmp });
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
    const finalPath = this.objectPath(sha256);
    let written = false;
    if (!fs.existsSync(finalPath)) {
      const tmp = this.newTmpPath();
      try {
        writeNewFileSync(tmp, data, OBJECT_FILE_MODE);
        const prefix = sha256.slice(0, 2);
        this.ensureFanoutSync(prefix);
        if (fs.existsSync(finalPath)) {
          removeQuietlySync(tmp);
        } else {
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

  /** Moves the collection generation on, durably, before objects are deleted. */
  beginCollection(): void {
    writeFileAtomic(this.generationFile, `${this.collectionGeneration() + 1}\n`);
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
   * Reads a whole object. With `verify`, re-hashes it and throws IntegrityError
   * (details {sha256, state: "corrupt"}) on a mismatch. A missing object is an
   * IntegrityError with state "missing".
   */
  readBuffer(sha256: string, opts: { verify?: boolean } = {}): Buffer {
    const objectPath = this.objectPath(sha256);
    let data: Buffer;
    try {
      data = fs.readFileSync(objectPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw missingObjectError(sha256, objectPath, error);
      throw describeFsError(error, objectPath);
    }
    if (opts.verify) {
      const actual = sha256Hex(data);
      if (actual !== sha256) throw corruptObjectError(sha256, objectPath, actual);
    }
    return data;
  }

  /** Re-hashes the object by streaming it through a fixed buffer. */
  async verifyObject(sha256: string): Promise<ObjectState> {
    const objectPath = this.objectPath(sha256);
    try {
      const { sha256: actual } = await hashPath(objectPath);
      return actual === sha256 ? "ok" : "corrupt";
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return "missing";
      // A directory or other non-file where the object should be is not that object.
      if ((error as NodeJS.ErrnoException).code === "EISDIR") return "corrupt";
      throw describeFsError(error, objectPath);
    }
  }

  /**
   * Copies an object to `destPath` (a temp path chosen by the caller, which must
   * not exist yet) with permission bits `mode & 0o7777`, fsyncs it, and checks that
   * the bytes copied hash to `sha256` (streaming). Throws IntegrityError when the
   * object is corrupt or missing, leaving nothing at `destPath`.
   */
  async materialize(sha256: string, destPath: string, mode: number, options: MaterializeOptions = {}): Promise<void> {
    await materializeObject(this.objectPath(sha256), sha256, destPath, mode, options);
  }

  /** Removes an object; true if it existed. */
  deleteObject(sha256: string): boolean {
    const objectPath = this.objectPath(sha256);
    try {
      fs.unlinkSync(objectPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw describeFsError(error, objectPath);
    }
    this.unsyncedFanouts.add(sha256.slice(0, 2));
    return true;
  }

  /** Every object in objects/ (sorted by sha256), with its size on disk. Files not named like objects are skipped. */
  *listObjects(): Iterable<{ sha256: string; size: number }> {
    for (const prefix of this.readDirOrEmpty(this.objectsDir)) {
      if (!FANOUT_NAME.test(prefix)) continue;
      const fanoutDir = path.join(this.objectsDir, prefix);
      for (const name of this.readDirOrEmpty(fanoutDir)) {
        if (!isSha256Hex(name) || !name.startsWith(prefix)) continue;
        let stat: fs.Stats;
        try {
          stat = fs.lstatSync(path.join(fanoutDir, name));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === "ENOENT") continue; // deleted while listing
          throw describeFsError(error, path.join(fanoutDir, name));
        }
        if (stat.isFile()) yield { sha256: name, size: stat.size };
      }
    }
  }

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
   * (streamed: a dump of any size), makes it read-only and durable, and moves it
   * into place, or drops it when the object exists. The tmp file never outlives the call.
   */
  async adoptTmpFile(tmp: string): Promise<PutResult> {
    try {
      const { sha256, size } = await hashPath(tmp);
      const handle = await fsp.open(tmp, "r");
      try {
        await handle.chmod(OBJECT_FILE_MODE);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      const written = await this.commit(sha256, { tmp });
      return { sha256: sha256 as StoredSha256, size, written };
    } catch (error) {
      await removeQuietly(tmp);
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
  private async commit(sha256: string, source: { tmp: string } | { data: Buffer }): Promise<boolean> {
    for (let pending = this.inflight.get(sha256); pending; pending = this.inflight.get(sha256)) await pending;
    if (this.has(sha256)) {
      if ("tmp" in source) await removeQuietly(source.tmp);
      return false;
    }
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

  private async writeObject(sha256: string, source: { tmp: string } | { data: Buffer }): Promise<boolean> {
    const tmp = "tmp" in source ? source.tmp : this.newTmpPath();
    const prefix = sha256.slice(0, 2);
    const finalPath = this.objectPath(sha256);
    try {
      if ("data" in source) await writeNewFile(tmp, source.data, OBJECT_FILE_MODE);
      await this.ensureFanout(prefix);
      // Another process may have stored it meanwhile: keep theirs, never overwrite.
      if (this.has(sha256)) {
        await removeQuietly(tmp);
        return false;
      }
      // rename is a metadata-only call: cheaper in place than as a thread-pool round trip.
      try {
        fs.renameSync(tmp, finalPath);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        // The fan-out directory was removed behind our back (e.g. by a GC): recreate it once.
        this.fanouts.delete(prefix);
        await this.ensureFanout(prefix);
        fs.renameSync(tmp, finalPath);
      }
      this.unsyncedFanouts.add(prefix);
      return true;
    } catch (error) {
      await removeQuietly(tmp);
      throw error;
    }
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
    try {
      await fsp.mkdir(path.join(this.objectsDir, prefix), { mode: PRIVATE_DIR_MODE });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return;
      throw error;
    }
    await fsyncDirectory(this.objectsDir);
  }

  private ensureFanoutSync(prefix: string): void {
    try {
      fs.mkdirSync(path.join(this.objectsDir, prefix), { mode: PRIVATE_DIR_MODE });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return;
      throw error;
    }
    fsyncDirectorySync(this.objectsDir);
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
