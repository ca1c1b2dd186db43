/**
 * Database targets of a component, written as one string each (the CLI's
 * `--db`, the API's `dbTargets`, what the component stores and what checkpoints
 * name):
 *
 *   sqlite:<path>                                   a SQLite file, relative to the component root
 *   postgres:<ENV_VAR>[?schema=a,b][&tables=t,s.u]  a PostgreSQL database whose URL is in the
 *                                                   environment variable ENV_VAR (the URL, and its
 *                                                   password, are never stored); the schemas to
 *                                                   take whole (default public), or only some tables
 *
 * parseDbTarget validates one and returns it with its canonical spelling, the
 * name everything else uses for it.
 */
import { InvalidInputError } from "../errors";
import { normalizeRelativePath } from "../scan/paths";

export interface SqliteTarget {
  engine: "sqlite";
  /** The canonical spec: "sqlite:<path>". */
  name: string;
  /** Root-relative POSIX path of the database file. */
  path: string;
}

export interface PostgresTarget {
  engine: "postgres";
  /** The canonical spec: "postgres:<ENV>?schema=..." or "postgres:<ENV>?tables=...". */
  name: string;
  /** The environment variable that holds the connection URL, read where the snapshot or restore runs. */
  urlEnv: string;
  /** Schemas taken whole (when `tables` is empty), or the schemas of `tables`. */
  schemas: string[];
  /** Schema-qualified tables ("public.users"); empty: the whole schemas. */
  tables: string[];
}

export type DbTarget = SqliteTarget | PostgresTarget;

/** Unquoted PostgreSQL identifiers, as migrations name things; anything else is refused rather than guessed. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
export const MAX_DB_TARGETS = 16;

function refuse(spec: string, why: string): InvalidInputError {
  return new InvalidInputError(`database target "${spec}": ${why}`, { field: "dbTargets", target: spec });
}

function parseSqlite(spec: string, rest: string): SqliteTarget {
  let path: string;
  try {
    path = normalizeRelativePath(rest);
  } catch (error) {
    throw refuse(spec, `${(error as Error).message} (a SQLite target is a file inside the component root, e.g. sqlite:data/memory.db)`);
  }
  if (path === "") throw refuse(spec, "the path names the component root itself, not a database file");
  return { engine: "sqlite", name: `sqlite:${path}`, path };
}

function splitList(value: string): string[] {
  return value
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
}

function parsePostgres(spec: string, rest: string): PostgresTarget {
  if (/^\/\/|^postgres(ql)?:/i.test(rest) || rest.includes("@")) {
    throw refuse(spec, "give the name of an environment variable that holds the connection URL (postgres:APP_DATABASE_URL), never the URL itself: it would store the password");
  }
  const question = rest.indexOf("?");
  const urlEnv = question < 0 ? rest : rest.slice(0, question);
  if (!ENV_NAME.test(urlEnv)) throw refuse(spec, `"${urlEnv}" is not an environment variable name (letters, digits and _, e.g. APP_DATABASE_URL)`);
  const schemas: string[] = [];
  const tableNames: string[] = [];
  const query = question < 0 ? "" : rest.slice(question + 1);
  for (const pair of query.split("&").filter(Boolean)) {
    const eq = pair.indexOf("=");
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? "" : decodeURIComponent(pair.slice(eq + 1));
    if (key === "schema" || key === "schemas") schemas.push(...splitList(value));
    else if (key === "tables" || key === "table") tableNames.push(...splitList(value));
    else throw refuse(spec, `unknown option "${key}" (known: schema, tables)`);
    if (splitList(value).length === 0) throw refuse(spec, `"${key}" needs a value`);
  }
  for (const schema of schemas) if (!IDENTIFIER.test(schema)) throw refuse(spec, `"${schema}" is not a schema name (letters, digits, _ and $)`);
  const tables: string[] = [];
  for (const table of tableNames) {
    const parts = table.split(".");
    if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) throw refuse(spec, `"${table}" is not a table name (table or schema.table; letters, digits, _ and $)`);
    if (parts.length === 2) tables.push(table);
    else if (schemas.length > 1) throw refuse(spec, `table "${table}" is ambiguous between the schemas ${schemas.join(", ")}: write schema.${table}`);
    else tables.push(`${schemas[0] ?? "public"}.${table}`);
  }
  const uniqueTables = [...new Set(tables)].sort();
  const wholeSchemas = uniqueTables.length > 0 ? [...new Set(uniqueTables.map((t) => t.split(".")[0] as string))].sort() : [...new Set(schemas.length > 0 ? schemas : ["public"])].sort();
  const name = uniqueTables.length > 0 ? `postgres:${urlEnv}?tables=${uniqueTables.join(",")}` : `postgres:${urlEnv}?schema=${wholeSchemas.join(",")}`;
  return { engine: "postgres", name, urlEnv, schemas: wholeSchemas, tables: uniqueTables };
}

export function parseDbTarget(spec: string): DbTarget {
  const trimmed = spec.trim();
  const colon = trimmed.indexOf(":");
  const engine = colon < 0 ? "" : trimmed.slice(0, colon).toLowerCase();
  const rest = colon < 0 ? "" : trimmed.slice(colon + 1);
  if (engine === "sqlite") return parseSqlite(spec, rest);
  if (engine === "postgres" || engine === "postgresql") return parsePostgres(spec, rest);
  throw refuse(spec, "expected sqlite:<path inside the component root> or postgres:<ENV_VAR>[?schema=public][&tables=a,b]");
}

/** Parses a component's target list: canonical, no duplicates, at most MAX_DB_TARGETS. */
export function parseDbTargets(specs: readonly string[]): DbTarget[] {
  if (specs.length > MAX_DB_TARGETS) throw new InvalidInputError(`a component has at most ${MAX_DB_TARGETS} database targets`, { field: "dbTargets" });
  const targets = specs.map(parseDbTarget);
  const seen = new Set<string>();
  for (const target of targets) {
    if (seen.has(target.name)) throw refuse(target.name, "listed twice");
    seen.add(target.name);
  }
  return targets;
}

/** The temp sibling a SQLite file is replaced through (sqlite-raw.ts): `<path>-safetynet-tmp`. */
export const REPLACEMENT_SUFFIX = "-safetynet-tmp";

/**
 * Root-relative files that belong to SQLite targets (the database, its journals, and
 * the temp sibling a replacement is written to: sqlite-raw.ts): the file scan leaves them to the database snapshot.
 */
export function databaseFilePaths(targets: readonly DbTarget[]): string[] {
  return targets.filter((t): t is SqliteTarget => t.engine === "sqlite").flatMap((t) => [t.path, `${t.path}-wal`, `${t.path}-shm`, `${t.path}-journal`, `${t.path}${REPLACEMENT_SUFFIX}`]);
}
