/**
 * Replaces a small document (journal, snapshot record, collection generation) atomically:
 * a temp file in the same directory, fdatasync, rename over, fsync the directory.
 * A crash leaves either the old or the new document, never a torn one.
 */
import { EventEmitter } from "node:events";
import { mkdirSync, renameSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import { describeFsError, SafetyNetError } from "./errors";
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "./private-files";
import { fsyncDirectorySync, openNewFile, removeQuietlySync, writeAll, writeNewFileSync } from "./store/atomic-write";

export function writeFileAtomic(file: string, content: string | Buffer, mode = PRIVATE_FILE_MODE): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    writeNewFileSync(tmp, typeof content === "string" ? Buffer.from(content, "utf8") : content, mode);
    renameSync(tmp, file);
    fsyncDirectorySync(dir);
  } catch (error) {
    removeQuietlySync(tmp);
    throw describeFsError(error, file);
  }
}

export interface StreamAtomicOptions {
  /** Permission bits of the temp file, and so of `file` (default owner-only: what is written holds user data). */
  mode?: number;
  /** The temp file beside `file` (default `.<name>.<random>.tmp`); it must not exist. */
  tmp?: string;
}

/**
 * Writes a stream to `file` atomically: into a temp file beside it, flushed, then
 * renamed over. If the stream fails, nothing is left at `file` (an existing file
 * there is untouched) and the stream's own error is thrown. Returns the bytes
 * written and their sha256.
 */
export async function writeStreamAtomic(file: string, stream: AsyncIterable<Uint8Array>, options: StreamAtomicOptions = {}): Promise<{ bytes: number; sha256: string }> {
  // A Node stream that fails before the loop below starts reading (while the temp file
  // is being opened) would emit 'error' to nobody and crash the process; with a listener
  // the failure is kept, and the loop rethrows it.
  if (stream instanceof EventEmitter) stream.on("error", () => undefined);
  const dir = path.dirname(file);
  const tmp = options.tmp ?? path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  const hash = createHash("sha256");
  let bytes = 0;
  let handle: FileHandle | undefined;
  try {
    handle = await openNewFile(tmp, options.mode ?? PRIVATE_FILE_MODE);
    for await (const chunk of stream) {
      const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      hash.update(buffer);
      await writeAll(handle, buffer);
      bytes += buffer.length;
    }
    await handle.datasync();
    await handle.close();
    handle = undefined;
    renameSync(tmp, file);
    fsyncDirectorySync(dir);
    return { bytes, sha256: hash.digest("hex") };
  } catch (error) {
    await handle?.close().catch(() => undefined);
    removeQuietlySync(tmp);
    throw error instanceof SafetyNetError ? error : describeFsError(error, file);
  }
}
