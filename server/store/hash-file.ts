/**
 * Reads a workspace file exactly once while hashing it, and proves the bytes read
 * are one consistent version of the file: the open descriptor's fstat (size,
 * mtime, ctime, inode) must be the same before and after the read, otherwise the
 * read is retried, and after MAX_CHANGE_RETRIES retries it fails naming the path.
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
 */
import { createHash, type Hash } from "node:crypto";
import fs from "node:fs";
import { describeFsError, FileVanishedError, InvalidInputError, OperationFailedError, SafetyNetError } from "../errors";
import { OBJECT_FILE_MODE, openNewFd, removeQuietly } from "./atomic-write";
import { fsPath } from "../byte-paths";
import { closeFd, closeFdQuietly, closeFdQuietlySync, fdatasyncFd, fstatFd, openFd, readFd, readFdUpToSync, writeFdAll } from "./raw-fd";

/** Files below this size are read with a single read into one buffer. */
export const SMALL_FILE_LIMIT = 1024 * 1024;
/** Size of the one buffer large files are streamed through. */
export const CHUNK_SIZE = 1024 * 1024;
/** A file seen changing while read is read again this many times before giving up. */
export const MAX_CHANGE_RETRIES = 3;
/** Pause before each retry: a file being saved usually settles within milliseconds. */
const RETRY_DELAYS_MS = [5, 25, 100];

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
  sha256: string;
  size: number;
  stat: FileStat;
}

export interface StableReadOptions {
  expected?: ExpectedStat;
  /**
   * Returns a fresh path (which must not exist) to copy content of at least
   * SMALL_FILE_LIMIT bytes into while it is hashed; called at most once per attempt.
   * The copy is fdatasync'ed and created with OBJECT_FILE_MODE. Without it, large files are only hashed.
   */
  spillTo?: () => string;
  /** Test seam: runs after the content was read and before the second fstat (e.g. to modify the file). */
  afterRead?: (attempt: number) => void | Promise<void>;
}

export interface StableRead extends HashedFile {
  /** The content, when the file was small enough to be read in one go. */
  data?: Buffer;
  /** The path the content was copied to (large files with `spillTo` only); the caller owns it. */
  spilled?: string;
}

type Attempt = ({ status: "read" } & StableRead) | { status: "changed"; retryable: boolean; reason: string };

/**
 * Hashes a file (streaming) with change detection. Same guarantees as
 * ObjectStore.putFile, without storing anything. Throws OperationFailedError
 * ("changed while being read") when no consistent read could be made.
 */
export async function hashFile(absPath: string, expected?: ExpectedStat): Promise<HashedFile> {
  const { sha256, size, stat } = await readFileStable(absPath, { expected });
  return { sha256, size, stat };
}

/** Reads and hashes a file in one pass, retrying while it changes under the read. */
export async function readFileStable(absPath: string, options: StableReadOptions = {}): Promise<StableRead> {
  let lastReason = "";
  for (let attempt = 0; attempt <= MAX_CHANGE_RETRIES; attempt++) {
    if (attempt > 0) await sleep(RETRY_DELAYS_MS[attempt - 1] ?? 100);
    const result = await readFileAttempt(absPath, options, attempt);
    if (result.status === "read") {
      const { status: _status, ...read } = result;
      return read;
    }
    lastReason = result.reason;
    if (!result.retryable) {
      throw new OperationFailedError(`file changed while being read: ${absPath} (${result.reason})`, { path: absPath, reason: result.reason });
    }
  }
  throw new OperationFailedError(
    `file changed while being read: ${absPath} (${lastReason}; still changing after ${MAX_CHANGE_RETRIES} retries)`,
    { path: absPath, reason: lastReason, attempts: MAX_CHANGE_RETRIES + 1 },
  );
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
  let spilled: string | undefined;
  let keepSpill = false;
  try {
    const before = fs.fstatSync(fd);
    if (!before.isFile()) {
      if (options.expected) return { status: "changed", retryable: false, reason: "no longer a regular file" };
      throw new InvalidInputError(`not a regular file: ${absPath}`, { path: absPath });
    }
    if (options.expected && before.ino !== options.expected.ino) {
      return { status: "changed", retryable: false, reason: "replaced by another file since it was scanned" };
    }

    const hash = createHash("sha256");
    let data: Buffer | undefined;
    let bytesRead: number;
    if (before.size < SMALL_FILE_LIMIT) {
      const buffer = Buffer.allocUnsafe(before.size);
      bytesRead = readFdUpToSync(fd, buffer, before.size);
      data = bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
      hash.update(data);
    } else if (options.spillTo) {
      spilled = options.spillTo();
      bytesRead = await streamInto(fd, before.size + 1, hash, spilled, absPath);
    } else {
      bytesRead = await streamInto(fd, before.size + 1, hash, undefined, absPath);
    }

    if (options.afterRead) await options.afterRead(attempt);
    const after = fs.fstatSync(fd);
    const change = describeChange(before, after, bytesRead);
    if (change) return { status: "changed", retryable: true, reason: change };

    keepSpill = true;
    const stat: FileStat = { size: after.size, mtimeMs: after.mtimeMs, ctimeMs: after.ctimeMs, ino: after.ino, mode: after.mode };
    return { status: "read", sha256: hash.digest("hex"), size: bytesRead, stat, data, spilled };
  } catch (error) {
    throw error instanceof SafetyNetError ? error : describeFsError(error, absPath);
  } finally {
    closeFdQuietlySync(fd);
    if (spilled !== undefined && !keepSpill) await removeQuietly(spilled);
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
  if (code === "ELOOP" || code === "EMLINK" || code === "EFTYPE") {
    return new OperationFailedError(`refusing to follow a symbolic link: ${absPath}`, { path: absPath, errno: code }, { cause: error });
  }
  return describeFsError(error, absPath);
}

/**
 * Streams at most `limit` bytes from `fd` through one CHUNK_SIZE buffer into
 * `hash`, and into a new file at `copyTo` when given (fdatasync'ed before returning).
 * Returns the number of bytes read. The caller removes `copyTo` on failure.
 * A failure to write the copy names `copyTo` (and the file being copied): a
 * full disk there is not the disk of `sourcePath`.
 */
async function streamInto(fd: number, limit: number, hash: Hash, copyTo: string | undefined, sourcePath: string): Promise<number> {
  const toCopy = <T>(op: Promise<T>): Promise<T> => op.catch((error: unknown) => Promise.reject(describeFsError(error, `${copyTo} (storing ${sourcePath})`)));
  const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
  const out = copyTo === undefined ? undefined : await toCopy(openNewFd(copyTo, OBJECT_FILE_MODE));
  let total = 0;
  try {
    while (total < limit) {
      const bytesRead = await readFd(fd, buffer, 0, Math.min(CHUNK_SIZE, limit - total));
      if (bytesRead === 0) break;
      total += bytesRead;
      // update() copies what it needs, so the buffer can be reused right away.
      hash.update(bytesRead === CHUNK_SIZE ? buffer : buffer.subarray(0, bytesRead));
      if (out !== undefined) await toCopy(writeFdAll(out, buffer, bytesRead));
    }
    if (out !== undefined) await toCopy(fdatasyncFd(out));
  } catch (error) {
    if (out !== undefined) await closeFdQuietly(out);
    throw error;
  }
  if (out !== undefined) await toCopy(closeFd(out));
  return total;
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
