/**
 * Where a data directory keeps its metadata: the SQLite file inside it (the
 * default), or a PostgreSQL schema shared by several server instances. The data
 * directory remembers which (`metadata-store`), so a process started with a
 * different setting (a DATABASE_URL exported for an application, a missing one on
 * another host) is refused instead of silently working on other metadata.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../atomic-file";
import { InvalidInputError, OperationFailedError } from "../errors";

export type MetadataStore =
  | { kind: "sqlite"; file: string }
  | {
      kind: "postgres";
      /** The URL for the driver, without the `schema` parameter. */
      connectionString: string;
      schema: string;
      /** host:port/database?schema=...: no user, no password (for messages and the marker). */
      display: string;
      /** database and schema: what two instances must agree on (hosts may name the server differently). */
      identity: string;
    };

/** The schema the metadata tables live in unless the URL names one: never an application's `public`. */
export const DEFAULT_METADATA_SCHEMA = "safetynet";

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export const SQLITE_FILE = "safetynet.db";

export function sqliteStore(dataDir: string): Extract<MetadataStore, { kind: "sqlite" }> {
  return { kind: "sqlite", file: path.join(dataDir, SQLITE_FILE) };
}

export function postgresStore(url: string): Extract<MetadataStore, { kind: "postgres" }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidInputError("the metadata database URL is not a valid URL (expected postgresql://user:password@host:5432/database?schema=safetynet)", { field: "DATABASE_URL" });
  }
  const schema = parsed.searchParams.get("schema") ?? DEFAULT_METADATA_SCHEMA;
  if (!SCHEMA_NAME.test(schema)) throw new InvalidInputError(`the metadata database URL names an invalid schema "${schema}" (letters, digits and _)`, { field: "DATABASE_URL" });
  parsed.searchParams.delete("schema");
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, "")) || "postgres";
  return {
    kind: "postgres",
    connectionString: parsed.toString(),
    schema,
    display: `${parsed.host}/${database}?schema=${schema}`,
    identity: `postgresql:${database}?schema=${schema}`,
  };
}

export function metadataStoreOf(dataDir: string, databaseUrl: string | undefined): MetadataStore {
  return databaseUrl ? postgresStore(databaseUrl) : sqliteStore(dataDir);
}

function markerPath(dataDir: string): string {
  return path.join(dataDir, "metadata-store");
}

function identityOf(store: MetadataStore): string {
  return store.kind === "sqlite" ? "sqlite" : store.identity;
}

function describe(identity: string): string {
  return identity === "sqlite" ? "SQLite (safetynet.db in the data directory)" : `PostgreSQL (${identity.replace(/^postgresql:/, "database ")})`;
}

/**
 * Refuses a data directory that keeps its metadata elsewhere than `store`.
 * `hasSqliteFile`: the data directory already holds a SQLite database (made before
 * the marker existed). Returns whether the data directory has yet to record its
 * store (recordDataDirStore, once the store is known to work).
 */
export function checkDataDirStore(dataDir: string, store: MetadataStore, hasSqliteFile: boolean): { unrecorded: boolean } {
  let marker: string | null = null;
  try {
    marker = readFileSync(markerPath(dataDir), "utf8").trim();
  } catch {
    // No marker yet: a data directory from before it existed, or a new one.
  }
  const recorded = marker ?? (hasSqliteFile ? "sqlite" : null);
  const wanted = identityOf(store);
  if (recorded !== null && recorded !== wanted) {
    throw new OperationFailedError(
      `the data directory ${dataDir} keeps its metadata in ${describe(recorded)}, but this process is configured for ${describe(wanted)}: ` +
        (recorded === "sqlite"
          ? "unset DATABASE_URL for Safety Net (or set SAFETYNET_DATABASE_URL=sqlite, which wins over DATABASE_URL)"
          : "set SAFETYNET_DATABASE_URL (or DATABASE_URL) to that database, as the other instances have it"),
      { dataDir, recorded, configured: wanted },
    );
  }
  return { unrecorded: marker === null };
}

export function recordDataDirStore(dataDir: string, store: MetadataStore): void {
  writeFileAtomic(markerPath(dataDir), identityOf(store) + "\n");
}
