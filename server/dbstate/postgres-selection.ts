/**
 * What a PostgreSQL target selects in the live database, and what replacing it
 * takes: the tables (with row counts and columns, for the diff and the plan),
 * their size (for the free-space check), and the SQL that clears the selection
 * before the snapshot is put back, in the same transaction:
 *
 *   schema targets  every object of the schemas that is not part of an extension
 *                   (tables, views, sequences, routines, types) is dropped, the
 *                   schemas themselves stay: so tables and columns a migration
 *                   added after the checkpoint go, and dropped ones come back
 *   table targets   the tables are dropped (with their indexes, constraints,
 *                   triggers and owned sequences) and recreated
 *
 * Foreign keys from tables outside the selection onto it are re-created after
 * the restore (the data must still satisfy them, or nothing is restored). Any
 * other object outside the selection that depends on it (a view, a column of a
 * selected type, a default calling a selected function) would be dropped with
 * it: the restore is refused before anything changes, naming those objects.
 */
import type pg from "pg";
import { ConflictError, NotFoundError } from "../errors";
import { quoteIdent, quoteQualified } from "../db/sql-identifier";
import { DEFAULT_LOCK_TIMEOUT_MS, isLockTimeout, lockTableStatement, LockWaitError } from "./postgres-locks";
import type { TableSummary } from "./snapshot-types";
import type { PostgresTarget } from "./targets";

export interface SelectedTable {
  oid: number;
  /** schema.name */
  name: string;
  schema: string;
  table: string;
}

/** The selection's existing tables (schema targets: every table of the schemas; table targets: the named ones, all of which must exist). */
export async function selectedTables(client: pg.Client, target: PostgresTarget): Promise<SelectedTable[]> {
  const { rows: schemas } = await client.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[])", [target.schemas]);
  const missingSchemas = target.schemas.filter((s) => !schemas.some((r) => r.nspname === s));
  if (missingSchemas.length > 0) {
    throw new NotFoundError(`database target ${target.name}: schema ${missingSchemas.join(", ")} does not exist in the database`, { target: target.name, schemas: missingSchemas });
  }
  const { rows } = await client.query<{ oid: number; schema: string; table: string }>(
    `SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS table
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY($1::text[])
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
      ORDER BY n.nspname, c.relname`,
    [target.schemas],
  );
  const all = rows.map((r) => ({ oid: r.oid, name: `${r.schema}.${r.table}`, schema: r.schema, table: r.table }));
  if (target.tables.length === 0) return all;
  const missing = target.tables.filter((t) => !all.some((r) => r.name === t));
  if (missing.length > 0) {
    throw new NotFoundError(`database target ${target.name}: table ${missing.join(", ")} does not exist (any more) in the database`, { target: target.name, tables: missing });
  }
  return all.filter((r) => target.tables.includes(r.name));
}

/** Row counts and columns, read in the caller's transaction (a repeatable-read snapshot: the counts match the dump). */
export async function summarizeTables(client: pg.Client, tables: readonly SelectedTable[]): Promise<TableSummary[]> {
  const summaries: TableSummary[] = [];
  for (const table of tables) {
    const { rows: columns } = await client.query<{ attname: string }>("SELECT attname FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum", [table.oid]);
    const { rows: count } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteQualified(table.name)}`);
    summaries.push({ name: table.name, rows: Number(count[0]?.n ?? 0), columns: columns.map((c) => c.attname) });
  }
  return summaries;
}

/**
 * Takes the read locks of the tables up front, one by one, in the caller's
 * transaction (ACCESS SHARE, what reading them takes anyway): a table another
 * session keeps locked exclusively (a migration in an open transaction) throws
 * LockWaitError naming it once the caller's lock_timeout has passed, and what
 * follows (sizes, counts, the dump) finds its locks already held.
 */
export async function lockForReading(client: pg.Client, tables: readonly SelectedTable[]): Promise<void> {
  for (const table of tables) {
    await client.query(`LOCK TABLE ${quoteQualified(table.name)} IN ACCESS SHARE MODE`).catch((error: unknown) => {
      throw isLockTimeout(error) ? new LockWaitError(`table ${table.name}`) : error;
    });
  }
}

/** Bytes the selection takes on the server (tables with their indexes and TOAST): what a dump is at most, about. */
export async function selectionSize(client: pg.Client, tables: readonly SelectedTable[]): Promise<number> {
  if (tables.length === 0) return 0;
  const { rows } = await client.query<{ bytes: string | null }>("SELECT sum(pg_total_relation_size(oid))::bigint AS bytes FROM pg_class WHERE oid = ANY($1::oid[])", [tables.map((t) => t.oid)]);
  return Number(rows[0]?.bytes ?? 0);
}

interface SelectedObject {
  classid: "pg_class" | "pg_proc" | "pg_type";
  oid: number;
  /** The statement that drops it (IF EXISTS ... CASCADE: dropping a table may already have taken its sequence). */
  drop: string;
  /** Tables: the LOCK TABLE run before the drops (the lock a drop takes anyway), so a lock wait given up names the table. */
  lock?: string;
}

/** Every object the restore replaces (see the header): what is dropped, in an order that needs no dependency analysis (CASCADE, IF EXISTS). */
async function selectedObjects(client: pg.Client, target: PostgresTarget): Promise<SelectedObject[]> {
  const notExtension = (catalog: string, alias: string) =>
    `NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '${catalog}'::regclass AND e.objid = ${alias}.oid AND e.deptype = 'e')`;
  if (target.tables.length > 0) {
    const { rows } = await client.query<{ oid: number; name: string }>(
      `SELECT c.oid::int AS oid, format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND (n.nspname || '.' || c.relname) = ANY($1::text[])`,
      [target.tables],
    );
    // Their row types go with them; anything outside that uses one depends on the table.
    return rows.map((r) => ({ classid: "pg_class" as const, oid: r.oid, drop: `DROP TABLE IF EXISTS ${r.name} CASCADE`, lock: lockTableStatement(r.name) }));
  }
  const objects: SelectedObject[] = [];
  const { rows: relations } = await client.query<{ oid: number; name: string; relkind: string }>(
    `SELECT c.oid::int AS oid, format('%I.%I', n.nspname, c.relname) AS name, c.relkind::text AS relkind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${notExtension("pg_class", "c")}
        AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)`,
    [target.schemas],
  );
  const dropRelation: Record<string, string> = { r: "TABLE", p: "TABLE", v: "VIEW", m: "MATERIALIZED VIEW", S: "SEQUENCE", f: "FOREIGN TABLE" };
  // Views first, then tables, then sequences not owned by any (CASCADE takes what depends on each).
  const order = ["v", "m", "r", "p", "f", "S"];
  relations.sort((a, b) => order.indexOf(a.relkind) - order.indexOf(b.relkind) || (a.name < b.name ? -1 : 1));
  for (const r of relations) {
    const table = r.relkind === "r" || r.relkind === "p";
    objects.push({ classid: "pg_class", oid: r.oid, drop: `DROP ${dropRelation[r.relkind]} IF EXISTS ${r.name} CASCADE`, ...(table ? { lock: lockTableStatement(r.name) } : {}) });
  }
  const { rows: routines } = await client.query<{ oid: number; signature: string; prokind: string }>(
    `SELECT p.oid::int AS oid, p.oid::regprocedure::text AS signature, p.prokind::text AS prokind
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = ANY($1::text[]) AND ${notExtension("pg_proc", "p")}`,
    [target.schemas],
  );
  const dropRoutine: Record<string, string> = { f: "FUNCTION", p: "PROCEDURE", a: "AGGREGATE", w: "FUNCTION" };
  for (const r of routines) objects.push({ classid: "pg_proc", oid: r.oid, drop: `DROP ${dropRoutine[r.prokind] ?? "FUNCTION"} IF EXISTS ${r.signature} CASCADE` });
  const { rows: types } = await client.query<{ oid: number; name: string; typtype: string }>(
    `SELECT t.oid::int AS oid, format('%I.%I', n.nspname, t.typname) AS name, t.typtype::text AS typtype
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = ANY($1::text[]) AND t.typtype IN ('e', 'c', 'd', 'r') AND ${notExtension("pg_type", "t")}
        AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')`,
    [target.schemas],
  );
  for (const t of types) objects.push({ classid: "pg_type", oid: t.oid, drop: `DROP ${t.typtype === "d" ? "DOMAIN" : "TYPE"} IF EXISTS ${t.name} CASCADE` });
  // Table row types: what uses a table's row type outside the schema depends on it too.
  const { rows: rowTypes } = await client.query<{ oid: number }>("SELECT reltype::int AS oid FROM pg_class WHERE oid = ANY($1::oid[]) AND reltype <> 0", [relations.map((r) => r.oid)]);
  for (const t of rowTypes) objects.push({ classid: "pg_type", oid: t.oid, drop: "" });
  return objects;
}

export interface ReplacementPlan {
  /** Statements run first in the restore's transaction: bounded lock waits, the tables' locks, then the drops. */
  prologue: string[];
  /** Statements run last: the foreign keys from outside the selection, back on. */
  epilogue: string[];
}

/**
 * The statements that clear the selection and put outside foreign keys back, or a
 * refusal naming what outside the selection would be lost. Read-only: run it
 * before the restore (preflight) and again at the restore itself.
 */
export async function planReplacement(client: pg.Client, target: PostgresTarget, options: { lockTimeoutMs?: number } = {}): Promise<ReplacementPlan> {
  const objects = await selectedObjects(client, target);
  const selected = { pg_class: objects.filter((o) => o.classid === "pg_class").map((o) => o.oid), pg_proc: objects.filter((o) => o.classid === "pg_proc").map((o) => o.oid), pg_type: objects.filter((o) => o.classid === "pg_type").map((o) => o.oid) };
  const { rows: dependents } = await client.query<{ what: string; owner: number | null; classid: string; objid: number; fk: boolean; conname: string | null; contable: string | null; condef: string | null }>(
    `SELECT DISTINCT CASE WHEN d.classid = 'pg_rewrite'::regclass
                          THEN pg_describe_object('pg_class'::regclass, (SELECT ev_class FROM pg_rewrite WHERE oid = d.objid), 0)
                          ELSE pg_describe_object(d.classid, d.objid, d.objsubid) END AS what,
            CASE d.classid
              WHEN 'pg_rewrite'::regclass THEN (SELECT ev_class FROM pg_rewrite WHERE oid = d.objid)
              WHEN 'pg_attrdef'::regclass THEN (SELECT adrelid FROM pg_attrdef WHERE oid = d.objid)
              WHEN 'pg_constraint'::regclass THEN (SELECT conrelid FROM pg_constraint WHERE oid = d.objid)
              WHEN 'pg_trigger'::regclass THEN (SELECT tgrelid FROM pg_trigger WHERE oid = d.objid)
              WHEN 'pg_class'::regclass THEN d.objid
              ELSE NULL END::int AS owner,
            d.classid::regclass::text AS classid, d.objid::int AS objid,
            (d.classid = 'pg_constraint'::regclass AND (SELECT contype FROM pg_constraint WHERE oid = d.objid) = 'f') AS fk,
            (SELECT conname FROM pg_constraint WHERE d.classid = 'pg_constraint'::regclass AND oid = d.objid) AS conname,
            (SELECT conrelid::regclass::text FROM pg_constraint WHERE d.classid = 'pg_constraint'::regclass AND oid = d.objid) AS contable,
            (SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE d.classid = 'pg_constraint'::regclass AND oid = d.objid) AS condef
       FROM pg_depend d
      WHERE d.deptype = 'n'
        AND ((d.refclassid = 'pg_class'::regclass AND d.refobjid = ANY($1::oid[]))
          OR (d.refclassid = 'pg_proc'::regclass AND d.refobjid = ANY($2::oid[]))
          OR (d.refclassid = 'pg_type'::regclass AND d.refobjid = ANY($3::oid[])))`,
    [selected.pg_class, selected.pg_proc, selected.pg_type],
  );
  const inSelection = (classid: string, oid: number) => (classid === "pg_class" ? selected.pg_class : classid === "pg_proc" ? selected.pg_proc : classid === "pg_type" ? selected.pg_type : []).includes(oid);
  const outside = dependents.filter((d) => (d.owner !== null ? !selected.pg_class.includes(d.owner) : !inSelection(d.classid, d.objid)));
  const foreignKeys = new Map<string, string>();
  const lost: string[] = [];
  for (const d of outside) {
    if (d.fk && d.conname && d.contable && d.condef) foreignKeys.set(`${d.contable}.${d.conname}`, `ALTER TABLE ${d.contable} ADD CONSTRAINT ${quoteIdent(d.conname)} ${d.condef}`);
    else lost.push(d.what);
  }
  if (lost.length > 0) {
    const named = [...new Set(lost)].sort();
    throw new ConflictError(
      `database target ${target.name}: ${named.slice(0, 10).join("; ")}${named.length > 10 ? ` (and ${named.length - 10} more)` : ""} ${named.length === 1 ? "lies" : "lie"} outside the target and depend${named.length === 1 ? "s" : ""} on it: restoring would drop ${named.length === 1 ? "it" : "them"}. ` +
        `Nothing was changed; add what they belong to to the target (schema=...), or remove them first`,
      { target: target.name, dependents: named },
    );
  }
  const lockTimeout = Math.max(1, Math.round(options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS));
  return {
    // Every table's lock before any drop: a drop also locks the tables its foreign keys point to, and the wait is then named after the table.
    prologue: [`SET LOCAL lock_timeout = ${lockTimeout}`, "SET LOCAL check_function_bodies = false", ...objects.flatMap((o) => (o.lock ? [o.lock] : [])), ...objects.filter((o) => o.drop).map((o) => o.drop)],
    epilogue: [...foreignKeys.values()],
  };
}

/** Names the table a message is about, schema-qualified and quoted, for statements. */
export function qualified(table: SelectedTable): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.table)}`;
}
