/**
 * The few raw SQL pieces that differ between the metadata stores, for the queries
 * Prisma's query API cannot express (grouping by day, a JSON key in a join). SQLite
 * keeps timestamps as ISO 8601 text and JSON as text; PostgreSQL keeps timestamps
 * (UTC, no zone) and jsonb, and its tables live in the configured schema.
 */
import { Prisma } from "../generated/prisma/client";
import { metadataStore } from "../db";

export interface SqlDialect {
  /** A metadata table, qualified where the store needs it. */
  table(name: string): Prisma.Sql;
  /** The UTC day (YYYY-MM-DD) of a timestamp column. */
  utcDay(column: string): Prisma.Sql;
  /** The text of one key of a JSON column (`column` or `alias.column`). */
  jsonText(column: string, key: string): Prisma.Sql;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `column` or `alias.column`, quoted. Identifiers come from this code, never from
 * input; checked anyway so a slip cannot become injection.
 */
function quoted(identifier: string): string {
  return identifier
    .split(".")
    .map((part) => {
      if (!IDENTIFIER.test(part)) throw new Error(`not an SQL identifier: ${identifier}`);
      return `"${part}"`;
    })
    .join(".");
}

const sqlite: SqlDialect = {
  table: (name) => Prisma.raw(quoted(name)),
  utcDay: (column) => Prisma.raw(`substr(${quoted(column)}, 1, 10)`),
  jsonText: (column, key) => Prisma.raw(`json_extract(${quoted(column)}, '$.${key.replace(/[^A-Za-z0-9_]/g, "")}')`),
};

function postgres(schema: string): SqlDialect {
  return {
    table: (name) => Prisma.raw(`${quoted(schema)}.${quoted(name)}`),
    utcDay: (column) => Prisma.raw(`to_char(${quoted(column)}, 'YYYY-MM-DD')`),
    jsonText: (column, key) => Prisma.raw(`(${quoted(column)} ->> '${key.replace(/[^A-Za-z0-9_]/g, "")}')`),
  };
}

export function sqlDialect(dataDir: string): SqlDialect {
  const store = metadataStore(dataDir);
  return store?.kind === "postgres" ? postgres(store.schema) : sqlite;
}
