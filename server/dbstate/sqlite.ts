/**
 * SQLite targets: a file inside the component root (an agent's memory store).
 *
 * Snapshot: `VACUUM INTO` on a read-only connection: one read transaction, so the
 * copy is consistent while other processes keep writing (in WAL mode they are not
 * even slowed down; committed frames still in the -wal file are included), and it
 * never restarts the way the page-by-page backup API does under a busy writer.
 *
 * Restore: SQLite's backup API from the (verified) snapshot object into the live
 * database, in one write transaction, so the database is replaced atomically,
 * through SQLite's own locking and journal/WAL: processes that have it open see
 * the old or the new database, never a mixture, and a crash half-way rolls back.
 * A process holding a write lock makes the restore refuse (ConflictError,
 * nothing changed) instead of waiting on it indefinitely.
 *
 * A file SQLite will not read as a database (sqlite-raw.ts) is no obstacle to a
 * rollback: its safety snapshot keeps the raw bytes, and the restore replaces it.
 */
import { existsSync, lstatSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { ConflictError, describeFsError, InvalidInputError, OperationFailedError, SafetyNetError } from "../errors";
import { quoteIdent } from "../db/sql-identifier";
import { createPrivateFile } from "../private-files";
import { assertNoSymlinkEscape } from "../scan/paths";
import type { ObjectStore } from "../store/object-store";
import type { DatabaseSnapshot, TableSummary, TakenSnapshot } from "./snapshot-types";
import { assertSpaceFor } from "./space";
import { isEmptyFile, isUnreadableDatabase, removeReplacementLeftover, replaceUnreadableFile, restoreRawFile, snapshotRawFile, unreadableReason } from "./sqlite-raw";
import type { SqliteTarget } from "./targets";

/** How long a restore keeps retrying while another process holds the database, before it refuses. */
export const SQLITE_BUSY_WAIT_MS = 5_000;
/** How long the check before a rollback waits out another process's write lock. */
const LOCK_CHECK_WAIT_MS = 1_000;
const RETRY_MS = 50;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The database file's absolute path, after checking it cannot lead out of the root (no symlinked ancestor; the file itself no symlink). */
export function sqliteFilePath(root: string, target: SqliteTarget): string {
  assertNoSymlinkEscape(root, target.path);
  const file = path.join(root, target.path);
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (st && !st.isFile()) {
    throw new InvalidInputError(`database target ${target.name}: ${file} is ${st.isSymbolicLink() ? "a symlink" : "not a regular file"}; a SQLite target must be a file inside the component root`, {
      target: target.name,
      path: file,
    });
  }
  return file;
}

function sqliteError(error: unknown, target: SqliteTarget, file: string, doing: string): SafetyNetError {
  if (error instanceof SafetyNetError) return error;
  const code = (error as { code?: string }).code ?? "";
  const message = (error as Error)?.message ?? String(error);
  const details = { target: target.name, path: file, sqliteCode: code };
  if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") {
    return new ConflictError(`database target ${target.name}: another process holds a lock on ${file} (${doing}); nothing was changed, try again when it is done`, details, { cause: error });
  }
  if (code === "SQLITE_NOTADB") {
    return new InvalidInputError(`database target ${target.name}: ${file} is not a SQLite database (a rollback to a checkpoint taken with --db puts the database back)`, details, { cause: error });
  }
  if (code === "SQLITE_FULL") return new OperationFailedError(`database target ${target.name}: no space left on device while ${doing} ${file}`, details, { cause: error });
  if (code.startsWith("SQLITE_")) return new OperationFailedError(`database target ${target.name}: ${doing} ${file} failed: ${message} (${code})`, details, { cause: error });
  return describeFsError(error, file);
}

/** Tables of an open database with their row counts and columns (SQLite's own tables left out). */
function summarize(db: Database.Database): TableSummary[] {
  const names = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
  return names.map((name) => {
    const quoted = quoteIdent(name);
    const columns = (db.prepare(`PRAGMA table_info(${quoted})`).all() as { name: string }[]).map((c) => c.name);
    const rows = Number((db.prepare(`SELECT count(*) AS n FROM ${quoted}`).get() as { n: number | bigint }).n);
    return { name, rows, columns };
  });
}

export interface SqliteLiveState {
  /** "unreadable": a file SQLite will not read as a database (`unreadable` says why). */
  state: "present" | "absent" | "unreadable";
  tables: TableSummary[];
  unreadable?: string;
}

/** The live database's tables, read without writing anything (for the diff). */
export function liveSqliteState(root: string, target: SqliteTarget): SqliteLiveState {
  const file = sqliteFilePath(root, target);
  if (!existsSync(file)) return { state: "absent", tables: [] };
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 10_000 });
    return { state: "present", tables: summarize(db) };
  } catch (error) {
    if (isUnreadableDatabase(error)) return { state: "unreadable", tables: [], unreadable: unreadableReason(error) };
    throw sqliteError(error, target, file, "reading");
  } finally {
    db?.close();
  }
}

export interface SqliteSnapshotOptions {
  /**
   * Keep a file SQLite will not read as a database (or an empty one) as its raw
   * bytes instead of refusing: a rollback's safety snapshot, taken of whatever
   * state the rollback is there to repair.
   */
  keepUnreadable?: boolean;
}

/** `VACUUM INTO` on a read-only connection; returns SQLite's version. */
function vacuumInto(file: string, into: string): string {
  const live = new Database(file, { readonly: true, fileMustExist: true, timeout: 10_000 });
  try {
    live.prepare("VACUUM INTO ?").run(into);
    return (live.prepare("SELECT sqlite_version() AS v").get() as { v: string }).v;
  } finally {
    live.close();
  }
}

/** Takes a consistent copy of the live database into the store. */
export async function snapshotSqlite(store: ObjectStore, root: string, target: SqliteTarget, options: SqliteSnapshotOptions = {}): Promise<TakenSnapshot> {
  const file = sqliteFilePath(root, target);
  const base = { target: target.name, engine: "sqlite" as const, format: "sqlite" as const };
  if (!existsSync(file)) return { snapshot: { ...base, state: "absent", sha256: null, size: 0, tables: [], serverVersion: null }, newBytes: 0 };
  if (options.keepUnreadable && isEmptyFile(file)) return snapshotRawFile(store, file, target, "an empty file");
  const walSize = statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  assertSpaceFor(store.dir, statSync(file).size + walSize, `the snapshot of database target ${target.name}`, { target: target.name });
  const tmp = store.tmpFilePath("sqlite-snapshot");
  let tables: TableSummary[];
  let version: string;
  try {
    // Created empty and private first: SQLite would make it 0644 (VACUUM INTO accepts an empty file).
    createPrivateFile(tmp);
    version = vacuumInto(file, tmp);
  } catch (error) {
    rmSync(tmp, { force: true });
    if (!options.keepUnreadable || !isUnreadableDatabase(error)) throw sqliteError(error, target, file, "snapshotting");
    return snapshotRawFile(store, file, target, unreadableReason(error));
  }
  let copy: Database.Database | undefined;
  try {
    // Counted on the copy: the summary describes exactly what was snapshotted.
    copy = new Database(tmp, { readonly: true, fileMustExist: true });
    tables = summarize(copy);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw sqliteError(error, target, tmp, "reading the snapshot of");
  } finally {
    copy?.close();
  }
  const stored = await store.adoptTmpFile(tmp);
  return { snapshot: { ...base, state: "present", sha256: stored.sha256, size: stored.size, tables, serverVersion: `SQLite ${version}` }, newBytes: stored.written ? stored.size : 0 };
}

/**
 * Refuses when another process keeps a write lock on the live database (the cheap
 * check before a rollback starts). A lock held for a moment (an agent committing a
 * transaction every few milliseconds) is waited out for up to `waitMs`, without
 * blocking the event loop; a lock held longer is refused with ConflictError.
 */
export async function assertSqliteRestorable(root: string, target: SqliteTarget, waitMs = LOCK_CHECK_WAIT_MS): Promise<void> {
  const file = sqliteFilePath(root, target);
  // Not a database: nobody can be writing to it through SQLite, and the restore replaces it whole.
  if (!existsSync(file) || unreadableNow(file)) return;
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      takeAndReleaseWriteLock(file);
      return;
    } catch (error) {
      if (isUnreadableDatabase(error)) return;
      if (!isBusy(error) || Date.now() >= deadline) throw sqliteError(error, target, file, "taking its write lock");
    }
    await sleep(RETRY_MS);
  }
}

/**
 * Whether SQLite will not read the file as a database (an empty one included, see
 * sqlite-raw.ts). Asked on a read-only connection: a read-write one would, when it
 * closes, copy a -wal lying beside the file into it (or delete the -wal beside an
 * empty file), changing the very bytes the safety snapshot is to keep.
 */
function unreadableNow(file: string): boolean {
  if (isEmptyFile(file)) return true;
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 0 });
    db.prepare("SELECT count(*) FROM sqlite_master").get();
    return false;
  } catch (error) {
    // (Busy means another process has it: a database, whose lock the caller deals with.)
    return isUnreadableDatabase(error);
  } finally {
    db?.close();
  }
}

function takeAndReleaseWriteLock(file: string): void {
  const db = new Database(file, { fileMustExist: true, timeout: 0 });
  try {
    db.exec("BEGIN IMMEDIATE");
    db.exec("ROLLBACK");
  } finally {
    db.close();
  }
}

/**
 * One attempt at copying the snapshot into the live database with the backup API.
 * better-sqlite3's backup() resolves even when SQLite gave up on a lock (before it
 * locked the destination, or at the commit): whether the copy was committed is
 * read from the database itself, as its data_version seen from another connection
 * (the probe), compared with the value taken once the backup held the write lock.
 * On a rollback-journal database that lock is exclusive and shuts out even the
 * probe's read: then nobody else can commit until the backup ends, and the value
 * read just before it started is the one to compare. Returns false when it did not commit.
 */
async function copyOnce(source: Database.Database, file: string, probe: Database.Database | null): Promise<boolean> {
  const dataVersion = () => (probe ? Number(probe.pragma("data_version", { simple: true })) : 0);
  let versionBefore: number;
  try {
    versionBefore = dataVersion();
  } catch (error) {
    // Another process is committing right now: try again in a moment.
    if (isBusy(error)) return false;
    throw error;
  }
  const versionUnderOurLock = () => {
    try {
      return dataVersion();
    } catch (error) {
      if (isBusy(error)) return versionBefore;
      throw error;
    }
  };
  let versionWhileLocked: number | null = null;
  let busy = false;
  try {
    await source.backup(file, {
      // The first step copies no page but takes the locks; the second copies every page and commits.
      progress: () => {
        if (versionWhileLocked === null) {
          versionWhileLocked = versionUnderOurLock();
          return 0x7fffffff;
        }
        busy = true;
        throw new Error("busy");
      },
    });
  } catch (error) {
    // Abandoning the backup rolls its write transaction back: the live database is unchanged.
    if (busy || isBusy(error)) return false;
    throw error;
  }
  if (versionWhileLocked === null) return false;
  return probe ? dataVersion() !== versionWhileLocked : true;
}

/**
 * Replaces the live database with the snapshot (or removes it when the snapshot
 * says it did not exist). The snapshot object must have been verified by the caller.
 */
export async function restoreSqlite(store: ObjectStore, root: string, target: SqliteTarget, snapshot: DatabaseSnapshot, options: { busyWaitMs?: number } = {}): Promise<void> {
  const file = sqliteFilePath(root, target);
  const busyWaitMs = options.busyWaitMs ?? SQLITE_BUSY_WAIT_MS;
  removeReplacementLeftover(file);
  await assertSqliteRestorable(root, target, Math.min(busyWaitMs, LOCK_CHECK_WAIT_MS));
  if (snapshot.state === "absent" || !snapshot.sha256) {
    for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(file + suffix, { force: true });
    return;
  }
  if (snapshot.format === "raw") {
    if (!existsSync(path.dirname(file))) {
      throw new InvalidInputError(`database target ${target.name}: the folder ${path.dirname(file)} no longer exists; nothing was restored`, { target: target.name, path: path.dirname(file) });
    }
    await restoreRawFile(store, file, snapshot, target);
    return;
  }
  if (existsSync(file) && unreadableNow(file)) {
    await replaceUnreadableFile(store, file, snapshot, target);
    return;
  }
  const dir = path.dirname(file);
  if (!existsSync(dir)) {
    throw new InvalidInputError(`database target ${target.name}: the folder ${dir} no longer exists; nothing was restored`, { target: target.name, path: dir });
  }
  // The write transaction journals (or logs to the WAL) up to the whole database.
  assertSpaceFor(dir, snapshot.size, `restoring database target ${target.name}`, { target: target.name });
  let unreadable = false;
  // SQLite reads the snapshot from a file: the object's own, or a compressed one inflated to a temp file.
  const beforeInflating = (bytes: number, tmpDir: string) => assertSpaceFor(tmpDir, bytes, `inflating the snapshot of database target ${target.name}`, { target: target.name });
  await store.withObjectFile(
    snapshot.sha256,
    async (snapshotFile) => {
      const deadline = Date.now() + busyWaitMs;
      let source: Database.Database | undefined;
      let probe: Database.Database | null = null;
      try {
        // The object is read-only and in rollback-journal mode (VACUUM INTO's output): a plain read-only open.
        source = new Database(snapshotFile, { readonly: true, fileMustExist: true });
        probe = existsSync(file) ? new Database(file, { fileMustExist: true, timeout: 0 }) : null;
        while (!(await copyOnce(source, file, probe))) {
          if (Date.now() >= deadline) {
            throw new ConflictError(`database target ${target.name}: another process kept a lock on ${file} for ${busyWaitMs} ms; nothing was restored, try again when it is done`, {
              target: target.name,
              path: file,
            });
          }
          await sleep(RETRY_MS);
        }
      } catch (error) {
        // SQLite will not write into it after all (the backup changed nothing): it is replaced whole instead.
        if (!isUnreadableDatabase(error)) throw sqliteError(error, target, file, "restoring");
        unreadable = true;
      } finally {
        probe?.close();
        source?.close();
      }
    },
    { beforeInflating },
  );
  if (unreadable) await replaceUnreadableFile(store, file, snapshot, target);

}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === "SQLITE_BUSY" || code === "SQLITE_LOCKED";
}
