/**
 * The in-process PostgreSQL snapshot, for machines without the client tools: the
 * selection's definitions read from the catalogs and its rows streamed out with
 * COPY, all inside the caller's repeatable-read transaction (one consistent
 * moment), into one file:
 *
 *   SNPGCOPY1\n  <header length>\n  <header JSON>  then, per table in header order,
 *   frames "<n>\n<n bytes of COPY text>" ending with "0\n"
 *
 * The header holds the statements that recreate the selection before its rows
 * (`pre`: types, sequences, tables, routines) and after them (`post`: sequence
 * values, constraints, indexes, foreign keys, triggers, views). The restore runs
 * the drops of the replacement plan, `pre`, the COPYs, `post` and the plan's
 * epilogue in one transaction.
 *
 * It covers what migrations change: tables with their columns, defaults, identity
 * and generated columns, constraints, indexes and triggers; sequences; enum,
 * domain and composite types; functions and procedures; views and materialized
 * views. Not captured (pg_dump is, when installed): comments, privileges and
 * ownership, partitioned and inherited tables, aggregates, range types, rules,
 * policies, extensions.
 */
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import fsp from "node:fs/promises";
import type pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { OperationFailedError } from "../errors";
import { quoteIdent } from "../db/sql-identifier";
import { isLockTimeout, LockWaitError, waitedForIn } from "./postgres-locks";
import type { PostgresTarget } from "./targets";

const MAGIC = "SNPGCOPY1\n";

export interface CopyArchiveHeader {
  target: string;
  pre: string[];
  /** The tables whose rows follow, in order, with the columns COPY carries (generated columns left out). */
  tables: { name: string; columns: string[] }[];
  post: string[];
}

const lit = (value: string) => `'${value.replace(/'/g, "''")}'`;

async function rows<R extends pg.QueryResultRow>(client: pg.Client, sql: string, params: unknown[] = []): Promise<R[]> {
  return (await client.query<R>(sql, params)).rows;
}

interface RelationRow {
  oid: number;
  name: string;
  relkind: string;
  persistence: string;
}

/** The definitions of the selection, read in the caller's transaction. */
async function readDefinitions(client: pg.Client, target: PostgresTarget): Promise<CopyArchiveHeader> {
  const byTables = target.tables.length > 0;
  const notExtension = (catalog: string, alias: string) => `NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '${catalog}'::regclass AND e.objid = ${alias}.oid AND e.deptype = 'e')`;
  const relations = await rows<RelationRow>(
    client,
    `SELECT c.oid::int AS oid, format('%I.%I', n.nspname, c.relname) AS name, c.relkind::text AS relkind, c.relpersistence::text AS persistence
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm') AND ${notExtension("pg_class", "c")}
        AND ${byTables ? "(n.nspname || '.' || c.relname) = ANY($1::text[])" : "n.nspname = ANY($1::text[])"}
      ORDER BY c.oid`,
    [byTables ? target.tables : target.schemas],
  );
  const unsupported = relations.filter((r) => r.relkind === "p");
  const inherited = await rows<{ name: string }>(client, "SELECT inhrelid::regclass::text AS name FROM pg_inherits WHERE inhrelid = ANY($1::oid[]) OR inhparent = ANY($1::oid[])", [relations.map((r) => r.oid)]);
  if (unsupported.length > 0 || inherited.length > 0) {
    const names = [...unsupported.map((r) => r.name), ...inherited.map((r) => r.name)];
    throw new OperationFailedError(
      `database target ${target.name}: ${names.join(", ")} ${names.length === 1 ? "is a partitioned or inherited table" : "are partitioned or inherited tables"}, which the in-process snapshot does not take; install the PostgreSQL client tools (pg_dump) for this target`,
      { target: target.name, tables: names },
    );
  }
  const tables = relations.filter((r) => r.relkind === "r");
  const tableOids = tables.map((t) => t.oid);
  const pre: string[] = [];
  const post: string[] = [];

  if (!byTables) {
    for (const e of await rows<{ name: string; labels: string[] }>(
      client,
      `SELECT format('%I.%I', n.nspname, t.typname) AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid
        WHERE n.nspname = ANY($1::text[]) AND ${notExtension("pg_type", "t")} GROUP BY 1 ORDER BY min(t.oid)`,
      [target.schemas],
    )) {
      pre.push(`CREATE TYPE ${e.name} AS ENUM (${e.labels.map(lit).join(", ")})`);
    }
    for (const d of await rows<{ oid: number; name: string; base: string; notnull: boolean; def: string | null }>(
      client,
      `SELECT t.oid::int AS oid, format('%I.%I', n.nspname, t.typname) AS name, format_type(t.typbasetype, t.typtypmod) AS base, t.typnotnull AS notnull, t.typdefault AS def
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.typtype = 'd' AND n.nspname = ANY($1::text[]) AND ${notExtension("pg_type", "t")} ORDER BY t.oid`,
      [target.schemas],
    )) {
      const checks = await rows<{ conname: string; def: string }>(client, "SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contypid = $1 ORDER BY oid", [d.oid]);
      pre.push(`CREATE DOMAIN ${d.name} AS ${d.base}${d.def ? ` DEFAULT ${d.def}` : ""}${d.notnull ? " NOT NULL" : ""}${checks.map((c) => ` CONSTRAINT ${quoteIdent(c.conname)} ${c.def}`).join("")}`);
    }
    for (const c of await rows<{ name: string; attrs: string[] }>(
      client,
      `SELECT format('%I.%I', n.nspname, t.typname) AS name,
              array_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum) AS attrs
         FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_class r ON r.oid = t.typrelid AND r.relkind = 'c'
         JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE t.typtype = 'c' AND n.nspname = ANY($1::text[]) AND ${notExtension("pg_type", "t")} GROUP BY 1 ORDER BY min(t.oid)`,
      [target.schemas],
    )) {
      pre.push(`CREATE TYPE ${c.name} AS (${c.attrs.join(", ")})`);
    }
  }

  // Sequences: every one of the schemas, or those the selected tables own; identity sequences come with their columns.
  const sequences = await rows<{ oid: number; name: string; type: string; start: string; min: string; max: string; inc: string; cache: string; cycle: boolean; owner_table: string | null; owner_column: string | null }>(
    client,
    `SELECT c.oid::int AS oid, format('%I.%I', n.nspname, c.relname) AS name, format_type(s.seqtypid, NULL) AS type, s.seqstart::text AS start, s.seqmin::text AS min,
            s.seqmax::text AS max, s.seqincrement::text AS inc, s.seqcache::text AS cache, s.seqcycle AS cycle,
            (SELECT d.refobjid::regclass::text FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a' AND d.refobjsubid > 0) AS owner_table,
            (SELECT a.attname FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a' AND d.refobjsubid > 0) AS owner_column
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid
      WHERE c.relkind = 'S' AND ${notExtension("pg_class", "c")}
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')
        AND ${byTables ? "EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a' AND d.refobjid = ANY($1::oid[]))" : "n.nspname = ANY($1::text[])"}
      ORDER BY c.oid`,
    [byTables ? tableOids : target.schemas],
  );
  for (const s of sequences) {
    pre.push(`CREATE SEQUENCE ${s.name} AS ${s.type} INCREMENT BY ${s.inc} MINVALUE ${s.min} MAXVALUE ${s.max} START WITH ${s.start} CACHE ${s.cache}${s.cycle ? " CYCLE" : " NO CYCLE"}`);
    const [state] = await rows<{ last_value: string; is_called: boolean }>(client, `SELECT last_value::text, is_called FROM ${s.name}`);
    if (state) post.push(`SELECT setval(${lit(s.name)}, ${state.last_value}, ${state.is_called})`);
    if (s.owner_table && s.owner_column) post.push(`ALTER SEQUENCE ${s.name} OWNED BY ${s.owner_table}.${quoteIdent(s.owner_column)}`);
  }

  if (!byTables) {
    for (const r of await rows<{ def: string }>(
      client,
      `SELECT pg_get_functiondef(p.oid) AS def FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = ANY($1::text[]) AND p.prokind IN ('f', 'p') AND ${notExtension("pg_proc", "p")} ORDER BY p.oid`,
      [target.schemas],
    )) {
      pre.push(r.def);
    }
  }

  const copyTables: CopyArchiveHeader["tables"] = [];
  const foreignKeys: string[] = [];
  for (const table of tables) {
    const columns = await rows<{ name: string; type: string; notnull: boolean; def: string | null; identity: string; generated: string; collation: string | null }>(
      client,
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull, pg_get_expr(d.adbin, d.adrelid) AS def,
              a.attidentity::text AS identity, a.attgenerated::text AS generated,
              CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation THEN (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END AS collation
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [table.oid],
    );
    const definitions = columns.map((c) => {
      let column = `${quoteIdent(c.name)} ${c.type}${c.collation ? ` COLLATE ${c.collation}` : ""}`;
      if (c.generated === "s" && c.def) column += ` GENERATED ALWAYS AS (${c.def}) STORED`;
      else if (c.identity === "a") column += " GENERATED ALWAYS AS IDENTITY";
      else if (c.identity === "d") column += " GENERATED BY DEFAULT AS IDENTITY";
      else if (c.def) column += ` DEFAULT ${c.def}`;
      return column + (c.notnull ? " NOT NULL" : "");
    });
    pre.push(`CREATE ${table.persistence === "u" ? "UNLOGGED " : ""}TABLE ${table.name} (${definitions.join(", ")})`);
    copyTables.push({ name: table.name, columns: columns.filter((c) => c.generated !== "s").map((c) => c.name) });
    for (const c of columns.filter((c) => c.identity === "a" || c.identity === "d")) {
      const [sequence] = await rows<{ name: string | null }>(client, "SELECT pg_get_serial_sequence($1, $2) AS name", [table.name, c.name]);
      if (!sequence?.name) continue;
      const [state] = await rows<{ last_value: string; is_called: boolean }>(client, `SELECT last_value::text, is_called FROM ${sequence.name}`);
      if (state) post.push(`SELECT setval(pg_get_serial_sequence(${lit(table.name)}, ${lit(c.name)}), ${state.last_value}, ${state.is_called})`);
    }
    for (const c of await rows<{ name: string; type: string; def: string }>(
      client,
      "SELECT conname AS name, contype::text AS type, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1 AND contype IN ('p', 'u', 'c', 'x', 'f') ORDER BY contype = 'f', oid",
      [table.oid],
    )) {
      const statement = `ALTER TABLE ${table.name} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.def}`;
      if (c.type === "f") foreignKeys.push(statement);
      else post.push(statement);
    }
    for (const i of await rows<{ def: string }>(
      client,
      "SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i WHERE i.indrelid = $1 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid) ORDER BY i.indexrelid",
      [table.oid],
    )) {
      post.push(i.def);
    }
  }
  post.push(...foreignKeys);
  for (const table of tables) {
    for (const t of await rows<{ def: string }>(client, "SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgrelid = $1 AND NOT tgisinternal ORDER BY oid", [table.oid])) post.push(t.def);
  }
  for (const view of relations.filter((r) => r.relkind === "v" || r.relkind === "m")) {
    const [def] = await rows<{ def: string }>(client, "SELECT pg_get_viewdef($1::oid) AS def", [view.oid]);
    if (def) post.push(`CREATE ${view.relkind === "m" ? "MATERIALIZED VIEW" : "VIEW"} ${view.name} AS ${def.def.replace(/;\s*$/, "")}`);
  }
  return { target: target.name, pre, tables: copyTables, post };
}

async function writeAll(out: NodeJS.WritableStream, data: Buffer | string): Promise<void> {
  if (!out.write(data)) await once(out, "drain");
}

/** Writes the in-process snapshot of the selection to `file`. The caller holds the repeatable-read transaction. */
export async function dumpWithCopy(client: pg.Client, target: PostgresTarget, file: string): Promise<void> {
  const header = await readDefinitions(client, target);
  const out = createWriteStream(file, { flags: "wx", mode: 0o600 });
  const closed = once(out, "close");
  try {
    const headerBytes = Buffer.from(JSON.stringify(header), "utf8");
    await writeAll(out, `${MAGIC}${headerBytes.length}\n`);
    await writeAll(out, headerBytes);
    for (const table of header.tables) {
      const columns = table.columns.map(quoteIdent).join(", ");
      const stream = client.query(copyTo(`COPY ${table.name} (${columns}) TO STDOUT`));
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        await writeAll(out, `${chunk.length}\n`);
        await writeAll(out, chunk);
      }
      await writeAll(out, "0\n");
    }
  } finally {
    out.end();
    await closed;
  }
}

/** Sequential reads of the archive file: lines and exact byte counts. */
class ArchiveReader {
  private buffer = Buffer.alloc(0);
  private position = 0;
  private constructor(private readonly handle: fsp.FileHandle) {}

  static async open(file: string): Promise<ArchiveReader> {
    return new ArchiveReader(await fsp.open(file, "r"));
  }

  private async fill(min: number): Promise<void> {
    while (this.buffer.length < min) {
      const chunk = Buffer.allocUnsafe(Math.max(1 << 20, min - this.buffer.length));
      const { bytesRead } = await this.handle.read(chunk, 0, chunk.length, this.position);
      if (bytesRead === 0) throw new OperationFailedError("the in-process PostgreSQL snapshot ends early: it is damaged", { format: "pg_copy" });
      this.position += bytesRead;
      this.buffer = Buffer.concat([this.buffer, chunk.subarray(0, bytesRead)]);
    }
  }

  async line(): Promise<string> {
    for (;;) {
      const newline = this.buffer.indexOf(10);
      if (newline >= 0) {
        const text = this.buffer.subarray(0, newline).toString("utf8");
        this.buffer = this.buffer.subarray(newline + 1);
        return text;
      }
      await this.fill(this.buffer.length + 1);
    }
  }

  async bytes(n: number): Promise<Buffer> {
    await this.fill(n);
    const out = Buffer.from(this.buffer.subarray(0, n));
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** One statement of the restore; a lock wait it gives up (lock_timeout) names what it waited for. */
async function runStatement(client: pg.Client, statement: string): Promise<void> {
  await client.query(statement).catch((error: unknown) => {
    throw isLockTimeout(error) ? new LockWaitError(waitedForIn(statement)) : error;
  });
}

/**
 * Replays an in-process snapshot into the database, inside the caller's
 * transaction: `prologue` (the replacement plan's drops), the definitions, the
 * rows, the constraints and views, then `epilogue`.
 */
export async function restoreWithCopy(client: pg.Client, file: string, plan: { prologue: string[]; epilogue: string[] }): Promise<void> {
  const reader = await ArchiveReader.open(file);
  try {
    if ((await reader.line()) + "\n" !== MAGIC) throw new OperationFailedError("the snapshot is not an in-process PostgreSQL snapshot", { format: "pg_copy" });
    const header = JSON.parse((await reader.bytes(Number(await reader.line()))).toString("utf8")) as CopyArchiveHeader;
    for (const statement of [...plan.prologue, ...header.pre]) await runStatement(client, statement);
    for (const table of header.tables) {
      const input = client.query(copyFrom(`COPY ${table.name} (${table.columns.map(quoteIdent).join(", ")}) FROM STDIN`));
      const finished = new Promise<void>((resolve, reject) => {
        input.once("finish", resolve);
        input.once("error", reject);
      });
      for (let size = Number(await reader.line()); size > 0; size = Number(await reader.line())) {
        await writeAll(input, await reader.bytes(size));
      }
      input.end();
      await finished;
    }
    for (const statement of [...header.post, ...plan.epilogue]) await runStatement(client, statement);
  } finally {
    await reader.close();
  }
}
