/**
 * Advisory locks held by the operating system: POSIX record locks taken through
 * SQLite's locking protocol on a small lock file (better-sqlite3 is already the
 * product's database driver). The kernel drops them the moment their process
 * dies, so a crashed holder never wedges anything, and there is no refresh timer
 * that a busy event loop could starve.
 *
 * A held lock is one open connection. Nothing else may open a lock file in the
 * same process: closing any descriptor of a file releases the process's POSIX
 * locks on it. Two connections of one process still exclude each other (SQLite
 * tracks its own locks per file inside the process).
 */
import Database from "better-sqlite3";
import path from "node:path";
import { describeFsError } from "../errors";
import { createPrivateFile, makePrivateDir } from "../private-files";

type Connection = Database.Database;

function isBusy(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === "SQLITE_BUSY" || code === "SQLITE_LOCKED";
}

function open(file: string): Connection {
  try {
    makePrivateDir(path.dirname(file));
    createPrivateFile(file);
    return new Database(file, { timeout: 0 });
  } catch (error) {
    throw describeFsError(error, file);
  }
}

export class OsLock {
  private constructor(private connection: Connection | null) {}

  /** The exclusive lock on `file`, or null when anyone (this process included) holds it in any mode. Never waits. */
  static tryExclusive(file: string): OsLock | null {
    return OsLock.attempt(file, (db) => db.exec("BEGIN EXCLUSIVE"));
  }

  /** A shared lock on `file`, or null while an exclusive holder has it. Never waits. */
  static tryShared(file: string): OsLock | null {
    return OsLock.attempt(file, (db) => {
      db.exec("BEGIN");
      // A deferred transaction takes its shared lock at the first read and keeps it until it ends.
      db.prepare("SELECT count(*) FROM sqlite_master").get();
    });
  }

  private static attempt(file: string, take: (db: Connection) => void): OsLock | null {
    const db = open(file);
    try {
      take(db);
      return new OsLock(db);
    } catch (error) {
      db.close();
      if (isBusy(error)) return null;
      throw describeFsError(error, file);
    }
  }

  get held(): boolean {
    return this.connection !== null;
  }

  /** Releases the lock (idempotent). */
  release(): void {
    const db = this.connection;
    if (!db) return;
    this.connection = null;
    try {
      if (db.inTransaction) db.exec("ROLLBACK");
    } finally {
      db.close();
    }
  }
}
