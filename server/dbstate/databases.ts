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
import type { DatabaseSnapshot, TableSummary } from "./snapshot-types";
import { assertSqliteRestorable, liveSqliteState, restoreSqlite, snapshotSqlite } from "./sqlite";
import { parseDbTarget, parseDbTargets } from "./targets";

const postgres = () => import("./postgres");

export interface DatabaseOwner {
  name: string;
  root: string;
  dbTargets?: string[];
}

/** Snapshots of every target of the component, in order; `newBytes` is what they added to the store. */
export async function snapshotDatabases(core: Core, component: DatabaseOwner, targets: readonly string[] = component.dbTargets ?? []): Promise<{ snapshots: DatabaseSnapshot[]; newBytes: number }> {
  const snapshots: DatabaseSnapshot[] = [];
  let newBytes = 0;
  for (const target of parseDbTargets(targets)) {
    const taken = target.engine === "sqlite" ? await snapshotSqlite(core.store, component.root, target) : await (await postgres()).snapshotPostgres(core.store, target);
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
  /** The snapshot's tables and rows, and its size in the store. */
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
    tables: s.tables.length,
    rows: s.tables.reduce((sum, t) => sum + t.rows, 0),
    bytes: s.size,
    sha256: s.sha256,
  }));
}

/** Re-hashes the snapshot objects; a damaged one is named by its target. */
export async function checkSnapshotObjects(core: Core, snapshots: readonly DatabaseSnapshot[]): Promise<{ target: string; sha256: string; state: "corrupt" | "missing" }[]> {
  const present = snapshots.filter((s): s is DatabaseSnapshot & { sha256: string } => s.sha256 !== null);
  const states = await mapConcurrent(present, 2, (s) => core.store.verifyObject(s.sha256));
  return present.flatMap((s, i) => {
    const state = states[i];
    return state === "ok" || state === undefined ? [] : [{ target: s.target, sha256: s.sha256, state }];
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
    try {
      const live = target.engine === "sqlite" ? liveSqliteState(component.root, target) : await (await postgres()).livePostgresState(target);
      const exists = live.state === "present";
      const tables = compareTables(snapshot.tables, live.tables);
      const changed = existed !== exists || tables.tablesAdded.length + tables.tablesDropped.length + tables.tablesChanged.length > 0;
      changes.push({ target: snapshot.target, engine: snapshot.engine, changed, existed, exists, ...tables, error: null });
    } catch (error) {
      changes.push({ target: snapshot.target, engine: snapshot.engine, changed: true, existed, exists: existed, tablesAdded: [], tablesDropped: [], tablesChanged: [], error: error instanceof Error ? error.message : String(error) });
    }
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
}

export function describeSnapshots(snapshots: readonly DatabaseSnapshot[]): SnapshotSummary[] {
  return snapshots.map((s) => ({ target: s.target, engine: s.engine, format: s.format, state: s.state, sha256: s.sha256, bytes: s.size, tables: s.tables.length, rows: s.tables.reduce((sum, t) => sum + t.rows, 0) }));
}
