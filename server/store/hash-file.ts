/**
 * Reads a workspace file while hashing it, and proves the bytes read are one
 * version of the file that was on disk at one moment: the open descriptor's fstat
 * (size, mtime, ctime, inode) must be the same before and after the read, and a
 * file changed within RACY_WINDOW_MS before the read (where a write in the same
 * clock tick leaves fstat unchanged) must give the same bytes and fstat on two
 * reads in a row. A file that never settles within MAX_READS reads is
 * UnstableFileError: the caller records it as unstable.
 *
 * Small files (< SMALL_FILE_LIMIT) are read with one synchronous read and
 * returned in memory (page-cache reads take microseconds; a thread-pool round trip
 * per call cost more than the I/O on the benchmark). Larger ones are streamed
 * asynchronously in CHUNK_SIZE pieces through one fixed buffer and, when a
 * `spillTo` path is given, copied there as they are hashed (so the object store
 * writes its tmp file in the same pass). Nothing ever holds a large file in memory.
 *
 * Files are opened with O_NOFOLLOW (a symlink swapped in is refused, never
 * followed) and O_NONBLOCK (a FIFO swapped in cannot hang the read).
 *
 * A file with at least SPARSE_MIN_HOLE_BYTES unallocated (st_blocks) and as much
 * in holes is read as a sparse file (sparse-read.ts): only its data is read, and
 * the result is its representation (sha256, data or spill), not its logical
 * bytes. The same guarantees hold, with the allocated blocks compared too.
 */
import { createHash, type Hash } from "node:crypto";
import fs from "node:fs";
import { describeFsError, FileVanishedError, InvalidInputError, OperationFailedError, SafetyNetError, UnstableFileError } from "../errors";
import { removeQuietly } from "./atomic-write";
import { fsPath } from "../byte-paths";
import { closeFdQuietly, closeFdQuietlySync, fstatFd, openFd, readFd, readFdUpToSync } from "./raw-fd";
import { mayBeSparse, type SparseInfo } from "./sparse-format";
import { readSparseFile } from "./sparse-read";
import type { OpenSpill, Spill, SpilledCopy } from "./spill";

/** Files below this size are read with a single read into one buffer. */
export const SMALL_FILE_LIMIT = 1024 * 1024;
/** Size of the one buffer large files are streamed through. */
export const CHUNK_SIZE = 1024 * 1024;
/**
 * A file changed less than this long before its read began is "racily clean"
 * (git's term): a write inside the same tick of the file system's clock does not
 * move its mtime or ctime, so comparing fstat before and after the read cannot
 * see it. Such a file is read again until two reads agree. Older files cannot
 * hide a write that way: any write during the read would move the ctime past it.
 */
export const RACY_WINDOW_MS = 2000;
/** Reads of one file before it is declared unstable (no two consecutive reads agreed). */
export const MAX_READS = 10;
/** Files from this size on are written in more than one page copy, so a read can meet a write half-way. */
const CONFIRM_PAUSE_MIN_SIZE = 64 * 1024;
/** The confirming read of such a file waits this long, plus up to as much again at random. */
const CONFIRM_PAUSE_MS = 25;
/** Pause before reading again after a change was seen: a file being saved usually settles within milliseconds. */
const SETTLE_DELAYS_MS = [5, 10, 25, 50, 100, 150, 200, 250, 300];

const OPEN_SOURCE = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);

/** What fstat said about the file whose bytes were read. `mode` is st_mode as is (type bits included). */
export interface FileStat {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  mode: number;
}

/** The lstat the caller (the scanner) saw before asking for the file to be read. */
export interface ExpectedStat {
  size: number;
  mtimeMs: number;
  ino: number;
}

export interface HashedFile {
  /** sha256 of the content; of a sparse file, of its representation (sparse-format.ts). */
  sha256: string;
  /** Bytes read: the file's size (a sparse file's apparent size). */
  size: number;
  stat: FileStat;
  /** Set when the file was read as a sparse file: `sha256` names its representation, which holds `dataBytes` of data. */
  sparse?: SparseInfo;
  /** Bytes of what is stored for it: `size`, or a sparse file's representation. */
  objectBytes: number;
}

export interface StableReadOptions {
  expected?: ExpectedStat;
  /**
   * Opens a fresh copy (spill.ts) for content of at least SMALL_FILE_LIMIT bytes,
   * written while it is hashed; called at most once per attempt. The copy is
   * flushed before the read returns. Without it, large files are only hashed.
   */
  spillTo?: OpenSpill;
  /** Test seam: runs after the content was read and before the second fstat (e.g. to modify the file). */
  afterRead?: (attempt: number) => void | Promise<void>;
}

export interface StableRead extends HashedFile {
  /** The content, when the file was small enough to be read in one go. */
  data?: Buffer;
  /** The copy the content was written to (large files with `spillTo` only); the caller owns it. */
  spilled?: SpilledCopy;
}

/** `replaced`: the path names another inode than the scan saw (the next read takes that one). */
type Attempt = ({ status: "read" } & StableRead) | { status: "changed"; replaced: boolean; reason: string };

/**
 * Hashes a file (streaming) with change detection. Same guarantees as
 * ObjectStore.putFile, without storing anything. Throws UnstableFileError when
 * no consistent read could be made.
 */
export async function hashFile(absPath: string, expected?: ExpectedStat): Promise<HashedFile> {
  const { sha256, size, stat, sparse, objectBytes } = await readFileStable(absPath, { expected });
  return { sha256, size, stat, objectBytes, ...(sparse ? { sparse } : {}) };
}

/**
 * Reads and hashes a file in one pass, and returns only content that was on disk
 * at one moment: fstat before and after each read must agree (else it is read
 * again after a pause), and a file changed within RACY_WINDOW_MS of the read is
 * read until two consecutive reads agree on content and fstat. After MAX_READS
 * reads without that, UnstableFileError: the caller records the file as
 * unstable rather than fail a whole checkpoint for it.
 */
export async function readFileStable(absPath: string, options: StableReadOptions = {}): Promise<StableRead> {
  let candidate: StableRead | undefined;
  let lastReason = "";
  let expected = options.expected;
  let settle = 0;
  try {
    for (let attempt = 0; attempt < MAX_READS; attempt++) {
      // After a change, give the writer a moment. Before confirming a larger candidate, a short pause of
      // varying length: a writer stalled in the middle of a write, or rewriting in step with the reads,
      // would otherwise show the confirming read the same mix of two versions.
      if (attempt > 0 && !candidate) await sleep(SETTLE_DELAYS_MS[settle++] ?? 300);
      else if (candidate && candidate.size >= CONFIRM_PAUSE_MIN_SIZE) await sleep(CONFIRM_PAUSE_MS + Math.random() * CONFIRM_PAUSE_MS);
      const startedAtMs = Date.now();
      // A confirming read only hashes: the candidate already holds the copy.
      const result = await readFileAttempt(absPath, { ...options, expected, spillTo: candidate ? undefined : options.spillTo }, attempt);
      if (result.status === "changed") {
        lastReason = result.reason;
        if (result.replaced) expected = undefined; // the path names another file now: read that one
        candidate = await discard(candidate);
        continue;
      }
      const { status: _status, ...read } = result;
      if (candidate) {
        if (sameRead(candidate, read)) {
          await discard(read);
          return candidate;
        }
        lastReason = "two reads in a row gave different content";
        candidate = await discard(candidate);
        await discard(read);
        continue;
      }
      if (startedAtMs - Math.max(read.stat.mtimeMs, read.stat.ctimeMs) >= RACY_WINDOW_MS) return read;
      candidate = read;
    }
  } catch (error) {
    await discard(candidate);
    throw error;
  }
  await discard(candidate);
  throw new UnstableFileError(`file kept changing while being read: ${absPath} (${lastReason}; no two reads agreed in ${MAX_READS} reads)`, {
    path: absPath,
    reason: lastReason,
    reads: MAX_READS,
  });
}

/** The same content seen with the same fstat: nothing wrote between the two reads that the clock could show, and the bytes agree. */
function sameRead(a: StableRead, b: StableRead): boolean {
  return a.sha256 === b.sha256 && (a.sparse === undefined) === (b.sparse === undefined) && a.size === b.size && a.stat.mtimeMs === b.stat.mtimeMs && a.stat.ctimeMs === b.stat.ctimeMs && a.stat.ino === b.stat.ino;
}

/** Drops a read that will not be returned (its spilled copy, if any). Always returns undefined. */
async function discard(read: StableRead | undefined): Promise<undefined> {
  if (read?.spilled !== undefined) await removeQuietly(read.spilled.path);
  return undefined;
}

async function readFileAttempt(absPath: string, options: StableReadOptions, attempt: number): Promise<Attempt> {
  // Open, fstat and small reads are synchronous: from the page cache they take
  // microseconds, less than the thread-pool round trip an async call would cost.
  let fd: number;
  try {
    fd = fs.openSync(fsPath(absPath), OPEN_SOURCE);
  } catch (error) {
    throw openError(error, absPath, options.expected !== undefined);
  }
  let spilled: SpilledCopy | undefined;
  let keepSpill = false;
  try {
    const before = fs.fstatSync(fd);
    if (!before.isFile()) {
      if (options.expected) throw new UnstableFileError(`file changed while being read: ${absPath} (no longer a regular file)`, { path: absPath, reason: "no longer a regular file" });
      throw new InvalidInputError(`not a regular file: ${absPath}`, { path: absPath });
    }
    if (options.expected && before.ino !== options.expected.ino) {
      return { status: "changed", replaced: true, reason: "replaced by another file since it was scanned" };
    }

    if (mayBeSparse(before.size, before.blocks)) {
      // A sparse file's representation is read back at offsets: it is copied as it is.
      const spillTo = options.spillTo;
      const sparse = await readSparseFile(fd, before.size, { memoryLimit: SMALL_FILE_LIMIT, spillTo: spillTo && (() => spillTo(false, 0)) });
      if (sparse) {
        spilled = sparse.spilled;
        if (options.afterRead) await options.afterRead(attempt);
        const after = fs.fstatSync(fd);
        // A write into a hole allocates blocks: compared too, beside the times.
        const change = sparse.changed ?? describeChange(before, after, after.size) ?? (after.blocks !== before.blocks ? "allocated blocks changed" : undefined);
        if (change) return { status: "changed", replaced: false, reason: change };
        keepSpill = true;
        const stat: FileStat = { size: after.size, mtimeMs: after.mtimeMs, ctimeMs: after.ctimeMs, ino: after.ino, mode: after.mode };
        const { sha256, dataBytes, objectBytes, data } = sparse;
        return { status: "read", sha256, size: after.size, stat, data, spilled, sparse: { dataBytes }, objectBytes };
      }
    }

    const hash = createHash("sha256");
    let data: Buffer | undefined;
    let bytesRead: number;
    if (before.size < SMALL_FILE_LIMIT) {
      const buffer = Buffer.allocUnsafe(before.size);
      bytesRead = readFdUpToSync(fd, buffer, before.size);
      data = bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
      hash.update(data);
    } else {
      const copy = options.spillTo ? await options.spillTo(true, before.size) : undefined;
      const streamed = await streamInto(fd, before.size + 1, hash, copy);
      bytesRead = streamed.bytesRead;
      spilled = streamed.spilled;
    }

    if (options.afterRead) await options.afterRead(attempt);
    const after = fs.fstatSync(fd);
    const change = describeChange(before, after, bytesRead);
    if (change) return { status: "changed", replaced: false, reason: change };

    keepSpill = true;
    const stat: FileStat = { size: after.size, mtimeMs: after.mtimeMs, ctimeMs: after.ctimeMs, ino: after.ino, mode: after.mode };
    return { status: "read", sha256: hash.digest("hex"), size: bytesRead, stat, data, spilled, objectBytes: bytesRead };
  } catch (error) {
    throw error instanceof SafetyNetError ? error : describeFsError(error, absPath);
  } finally {
    closeFdQuietlySync(fd);
    if (spilled !== undefined && !keepSpill) await removeQuietly(spilled.path);
  }
}

function describeChange(before: fs.Stats, after: fs.Stats, bytesRead: number): string | undefined {
  if (after.ino !== before.ino) return "inode changed";
  if (after.size !== before.size) return `size changed from ${before.size} to ${after.size} bytes`;
  if (bytesRead !== after.size) return `read ${bytesRead} bytes of ${after.size}`;
  if (after.mtimeMs !== before.mtimeMs) return "modification time changed";
  if (after.ctimeMs !== before.ctimeMs) return "change time changed";
  return undefined;
}

/** `listed`: the caller's scan saw the file a moment ago, so its absence means it was deleted meanwhile. */
function openError(error: unknown, absPath: string, listed: boolean): SafetyNetError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (listed && (code === "ENOENT" || code === "ENOTDIR")) {
    return new FileVanishedError(`file vanished while being read: ${absPath} (it was deleted after the scan listed it)`, { path: absPath, errno: code }, { cause: error });
  }
  // O_NOFOLLOW on a symlink: ELOOP on Linux, EMLINK on FreeBSD, EFTYPE on some BSDs.
  if (listed && (code === "ELOOP" || code === "EMLINK" || code === "EFTYPE")) {
    // The scan saw a file there: it was replaced by a link meanwhile (never followed).
    return new UnstableFileError(`file changed while being read: ${absPath} (replaced by a symbolic link, which is never followed)`, { path: absPath, errno: code, reason: "replaced by a symbolic link" });
  }
  if (code === "ELOOP" || code === "EMLINK" || code === "EFTYPE") {
    return new OperationFailedError(`refusing to follow a symbolic link: ${absPath}`, { path: absPath, errno: code }, { cause: error });
  }
  return describeFsError(error, absPath);
}

/**
 * Streams at most `limit` bytes from `fd` through one CHUNK_SIZE buffer into
 * `hash`, and into `copy` when given (finished, so flushed, before returning; the
 * caller removes it on a later failure). Returns the number of bytes read.
 */
async function streamInto(fd: number, limit: number, hash: Hash, copy: Spill | undefined): Promise<{ bytesRead: number; spilled?: SpilledCopy }> {
  const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
  let total = 0;
  try {
    while (total < limit) {
      const bytesRead = await readFd(fd, buffer, 0, Math.min(CHUNK_SIZE, limit - total));
      if (bytesRead === 0) break;
      total += bytesRead;
      // update() copies what it needs; the copy is done with the buffer once write() settled.
      const piece = bytesRead === CHUNK_SIZE ? buffer : buffer.subarray(0, bytesRead);
      hash.update(piece);
      if (copy !== undefined) await copy.write(piece);
    }
    return { bytesRead: total, ...(copy !== undefined ? { spilled: await copy.finish() } : {}) };
  } catch (error) {
    await copy?.abandon();
    throw error;
  }
}

/** sha256 and size of a file by streaming it, without change detection (for files nobody else writes, e.g. objects). */
export async function hashPath(path: string): Promise<{ sha256: string; size: number }> {
  const fd = await openFd(path, fs.constants.O_RDONLY);
  try {
    const hash = createHash("sha256");
    // Small objects take one read into a buffer of their size (+1 byte to see the end).
    const bufferSize = Math.min(CHUNK_SIZE, (await fstatFd(fd)).size + 1);
    const buffer = Buffer.allocUnsafe(bufferSize);
    let size = 0;
    for (;;) {
      const bytesRead = await readFd(fd, buffer, 0, bufferSize);
      if (bytesRead === 0) break;
      size += bytesRead;
      hash.update(bytesRead === bufferSize ? buffer : buffer.subarray(0, bytesRead));
    }
    return { sha256: hash.digest("hex"), size };
  } finally {
    await closeFdQuietly(fd);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
