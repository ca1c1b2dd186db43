/**
 * "Contains" filters that mean the same on both metadata stores. SQLite's LIKE is
 * case-insensitive (ASCII) and reads JSON paths as "$.key"; PostgreSQL's is
 * case-sensitive unless asked (`mode: "insensitive"`, ILIKE) and reads JSON paths
 * as key arrays. The Prisma types are SQLite's (one client type serves both), so
 * the PostgreSQL shapes are cast here, in one place.
 */
import type { Prisma } from "../generated/prisma/client";
import { metadataStore } from "../db";

export interface TextMatcher {
  /** A case-insensitive "contains" filter on a text column. */
  text(needle: string): Prisma.StringFilter;
  /** A case-insensitive "contains" filter on one string key of a JSON column. */
  jsonKey(key: string, needle: string): Prisma.JsonFilter;
}

const sqliteMatcher: TextMatcher = {
  text: (needle) => ({ contains: needle }),
  jsonKey: (key, needle) => ({ path: `$.${key}`, string_contains: needle }),
};

const postgresMatcher: TextMatcher = {
  text: (needle) => ({ contains: needle, mode: "insensitive" }) as Prisma.StringFilter,
  // Prisma has no case-insensitive JSON string filter: on PostgreSQL, agent and task match with their case.
  jsonKey: (key, needle) => ({ path: [key], string_contains: needle }) as unknown as Prisma.JsonFilter,
};

export function textMatcher(dataDir: string): TextMatcher {
  return metadataStore(dataDir)?.kind === "postgres" ? postgresMatcher : sqliteMatcher;
}
