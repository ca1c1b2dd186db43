/**
 * The data directory holds copies of workspace files, and a workspace file that
 * only its owner may read (a 0600 secret) must stay so in the store. So everything
 * Safety Net creates there is its owner's only, with the mode given when it is
 * created (never chmod-ed afterwards, so it is never readable by others even for
 * a moment):
 *
 *   directories                                                   0700
 *   database (+ WAL, SHM), journals, snapshot records, stat
 *   caches, locks, logs, the admin token, temp files in store/tmp
 *   (database dumps, restore lists, snapshot copies)              0600
 *   objects                                                       0400 (OBJECT_FILE_MODE)
 *
 * A data directory made more open by an older version is not changed behind its
 * owner's back: dataDirExposure() finds it and the CLI and the server warn.
 */
import { closeSync, constants, mkdirSync, openSync, statSync } from "node:fs";
import { describeFsError } from "./errors";

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** mkdir -p with mode 0700 for every directory it creates (the umask can only narrow it). */
export function makePrivateDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (error) {
    throw describeFsError(error, dir);
  }
}

/**
 * Creates `file` empty with mode 0600 unless it exists (never replacing or
 * following anything), for files another library creates with its own default
 * mode: SQLite makes a new database 0644, and gives its WAL and SHM the mode of
 * the database file.
 */
export function createPrivateFile(file: string): void {
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), PRIVATE_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return;
    throw describeFsError(error, file);
  }
  closeSync(fd);
}

/** An existing data directory that others may enter or list, with the one-line warning to show; null when private or absent. */
export function dataDirExposure(dataDir: string): { mode: number; warning: string } | null {
  let mode: number;
  try {
    mode = statSync(dataDir).mode & 0o777;
  } catch {
    return null;
  }
  if ((mode & 0o077) === 0) return null;
  const octal = mode.toString(8).padStart(4, "0");
  return {
    mode,
    warning: `safetynet: warning: the data directory ${dataDir} has mode ${octal}, so other local users can read checkpointed files; fix it with: chmod 700 ${dataDir}`,
  };
}
