/**
 * What differs between the metadata stores in the queries that must say it: raw
 * SQL pieces for what Prisma's query API cannot express (grouping by day, a JSON
 * key in a join), and "contains" filters that mean the same on both. SQLite keeps
 * timestamps as ISO 8601 text and JSON as text, its LIKE ignores (ASCII) case and
 * its JSON paths read "$.key"; PostgreSQL keeps timestamps (UTC, no zone) and
 * jsonb in the configured schema, matches case only when asked
 * (`mode: "insensitive"`) and reads JSON paths as key arrays. The Prisma types are
 * SQLite's (one client type serves both), so PostgreSQL's filter shapes are cast here.
 */
import { Prisma } from "../generated/prisma/client";
import { metadataStore } from "../db";

export interface SqlDialect {
  /** A metadata table, qualified where the store needs it. */
  table(name: string): Prisma.Sql;
  /** The UTC day (YYYY-MM-DD) of a timestamp column. */
  utcDay(column: string): Prisma.Sql;
  /** The UTC quarter hour (YYYY-MM-DDTHH:mm, minutes 00, 15, 30 or 45) a timestamp column falls in. */
  utcQuarterHour(column: string): Prisma.Sql;
  /** The text of one key of a JSON column (`column` or `alias.column`). */
  jsonText(column: string, key: string): Prisma.Sql;
  /** One key of a JSON column when it holds a string; NULL for any other value or none. */
  jsonString(column: string, key: string): Prisma.Sql;
  /** A timestamp parameter that compares with timestamp columns as the store keeps them. */
  timestamp(at: Date): Prisma.Sql;
  /** A case-insensitive "contains" filter on a text column. */
  contains(needle: string): Prisma.StringFilter;
  /** A "contains" filter on one string key of a JSON column (case-sensitive on PostgreSQL: Prisma has no other). */
  jsonKeyContains(key: string, needle: string): Prisma.JsonFilter;
  /** One key of a JSON column equal to this string. */
  jsonKeyEquals(key: string, value: string): Prisma.JsonFilter;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `column` or `alias.column`, quoted. Identifiers come from this code, never from
 * input; checked anyway so a slip cannot become injection.
 */
function identifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not an SQL identifier: ${name}`);
  return name;
}

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
  utcQuarterHour: (column) => Prisma.raw(`substr(${quoted(column)}, 1, 14) || printf('%02d', (CAST(substr(${quoted(column)}, 15, 2) AS INTEGER) / 15) * 15)`),
  jsonText: (column, key) => Prisma.raw(`json_extract(${quoted(column)}, '$.${identifier(key)}')`),
  jsonString: (column, key) =>
    Prisma.raw(`(CASE WHEN json_type(${quoted(column)}, '$.${identifier(key)}') = 'text' THEN json_extract(${quoted(column)}, '$.${identifier(key)}') END)`),
  // Prisma writes SQLite timestamps as fixed-width ISO 8601 text ending in +00:00, so text order is time order.
  timestamp: (at) => Prisma.sql`${at.toISOString().replace(/Z$/, "+00:00")}`,
  contains: (needle) => ({ contains: needle }),
  jsonKeyContains: (key, needle) => ({ path: `$.${key}`, string_contains: needle }),
  jsonKeyEquals: (key, value) => ({ path: `$.${identifier(key)}`, equals: value }),
};

function postgres(schema: string): SqlDialect {
  return {
    table: (name) => Prisma.raw(`${quoted(schema)}.${quoted(name)}`),
    utcDay: (column) => Prisma.raw(`to_char(${quoted(column)}, 'YYYY-MM-DD')`),
    utcQuarterHour: (column) =>
      Prisma.raw(`to_char(date_trunc('hour', ${quoted(column)}) + make_interval(mins => (floor(extract(minute from ${quoted(column)}) / 15) * 15)::int), 'YYYY-MM-DD"T"HH24:MI')`),
    jsonText: (column, key) => Prisma.raw(`(${quoted(column)} ->> '${identifier(key)}')`),
    jsonString: (column, key) =>
      Prisma.raw(`(CASE WHEN jsonb_typeof(${quoted(column)} -> '${identifier(key)}') = 'string' THEN ${quoted(column)} ->> '${identifier(key)}' END)`),
    // Timestamps are kept in UTC without a zone: the zone of the ISO text is dropped by the cast.
    timestamp: (at) => Prisma.sql`CAST(${at.toISOString()} AS timestamp(3))`,
    contains: (needle) => ({ contains: needle, mode: "insensitive" }) as Prisma.StringFilter,
    jsonKeyContains: (key, needle) => ({ path: [key], string_contains: needle }) as unknown as Prisma.JsonFilter,
    jsonKeyEquals: (key, value) => ({ path: [identifier(key)], equals: value }) as unknown as Prisma.JsonFilter,
  };
}

export function sqlDialect(dataDir: string): SqlDialect {
  const store = metadataStore(dataDir);
  return store?.kind === "postgres" ? postgres(store.schema) : sqlite;
}
