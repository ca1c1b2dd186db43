/**
 * Durable file primitives: create a new file (never replacing one), flush it to
 * disk, fsync directories, and remove leftovers without masking the real error.
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import { closeFdQuietlySync, fdatasyncFd, openFd, writeFdAllSync } from "./raw-fd";
import { fsPath } from "../byte-paths";

/** Stored objects are read-only, and their owner's only: nothing should ever write into one, and nobody else read it. */
export const OBJECT_FILE_MODE = 0o400;

/** O_CREAT | O_EXCL: fails with EEXIST rather than replace or follow anything already at the path. */
const CREATE_NEW = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0);

/** Opens a file that must not exist yet, for writing (FileHandle, for cold paths). */
export function openNewFile(path: string, mode: number): Promise<fsp.FileHandle> {
  return fsp.open(fsPath(path), CREATE_NEW, mode);
}

/** Writes `length` bytes of `buffer` at the current position, looping over short writes. */
export async function writeAll(handle: fsp.FileHandle, buffer: Buffer, length = buffer.length): Promise<void> {
  let offset = 0;
  while (offset < length) {
    const { bytesWritten } = await handle.write(buffer, offset, length - offset, null);
    offset += bytesWritten;
  }
}

/** Opens a file that must not exist yet, for writing (raw descriptor, for the hot path). */
export function openNewFd(path: string, mode: number): Promise<number> {
  return openFd(path, CREATE_NEW, mode);
}

/** Synchronous twin of openNewFd, for small files in the page cache. */
export function openNewFdSync(path: string, mode: number): number {
  return fs.openSync(fsPath(path), CREATE_NEW, mode);
}

/**
 * Creates `path` (which must not exist) with `data`, flushes the data to disk
 * (fdatasync) and closes it. On failure the partial file is removed.
 * Only the fdatasync goes to the thread pool (it is the call that waits on the
 * disk); creating and writing a small file in the page cache is done in place,
 * which is cheaper than a thread-pool round trip per call. Meant for small data
 * (the store streams anything of 1 MiB or more instead).
 */
export async function writeNewFile(path: string, data: Buffer, mode: number, options: { durable?: boolean } = {}): Promise<void> {
  const fd = createWithData(path, data, mode);
  // durable: false leaves the flush to the caller (a WriteBatch flushes many files at once).
  if (options.durable !== false) await fdatasyncFd(fd).catch((error: unknown) => abandon(fd, path, error));
  closeOrRemove(fd, path);
}

/**
 * Creates `path` (which must not exist) with `data` and leaves it open and not
 * flushed: the caller flushes and closes the descriptor (a WriteBatch, which
 * saves reopening each file to flush it). On failure nothing is left.
 */
export function writeNewFileOpen(path: string, data: Buffer, mode: number): number {
  return createWithData(path, data, mode);
}

/** Synchronous twin of writeNewFile (always durable). */
export function writeNewFileSync(path: string, data: Buffer, mode: number): void {
  const fd = createWithData(path, data, mode);
  try {
    fs.fdatasyncSync(fd);
  } catch (error) {
    abandon(fd, path, error);
  }
  closeOrRemove(fd, path);
}

/** Creates `path` (which must not exist) holding `data`; returns the open descriptor. On failure nothing is left. */
function createWithData(path: string, data: Buffer, mode: number): number {
  const fd = openNewFdSync(path, mode);
  try {
    writeFdAllSync(fd, data);
  } catch (error) {
    abandon(fd, path, error);
  }
  return fd;
}

/** Closes and removes a half-made file, then rethrows what went wrong. */
function abandon(fd: number, path: string, error: unknown): never {
  closeFdQuietlySync(fd);
  removeQuietlySync(path);
  throw error;
}

function closeOrRemove(fd: number, path: string): void {
  try {
    fs.closeSync(fd);
  } catch (error) {
    removeQuietlySync(path);
    throw error;
  }
}

/** Errors that mean "this platform cannot fsync a directory", not "the data is at risk". */
function isDirSyncUnsupported(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "EISDIR" || code === "EINVAL" || code === "EPERM" || code === "EBADF" || code === "ENOTSUP";
}

/** fsyncs a directory so entries created or renamed in it survive a crash. */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(dir, fs.constants.O_RDONLY);
  } catch (error) {
    if (isDirSyncUnsupported(error)) return;
    throw error;
  }
  try {
    await handle.sync();
  } catch (error) {
    if (!isDirSyncUnsupported(error)) throw error;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Synchronous twin of fsyncDirectory. */
export function fsyncDirectorySync(dir: string): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY);
  } catch (error) {
    if (isDirSyncUnsupported(error)) return;
    throw error;
  }
  try {
    fs.fsyncSync(fd);
  } catch (error) {
    if (!isDirSyncUnsupported(error)) throw error;
  } finally {
    closeFdQuietlySync(fd);
  }
}

/** Removes a file if it is there; never throws (used on failure paths, where the first error matters). */
export async function removeQuietly(path: string): Promise<void> {
  await fsp.unlink(fsPath(path)).catch(() => undefined);
}

export function removeQuietlySync(path: string): void {
  try {
    fs.unlinkSync(fsPath(path));
  } catch {
    // already gone, or not ours to report: the caller is reporting the original failure
  }
}
