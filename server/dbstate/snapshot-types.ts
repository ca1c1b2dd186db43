/**
 * What a checkpoint holds of a database: one DatabaseSnapshot per target, listed
 * in the checkpoint's manifest (so the manifest's checksum covers it, and
 * verify, retention and rebuild-db see its object like any file's) and copied to
 * the checkpoint row for listing.
 */

/** A table as a snapshot or the live database has it: for the diff and the plan. */
export interface TableSummary {
  /** "name" (SQLite) or "schema.name" (PostgreSQL). */
  name: string;
  rows: number;
  /** Column names in table order. */
  columns: string[];
}

export type SnapshotFormat =
  /** A SQLite database file (VACUUM INTO: a consistent copy while the database is in use). */
  | "sqlite"
  /** pg_dump --format=custom of the selected schemas or tables. */
  | "pg_dump"
  /** The in-process equivalent without client tools: schema and COPY data of the selection (dbstate/postgres-copy.ts). */
  | "pg_copy"
  /**
   * The raw bytes of the file at a SQLite target's path when SQLite could not read
   * it as a database (not a database, truncated, damaged) or it was empty: what a
   * rollback's safety checkpoint keeps, so its undo puts back exactly those bytes
   * (dbstate/sqlite-raw.ts). Restored by writing the bytes, never through SQLite.
   */
  | "raw";

/** A SQLite journal file kept with a raw snapshot: it is part of the state SQLite would see. */
export interface RawSideFile {
  suffix: "-wal" | "-journal";
  sha256: string;
  size: number;
}

export interface DatabaseSnapshot {
  /** The target's canonical spec (dbstate/targets.ts). */
  target: string;
  engine: "sqlite" | "postgres";
  format: SnapshotFormat;
  /** "absent": the SQLite file did not exist (a rollback then removes it). */
  state: "present" | "absent";
  /** The snapshot's object in the store (null when absent). */
  sha256: string | null;
  /** Bytes of that object. */
  size: number;
  tables: TableSummary[];
  /** The server's version (PostgreSQL) or the library's (SQLite), for the record. */
  serverVersion: string | null;
  /** format "raw": why SQLite could not take it as a database ("not a SQLite database", "an empty file", ...). */
  unreadable?: string;
  /** format "raw": the -wal and -journal files that lay beside it, byte for byte. */
  sideFiles?: RawSideFile[];
}

/** A snapshot just taken, with the bytes it added to the store (0 when its object was there already). */
export interface TakenSnapshot {
  snapshot: DatabaseSnapshot;
  newBytes: number;
}

/** The same snapshot with its keys in one fixed order: manifests are canonical JSON. */
export function canonicalSnapshot(s: DatabaseSnapshot): DatabaseSnapshot {
  return {
    target: s.target,
    engine: s.engine,
    format: s.format,
    state: s.state,
    sha256: s.sha256,
    size: s.size,
    tables: s.tables.map((t) => ({ name: t.name, rows: t.rows, columns: [...t.columns] })),
    serverVersion: s.serverVersion,
    // Only raw snapshots carry these: every other snapshot keeps the bytes (and checksum) it always had.
    ...(s.unreadable !== undefined ? { unreadable: s.unreadable } : {}),
    ...(s.sideFiles !== undefined ? { sideFiles: s.sideFiles.map((f) => ({ suffix: f.suffix, sha256: f.sha256, size: f.size })) } : {}),
  };
}

/** Every object a snapshot names, with what it is: the snapshot itself, then a raw snapshot's side files. */
export function snapshotObjects(s: DatabaseSnapshot): { sha256: string; size: number; label: string }[] {
  if (!s.sha256) return [];
  return [{ sha256: s.sha256, size: s.size, label: s.target }, ...(s.sideFiles ?? []).map((f) => ({ sha256: f.sha256, size: f.size, label: `${s.target} (${f.suffix})` }))];
}

/** Reads the snapshots a checkpoint row carries (its dbSnapshots JSON column). */
export function snapshotsOfRow(value: unknown): DatabaseSnapshot[] {
  return Array.isArray(value) ? (value as DatabaseSnapshot[]) : [];
}
