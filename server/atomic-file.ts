/**
 * Replaces a small document (journal, snapshot record, stat cache) atomically:
 * a temp file in the same directory, fdatasync, rename over, fsync the directory.
 * A crash leaves either the old or the new document, never a torn one.
 */
import { mkdirSync, renameSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { describeFsError } from "./errors";
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "./private-files";
import { fsyncDirectorySync, removeQuietlySync, writeNewFileSync } from "./store/atomic-write";

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
