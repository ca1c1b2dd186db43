/**
 * Copies a stored object out to a new file, hashing the bytes as they are copied:
 * the copy is only kept (and fsync'ed) if they hash to the object's name.
 *
 * Small objects (most of a source tree) are copied with synchronous calls on raw
 * descriptors: the object is in the page cache more often than not, each call takes
 * microseconds, and a thread-pool round trip per call (open, stat, read, open,
 * write, chmod, close, close) cost more than the copy itself: a restore of 10,000
 * files spent most of its time there. Large objects stream through one buffer
 * asynchronously, where the calls may really wait on the disk.
 *
 * A compressed object (object-codec.ts) whose content is small is inflated in
 * the same synchronous pass (brotli's one-shot call, on the compressed bytes
 * read into the shared buffer); a larger one inflates as it streams.
 */
import { createHash, type Hash } from "node:crypto";
import fs from "node:fs";
import { describeFsError, SafetyNetError } from "../errors";
import { openNewFd, openNewFdSync, removeQuietlySync } from "./atomic-write";
import { CHUNK_SIZE, SMALL_FILE_LIMIT } from "./hash-file";
import { CompressedFormatError, decompressSync } from "./object-codec";
import { inflateObject, ObjectReadError, readHeaderSync } from "./object-content";
import { corruptObjectError, missingObjectError } from "./object-errors";
import { closeFdQuietlySync, fsyncFd, ftruncateFd, readFd, readFdUpToSync, writeFdAll, writeFdAllAt, writeFdAllSync } from "./raw-fd";
import { readSparseLayout, SparseFormatError, type SparseLayout } from "./sparse-format";
import { utimesSeconds } from "../file-times";

export interface MaterializeOptions {
  /** The object is a sparse file's representation (sparse-format.ts): write its data at its offsets and leave holes elsewhere. */
  sparse?: boolean;
  /** false leaves the flush to the caller (a restore of thousands of files flushes once at the end). */
  durable?: boolean;
  /** The copy's modification time (ms since the epoch), set through its descriptor before it is closed. */
  mtimeMs?: number;
}

/** Where an object is stored, and in which form. */
export interface StoredForm {
  path: string;
  compressed: boolean;
}

/**
 * Writes the object stored at `object` (named `sha256`) to `destPath`, which must not
 * exist (it is created with O_EXCL | O_NOFOLLOW, so nothing there is replaced or
 * followed), with permission bits `mode & 0o7777` (set explicitly, umask aside),
 * then fsyncs it. Throws IntegrityError when the object is missing or its bytes do
 * not hash to `sha256`; on any failure nothing is left at `destPath`.
 * Small objects are verified before `destPath` is even created; large ones are
 * streamed through one fixed buffer and the copy is removed if the hash is wrong.
 * With `sparse`, the object is a sparse file's representation: its data is
 * written at its offsets, holes stay holes, and the copy gets the apparent size
 * (a raw object only: the store inflates a compressed one to a temp file first).
 * Given several forms, the first one there is read (one open each, no lookup first).
 */
export async function materializeObject(forms: StoredForm | readonly StoredForm[], sha256: string, destPath: string, mode: number, options: MaterializeOptions = {}): Promise<void> {
  const { fd: source, object } = openFirst(Array.isArray(forms) ? forms : [forms as StoredForm], sha256);
  const objectPath = object.path;
  const onObject = <T>(op: () => T): T => attributed(op, objectPath);
  const onDest = <T>(op: () => T): T => attributed(op, destPath);
  const permissions = mode & 0o7777;

  let dest: number | undefined;
  let created = false;
  let done = false;
  try {
    const { size } = onObject(() => fs.fstatSync(source));
    const hash = createHash("sha256");
    if (object.compressed) {
      if (options.sparse) throw new Error("a compressed sparse representation must be inflated before it is materialized");
      const content = inflatedOrCorrupt(() => readHeaderSync(source), sha256, objectPath);
      if (content < SMALL_FILE_LIMIT && size <= SMALL_FILE_LIMIT) {
        const buffer = smallObjectBuffer();
        const stored = buffer.subarray(0, onObject(() => readFdUpToSync(source, buffer, size)));
        const data = inflatedOrCorrupt(() => decompressSync(stored), sha256, objectPath);
        const actual = hash.update(data).digest("hex");
        if (actual !== sha256) throw corruptObjectError(sha256, objectPath, actual);
        dest = onDest(() => openNewFdSync(destPath, permissions));
        created = true;
        const fd = dest;
        onDest(() => writeFdAllSync(fd, data));
      } else {
        dest = await attributedAsync(openNewFd(destPath, permissions), destPath);
        created = true;
        await streamInflate(source, size, content, dest, hash, sha256, objectPath, destPath);
        const actual = hash.digest("hex");
        if (actual !== sha256) throw corruptObjectError(sha256, objectPath, actual);
      }
    } else if (options.sparse) {
      const layout = sparseLayoutOf(source, size, sha256, objectPath);
      dest = await attributedAsync(openNewFd(destPath, permissions), destPath);
      created = true;
      await writeSparse(source, dest, layout, hash, sha256, objectPath, destPath);
      const actual = hash.digest("hex");
      if (actual !== sha256) throw corruptObjectError(sha256, objectPath, actual);
    } else if (size < SMALL_FILE_LIMIT) {
      const buffer = smallObjectBuffer();
      const data = buffer.subarray(0, onObject(() => readFdUpToSync(source, buffer, size)));
      const actual = hash.update(data).digest("hex");
      if (actual !== sha256) throw corruptObjectError(sha256, objectPath, actual);
      dest = onDest(() => openNewFdSync(destPath, permissions));
      created = true;
      const fd = dest;
      onDest(() => writeFdAllSync(fd, data));
    } else {
      dest = await attributedAsync(openNewFd(destPath, permissions), destPath);
      created = true;
      await streamCopy(source, dest, hash, objectPath, destPath);
      const actual = hash.digest("hex");
      if (actual !== sha256) throw corruptObjectError(sha256, objectPath, actual);
    }
    const fd = dest;
    // The mode given to open() is filtered by the umask; set it exactly.
    onDest(() => fs.fchmodSync(fd, permissions));
    const { mtimeMs } = options;
    if (mtimeMs !== undefined) onDest(() => fs.futimesSync(fd, utimesSeconds(mtimeMs), utimesSeconds(mtimeMs)));
    if (options.durable !== false) await attributedAsync(fsyncFd(fd), destPath);
    dest = undefined;
    onDest(() => fs.closeSync(fd));
    done = true;
  } catch (error) {
    throw error instanceof SafetyNetError ? error : describeFsError(error, destPath);
  } finally {
    closeFdQuietlySync(source);
    if (dest !== undefined) closeFdQuietlySync(dest);
    // Only remove what this call created: a pre-existing destPath fails the O_EXCL open above.
    if (!done && created) removeQuietlySync(destPath);
  }
}

/** Opens the first of `forms` that exists; IntegrityError (missing) naming the first when none does. */
function openFirst(forms: readonly StoredForm[], sha256: string): { fd: number; object: StoredForm } {
  let missing: unknown;
  for (const object of forms) {
    try {
      return { fd: fs.openSync(object.path, fs.constants.O_RDONLY), object };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw describeFsError(error, object.path);
      missing ??= error;
    }
  }
  throw missingObjectError(sha256, forms[0]?.path ?? sha256, missing);
}

let sharedSmallBuffer: Buffer | undefined;


/**
 * One buffer for every small object: the small path runs from read to write without
 * yielding, so no two copies ever use it at once, and a restore of 10,000 files does
 * not allocate (and collect) 10,000 buffers.
 */
function smallObjectBuffer(): Buffer {
  sharedSmallBuffer ??= Buffer.allocUnsafe(SMALL_FILE_LIMIT);
  return sharedSmallBuffer;
}

/** Runs a decoding step: a stored form that cannot be decoded is a corrupt object, a failed read an fs error naming it. */
function inflatedOrCorrupt<T>(op: () => T, sha256: string, objectPath: string): T {
  try {
    return op();
  } catch (error) {
    if (error instanceof CompressedFormatError) throw corruptObjectError(sha256, objectPath);
    throw describeFsError(error, objectPath);
  }
}

/** Inflates the compressed object `source` into `dest` as it streams, hashing the content. */
async function streamInflate(source: number, storedBytes: number, size: number, dest: number, hash: Hash, sha256: string, objectPath: string, destPath: string): Promise<void> {
  try {
    for await (const chunk of inflateObject(source, storedBytes, size)) {
      hash.update(chunk);
      await attributedAsync(writeFdAll(dest, chunk), destPath);
    }
  } catch (error) {
    if (error instanceof CompressedFormatError) throw corruptObjectError(sha256, objectPath);
    if (error instanceof ObjectReadError) throw describeFsError(error.original, objectPath);
    throw error;
  }
}

/** Copies the rest of `source` to `dest` through one CHUNK_SIZE buffer, hashing what passes. */
async function streamCopy(source: number, dest: number, hash: Hash, objectPath: string, destPath: string): Promise<void> {
  const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
  for (;;) {
    const bytesRead = await attributedAsync(readFd(source, buffer, 0, CHUNK_SIZE), objectPath);
    if (bytesRead === 0) return;
    hash.update(bytesRead === CHUNK_SIZE ? buffer : buffer.subarray(0, bytesRead));
    await attributedAsync(writeFdAll(dest, buffer, bytesRead), destPath);
  }
}

/** The layout a sparse file's representation describes; a malformed one is a corrupt object. */
function sparseLayoutOf(source: number, objectBytes: number, sha256: string, objectPath: string): SparseLayout {
  try {
    return readSparseLayout(source, objectBytes);
  } catch (error) {
    // Not a sparse file's representation: not what the manifest says this object is.
    if (error instanceof SparseFormatError) throw corruptObjectError(sha256, objectPath);
    throw describeFsError(error, objectPath);
  }
}

/**
 * Writes each extent of a sparse representation at its offset in `dest` (a new,
 * empty file: everything between stays a hole), hashing the object's bytes as
 * they pass, then sets the apparent size. Memory and time follow the data.
 */
async function writeSparse(source: number, dest: number, layout: SparseLayout, hash: Hash, sha256: string, objectPath: string, destPath: string): Promise<void> {
  const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
  for (const extent of layout.extents) {
    for (let done = 0; done < extent.length; ) {
      const want = Math.min(CHUNK_SIZE, extent.length - done);
      let got = 0;
      while (got < want) {
        const n = await attributedAsync(readFd(source, buffer, got, want - got), objectPath);
        // The layout matched the object's size a moment ago: it changed or shrank since.
        if (n === 0) throw corruptObjectError(sha256, objectPath);
        got += n;
      }
      const piece = buffer.subarray(0, want);
      hash.update(piece);
      await attributedAsync(writeFdAllAt(dest, piece, want, extent.offset + done), destPath);
      done += want;
    }
  }
  hash.update(layout.tail);
  await attributedAsync(ftruncateFd(dest, layout.size), destPath);
}

/** Runs a file-system call, naming `filePath` in the error it throws. */
function attributed<T>(op: () => T, filePath: string): T {
  try {
    return op();
  } catch (error) {
    throw describeFsError(error, filePath);
  }
}

/** Awaits a file-system call, naming `filePath` in the error it rejects with. */
function attributedAsync<T>(op: Promise<T>, filePath: string): Promise<T> {
  return op.catch((error: unknown) => Promise.reject(describeFsError(error, filePath)));
}
