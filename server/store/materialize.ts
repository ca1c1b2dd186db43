/**
 * Copies a stored object out to a new file, hashing the bytes as they are copied:
 * the copy is only kept (and fsync'ed) if they hash to the object's name.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import { describeFsError, SafetyNetError } from "../errors";
import { openNewFile, removeQuietly, writeAll } from "./atomic-write";
import { CHUNK_SIZE, SMALL_FILE_LIMIT } from "./hash-file";
import { corruptObjectError, missingObjectError } from "./object-errors";

/**
 * Writes the object at `objectPath` (named `sha256`) to `destPath`, which must not
 * exist (it is created with O_EXCL | O_NOFOLLOW, so nothing there is replaced or
 * followed), with permission bits `mode & 0o7777` (set explicitly, umask aside),
 * then fsyncs it. Throws IntegrityError when the object is missing or its bytes do
 * not hash to `sha256`; on any failure nothing is left at `destPath`.
 * Small objects are verified before `destPath` is even created; large ones are
 * streamed through one fixed buffer and the copy is removed if the hash is wrong.
 */
export async function materializeObject(objectPath: string, sha256: string, destPath: string, mode: number, options: { durable?: boolean } = {}): Promise<void> {
  const fromObject = <T>(op: Promise<T>): Promise<T> => op.catch((error: unknown) => Promise.reject(describeFsError(error, objectPath)));
  const toDest = <T>(op: Promise<T>): Promise<T> => op.catch((error: unknown) => Promise.reject(describeFsError(error, destPath)));

  let source: fsp.FileHandle;
  try {
    source = await fsp.open(objectPath, fs.constants.O_RDONLY);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw missingObjectError(sha256, objectPath, error);
    throw describeFsError(error, objectPath);
  }

  let dest: fsp.FileHandle | undefined;
  let created = false;
  let done = false;
  try {
    const { size } = await fromObject(source.stat());
    const hash = createHash("sha256");
    if (size < SMALL_FILE_LIMIT) {
      const buffer = Buffer.allocUnsafe(size);
      const bytesRead = await fromObject(readUpTo(source, buffer, size));
      const data = buffer.subarray(0, bytesRead);
      const actual = hash.update(data).digest("hex");
      if (actual !== sha256) throw corruptObjectError(sha256, objectPath, actual);
      dest = await toDest(openNewFile(destPath, mode & 0o7777));
      created = true;
      await toDest(writeAll(dest, data));
    } else {
      dest = await toDest(openNewFile(destPath, mode & 0o7777));
      created = true;
      const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
      for (;;) {
        const { bytesRead } = await fromObject(source.read(buffer, 0, CHUNK_SIZE, null));
        if (bytesRead === 0) break;
        hash.update(bytesRead === CHUNK_SIZE ? buffer : buffer.subarray(0, bytesRead));
        await toDest(writeAll(dest, buffer, bytesRead));
      }
      const actual = hash.digest("hex");
      if (actual !== sha256) throw corruptObjectError(sha256, objectPath, actual);
    }
    // The mode given to open() is filtered by the umask; set it exactly.
    await toDest(dest.chmod(mode & 0o7777));
    // durable: false leaves the flush to the caller (a restore of thousands of files flushes once at the end).
    if (options.durable !== false) await toDest(dest.sync());
    const closing = dest;
    dest = undefined;
    await toDest(closing.close());
    done = true;
  } catch (error) {
    throw error instanceof SafetyNetError ? error : describeFsError(error, destPath);
  } finally {
    await source.close().catch(() => undefined);
    await dest?.close().catch(() => undefined);
    // Only remove what this call created: a pre-existing destPath fails the O_EXCL open above.
    if (!done && created) await removeQuietly(destPath);
  }
}

/** Reads until `length` bytes are in `buffer` or the object ends; returns how many were read. */
async function readUpTo(handle: fsp.FileHandle, buffer: Buffer, length: number): Promise<number> {
  let total = 0;
  while (total < length) {
    const { bytesRead } = await handle.read(buffer, total, length - total, null);
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  return total;
}
