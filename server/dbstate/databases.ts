/**
 * The database part of checkpoints, diffs, plans and rollbacks, whatever the
 * engine: one function per step, each dispatching to sqlite.ts or postgres.ts.
 * Targets are restored from what their snapshot names (the checkpoint's record of
 * the target), so a rollback puts back what was taken even if the component's
 * target list changed since. The PostgreSQL side (pg) is loaded only when a
 * PostgreSQL target is at hand.
 */
import type { Core } from "../core";
import { IntegrityError } from "../errors";
import { mapConcurrent } from "../concurrency";
import { snapshotObjects, type DatabaseSnapshot, type TableSummary } from "./snapshot-types";
import { assertSqliteRestorable, liveSqliteState, restoreSqlite, snapshotSqlite, sqliteFilePath, type SqliteSnapshotOptions } from "./sqlite";
import { holdsRawBytes } from "./sqlite-raw";
import { parseDbTarget, parseDbTargets } from "./targets";

const postgres = () => import("./postgres");

export interface DatabaseOwner {
  name: string;
  root: string;
  dbTargets?: string[];
}

/**
 * Snapshots of every target of the component, in order; `newBytes` is what they added to the store.
 * `keepUnreadable` (a rollback's safety snapshot): a SQLite file that is not a database is kept as its bytes.
 */
export async function snapshotDatabases(
  core: Core,
  component: DatabaseOwner,
  targets: readonly string[] = component.dbTargets ?? [],
  options: SqliteSnapshotOptions = {},
): Promise<{ snapshots: DatabaseSnapshot[]; newBytes: number }> {
  const snapshots: DatabaseSnapshot[] = [];
  let newBytes = 0;
  for (const target of parseDbTargets(targets)) {
    const taken = target.engine === "sqlite" ? await snapshotSqlite(core.store, component.root, target, options) : await (await postgres()).snapshotPostgres(core.store, target);
    snapshots.push(taken.snapshot);
    newBytes += taken.newBytes;
  }
  return { snapshots, newBytes };
}

/** What a rollback does to each database: replaced by its snapshot, or removed (a SQLite file that did not exist yet). */
export interface DatabasePlanItem {
  target: string;
  engine: DatabaseSnapshot["engine"];
  action: "replace" | "remove";
  /** "raw": the snapshot is the raw bytes of a file that was not a database (written back as they are). */
  format: DatabaseSnapshot["format"];
  /** For a raw snapshot, why SQLite would not read the file; otherwise null. */
  unreadable: string | null;
  /** The snapshot's tables and rows, and its size in the store (a raw snapshot's journal files included). */
  tables: number;
  rows: number;
  bytes: number;
  sha256: string | null;
}

export function planDatabases(snapshots: readonly DatabaseSnapshot[]): DatabasePlanItem[] {
  return snapshots.map((s) => ({
    target: s.target,
    engine: s.engine,
    action: s.state === "absent" ? "remove" : "replace",
    format: s.format,
    unreadable: s.unreadable ?? null,
    tables: s.tables.length,
    rows: s.tables.reduce((sum, t) => sum + t.rows, 0),
    bytes: snapshotObjects(s).reduce((sum, o) => sum + o.size, 0),
    sha256: s.sha256,
  }));
}

/** Re-hashes the snapshot objects (a raw snapshot's journal files too); a damaged one is named by its target. */
export async function checkSnapshotObjects(core: Core, snapshots: readonly DatabaseSnapshot[]): Promise<{ target: string; sha256: string; state: "corrupt" | "missing" }[]> {
  return checkObjects(core, snapshots.flatMap((s) => snapshotObjects(s)));
}

/** Re-hashes snapshot objects (as snapshotObjects lists them); a damaged one is named by its label. */
export async function checkObjects(core: Core, objects: readonly { sha256: string; label: string }[]): Promise<{ target: string; sha256: string; state: "corrupt" | "missing" }[]> {
  const states = await mapConcurrent(objects, 2, (o) => core.store.verifyObject(o.sha256));
  return objects.flatMap((o, i) => {
    const state = states[i];
    return state === "ok" || state === undefined ? [] : [{ target: o.label, sha256: o.sha256, state }];
  });
}

export async function assertSnapshotsIntact(core: Core, snapshots: readonly DatabaseSnapshot[], doing: string): Promise<void> {
  const problems = await checkSnapshotObjects(core, snapshots);
  if (problems.length === 0) return;
  const named = problems.map((p) => `${p.target} (${p.state})`).join(", ");
  throw new IntegrityError(`${doing} refused: the stored snapshot of database target ${named} is damaged; nothing was changed`, {
    problems: problems.map((p) => ({ path: p.target, database: p.target, sha256: p.sha256, state: p.state })),
  });
}

/**
 * The checks before a rollback changes anything: each database can be reached and
 * written now (no other process holding a SQLite write lock; the PostgreSQL server
 * up, the credentials accepted, nothing outside the target depending on it).
 */
export async function assertDatabasesRestorable(component: DatabaseOwner, snapshots: readonly DatabaseSnapshot[]): Promise<void> {
  for (const snapshot of snapshots) {
    const target = parseDbTarget(snapshot.target);
    if (target.engine === "sqlite") await assertSqliteRestorable(component.root, target);
    else await (await postgres()).assertPostgresRestorable(target, snapshot);
  }
}

/** Puts one database back to its snapshot (atomically: in one SQLite or PostgreSQL transaction). The object must be verified. */
export async function restoreDatabase(core: Core, component: DatabaseOwner, snapshot: DatabaseSnapshot): Promise<void> {
  const target = parseDbTarget(snapshot.target);
  if (target.engine === "sqlite") await restoreSqlite(core.store, component.root, target, snapshot);
  else await (await postgres()).restorePostgres(core.store, target, snapshot);
}

/** How a database differs from its snapshot: the table list and, per table, its row count and columns. */
export interface DatabaseChange {
  target: string;
  engine: DatabaseSnapshot["engine"];
  /** false: same tables, columns and row counts (rows may still differ in content: a rollback replaces the database anyway). */
  changed: boolean;
  /** The SQLite file's existence then and now. */
  existed: boolean;
  exists: boolean;
  tablesAdded: string[];
  tablesDropped: string[];
  tablesChanged: { table: string; rowsBefore: number; rowsAfter: number; columnsAdded: string[]; columnsDropped: string[] }[];
  /** The checkpoint holds the raw bytes of a file that was not a database (a rollback's safety snapshot): why SQLite would not read it; else null. */
  rawBytes: string | null;
  /** The file is not a database SQLite will read now: why; else null. */
  unreadableNow: string | null;
  /** The database could not be read now (unreachable, credentials, ...): what the snapshot holds is still shown by the plan. */
  error: string | null;
}

function compareTables(before: readonly TableSummary[], after: readonly TableSummary[]): Pick<DatabaseChange, "tablesAdded" | "tablesDropped" | "tablesChanged"> {
  const then = new Map(before.map((t) => [t.name, t]));
  const now = new Map(after.map((t) => [t.name, t]));
  const tablesChanged: DatabaseChange["tablesChanged"] = [];
  for (const [name, old] of then) {
    const current = now.get(name);
    if (!current) continue;
    const columnsAdded = current.columns.filter((c) => !old.columns.includes(c));
    const columnsDropped = old.columns.filter((c) => !current.columns.includes(c));
    if (old.rows !== current.rows || columnsAdded.length > 0 || columnsDropped.length > 0) {
      tablesChanged.push({ table: name, rowsBefore: old.rows, rowsAfter: current.rows, columnsAdded, columnsDropped });
    }
  }
  return {
    tablesAdded: [...now.keys()].filter((n) => !then.has(n)).sort(),
    tablesDropped: [...then.keys()].filter((n) => !now.has(n)).sort(),
    tablesChanged,
  };
}

/** The databases of a checkpoint compared with what they hold now (for `checkpoint diff`). */
export async function diffDatabases(component: DatabaseOwner, snapshots: readonly DatabaseSnapshot[]): Promise<DatabaseChange[]> {
  const changes: DatabaseChange[] = [];
  for (const snapshot of snapshots) {
    const target = parseDbTarget(snapshot.target);
    const existed = snapshot.state === "present";
    const rawBytes = snapshot.format === "raw" ? (snapshot.unreadable ?? "not a SQLite database") : null;
    try {
      const live = target.engine === "sqlite" ? liveSqliteState(component.root, target) : await (await postgres()).livePostgresState(target);
      const exists = live.state !== "absent";
      const unreadableNow = live.state === "unreadable" ? (live.unreadable ?? "not a SQLite database") : null;
      if (rawBytes !== null && target.engine === "sqlite") {
        // Bytes, not tables: changed unless the file (and its journals) hold exactly those bytes.
        const same = exists && (await holdsRawBytes(sqliteFilePath(component.root, target), snapshot));
        changes.push({ target: snapshot.target, engine: snapshot.engine, changed: !same, existed, exists, tablesAdded: [], tablesDropped: [], tablesChanged: [], rawBytes, unreadableNow, error: null });
        continue;
      }
      const tables = unreadableNow === null ? compareTables(snapshot.tables, live.tables) : { tablesAdded: [], tablesDropped: [], tablesChanged: [] };
      const changed = existed !== exists || unreadableNow !== null || tables.tablesAdded.length + tables.tablesDropped.length + tables.tablesChanged.length > 0;
      changes.push({ target: snapshot.target, engine: snapshot.engine, changed, existed, exists, ...tables, rawBytes, unreadableNow, error: null });
    } catch (error) {
      changes.push({
        target: snapshot.target,
        engine: snapshot.engine,
        changed: true,
        existed,
        exists: existed,
        tablesAdded: [],
        tablesDropped: [],
        tablesChanged: [],
        rawBytes,
        unreadableNow: null,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return changes;
}

/**
 * Two checkpoints' snapshots of the same targets, compared by what they record
 * (tables, columns, row counts; a raw snapshot by its bytes' hash), without
 * reading any database. A target only one of them holds is left out.
 */
export function diffSnapshots(before: readonly DatabaseSnapshot[], after: readonly DatabaseSnapshot[]): DatabaseChange[] {
  const later = new Map(after.map((s) => [s.target, s]));
  const changes: DatabaseChange[] = [];
  for (const then of before) {
    const now = later.get(then.target);
    if (!now) continue;
    const existed = then.state === "present";
    const exists = now.state === "present";
    const rawBytes = then.format === "raw" ? (then.unreadable ?? "not a SQLite database") : null;
    const unreadableNow = now.format === "raw" ? (now.unreadable ?? "not a SQLite database") : null;
    const raw = rawBytes !== null || unreadableNow !== null;
    const tables = raw ? { tablesAdded: [], tablesDropped: [], tablesChanged: [] } : compareTables(then.tables, now.tables);
    const changed = raw ? then.sha256 !== now.sha256 : existed !== exists || tables.tablesAdded.length + tables.tablesDropped.length + tables.tablesChanged.length > 0;
    changes.push({ target: then.target, engine: then.engine, changed, existed, exists, ...tables, rawBytes, unreadableNow, error: null });
  }
  return changes;
}

/** A snapshot in one line: for `checkpoint create`'s result, history details and logs. */
export interface SnapshotSummary {
  target: string;
  engine: DatabaseSnapshot["engine"];
  format: DatabaseSnapshot["format"];
  state: DatabaseSnapshot["state"];
  sha256: string | null;
  bytes: number;
  tables: number;
  rows: number;
  /** Only for a raw snapshot: why SQLite would not read the file. */
  unreadable?: string;
}

export function describeSnapshots(snapshots: readonly DatabaseSnapshot[]): SnapshotSummary[] {
  return snapshots.map((s) => ({
    target: s.target,
    engine: s.engine,
    format: s.format,
    state: s.state,
    sha256: s.sha256,
    bytes: snapshotObjects(s).reduce((sum, o) => sum + o.size, 0),
    tables: s.tables.length,
    rows: s.tables.reduce((sum, t) => sum + t.rows, 0),
    ...(s.unreadable !== undefined ? { unreadable: s.unreadable } : {}),
  }));
}
