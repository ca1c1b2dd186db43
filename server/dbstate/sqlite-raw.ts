/**
 * A SQLite target whose file SQLite will not read as a database: overwritten with
 * other bytes, truncated, damaged (or empty, which SQLite takes for a new database
 * and would give back as a different file). That is the state a rollback exists
 * for, so it must never stop one:
 *
 * - the rollback's safety snapshot keeps the file's raw bytes, with the -wal and
 *   -journal files beside it (nothing else captures those: the file scan leaves
 *   them to the database), so undoing the rollback puts back exactly that;
 * - restoring a database over such a file replaces the file whole (a temp sibling
 *   renamed over it) instead of going through SQLite, which refuses to write into
 *   it; its -wal, -shm and -journal are removed first, since SQLite would replay a
 *   stale journal into the restored database;
 * - restoring raw bytes writes them back the same way, never through SQLite.
 */
import { lstatSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { describeFsError, SafetyNetError } from "../errors";
import type { ObjectStore } from "../store/object-store";
import { fsyncDirectorySync } from "../store/atomic-write";
import { hashPath } from "../store/hash-file";
import type { DatabaseSnapshot, RawSideFile, TakenSnapshot } from "./snapshot-types";
import { assertSpaceFor } from "./space";
import { REPLACEMENT_SUFFIX, type SqliteTarget } from "./targets";

/** The journal files a raw snapshot keeps (the -shm is an index SQLite rebuilds). */
const SIDE_SUFFIXES = ["-wal", "-journal"] as const;

/**
 * SQLite's answer, on a read-only connection, for a file it will not read as it
 * lies: not a database (NOTADB), a damaged one (CORRUPT and its extended codes),
 * or one beside the hot -journal of a crashed transaction (READONLY_ROLLBACK:
 * only a write, rolling that journal into the file, would make it readable, and
 * that write would change the very bytes a safety snapshot is to keep).
 */
export function isUnreadableDatabase(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^SQLITE_(NOTADB|CORRUPT|READONLY_ROLLBACK$)/.test(code);
}

/** Why SQLite would not read it, in words for the snapshot's record, the diff and the plan. */
export function unreadableReason(error: unknown): string {
  const code = (error as { code?: string }).code ?? "";
  if (code === "SQLITE_NOTADB") return "not a SQLite database";
  if (code === "SQLITE_READONLY_ROLLBACK") return "the hot -journal of a crashed transaction lies beside it, not yet rolled back";
  return `a damaged SQLite database: ${(error as Error).message}`;
}

/** An empty file: SQLite takes it for a new database, whose snapshot would not give back these 0 bytes. */
export function isEmptyFile(file: string): boolean {
  return statSync(file, { throwIfNoEntry: false })?.size === 0;
}

function regularFileSize(file: string): number | null {
  const st = lstatSync(file, { throwIfNoEntry: false });
  return st?.isFile() ? st.size : null;
}

/** Stores the file's bytes, and those of its -wal and -journal, as the target's snapshot. */
export async function snapshotRawFile(store: ObjectStore, file: string, target: SqliteTarget, reason: string): Promise<TakenSnapshot> {
  const sides = SIDE_SUFFIXES.flatMap((suffix) => {
    const size = regularFileSize(file + suffix);
    return size === null ? [] : [{ suffix, size }];
  });
  const total = (regularFileSize(file) ?? 0) + sides.reduce((sum, s) => sum + s.size, 0);
  assertSpaceFor(store.dir, total, `the snapshot of database target ${target.name}`, { target: target.name });
  // putFile reads each file until two reads agree: never a mix of two versions.
  const main = await store.putFile(file);
  let newBytes = main.written ? main.size : 0;
  const sideFiles: RawSideFile[] = [];
  for (const side of sides) {
    let stored;
    try {
      stored = await store.putFile(file + side.suffix);
    } catch (error) {
      // Gone since it was listed (SQLite removes its journals when a transaction or connection ends): it is not part of the state.
      if (error instanceof SafetyNetError && regularFileSize(file + side.suffix) === null) continue;
      throw error;
    }
    sideFiles.push({ suffix: side.suffix, sha256: stored.sha256, size: stored.size });
    if (stored.written) newBytes += stored.size;
  }
  return {
    snapshot: {
      target: target.name,
      engine: "sqlite",
      format: "raw",
      state: "present",
      sha256: main.sha256,
      size: main.size,
      tables: [],
      serverVersion: null,
      unreadable: reason,
      ...(sideFiles.length > 0 ? { sideFiles } : {}),
    },
    newBytes,
  };
}

/** Whether the files hold exactly the raw snapshot's bytes: the file, and each journal file there or not as recorded. */
export async function holdsRawBytes(file: string, snapshot: DatabaseSnapshot): Promise<boolean> {
  const matches = async (at: string, sha256: string | undefined) => {
    if (regularFileSize(at) === null) return sha256 === undefined;
    return sha256 !== undefined && (await hashPath(at)).sha256 === sha256;
  };
  if (!(await matches(file, snapshot.sha256 ?? undefined))) return false;
  for (const suffix of SIDE_SUFFIXES) {
    if (!(await matches(file + suffix, snapshot.sideFiles?.find((f) => f.suffix === suffix)?.sha256))) return false;
  }
  return true;
}

/** A temp sibling a crash left behind (the next restore of the target starts with this). */
export function removeReplacementLeftover(file: string): void {
  rmSync(file + REPLACEMENT_SUFFIX, { force: true });
}

/** Copies object `sha256` (verified as it is copied) to the temp sibling and renames it over `dest`. */
async function placeObject(store: ObjectStore, sha256: string, file: string, dest: string, mode: number): Promise<void> {
  const tmp = file + REPLACEMENT_SUFFIX;
  rmSync(tmp, { force: true });
  await store.materialize(sha256, tmp, mode);
  try {
    renameSync(tmp, dest);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw describeFsError(error, dest);
  }
}

/** The permission bits the replacement keeps: the file's own, or owner-only for a file that is not there. */
function modeOf(file: string): number {
  return (statSync(file, { throwIfNoEntry: false })?.mode ?? 0o600) & 0o7777;
}

/**
 * Replaces a file SQLite will not read with the snapshot's database (a verified
 * object): its journals go first, then the copy is renamed over it, in one step.
 */
export async function replaceUnreadableFile(store: ObjectStore, file: string, snapshot: DatabaseSnapshot, target: SqliteTarget): Promise<void> {
  assertSpaceFor(path.dirname(file), snapshot.size, `restoring database target ${target.name}`, { target: target.name });
  const mode = modeOf(file);
  const tmp = file + REPLACEMENT_SUFFIX;
  rmSync(tmp, { force: true });
  await store.materialize(snapshot.sha256 as string, tmp, mode);
  try {
    for (const suffix of ["-wal", "-shm", "-journal"]) rmSync(file + suffix, { force: true });
    renameSync(tmp, file);
    fsyncDirectorySync(path.dirname(file));
  } catch (error) {
    rmSync(tmp, { force: true });
    throw describeFsError(error, file);
  }
}

/**
 * Writes a raw snapshot back: the file first (from then on SQLite reads it as what
 * it was, not as the database it replaces), then its journals as recorded; the
 * -shm goes, SQLite rebuilds it.
 */
export async function restoreRawFile(store: ObjectStore, file: string, snapshot: DatabaseSnapshot, target: SqliteTarget): Promise<void> {
  const dir = path.dirname(file);
  const total = snapshot.size + (snapshot.sideFiles ?? []).reduce((sum, f) => sum + f.size, 0);
  assertSpaceFor(dir, total, `restoring database target ${target.name}`, { target: target.name });
  const mode = modeOf(file);
  await placeObject(store, snapshot.sha256 as string, file, file, mode);
  try {
    rmSync(file + "-shm", { force: true });
  } catch (error) {
    throw describeFsError(error, file + "-shm");
  }
  for (const suffix of SIDE_SUFFIXES) {
    const side = snapshot.sideFiles?.find((f) => f.suffix === suffix);
    if (side) await placeObject(store, side.sha256, file, file + suffix, mode);
    else {
      try {
        rmSync(file + suffix, { force: true });
      } catch (error) {
        throw describeFsError(error, file + suffix);
      }
    }
  }
  fsyncDirectorySync(dir);
}
