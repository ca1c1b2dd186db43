/**
 * Which metadata store the tests run on. `npm test` runs the engine, CLI and HTTP
 * suites once on SQLite (the default) and once with PostgreSQL as the metadata
 * store (`SAFETYNET_TEST_METADATA=postgres`, see test/support/postgres-pass.ts):
 * then every data directory a test makes gets its own schema in one database made
 * for the run, named after the data directory, so the CLI processes, the servers
 * and the in-process cores a test opens on it all share it, and no test sees
 * another's components.
 */
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import path from "node:path";
import { urlWithSchema, withPostgres } from "./postgres";

/** Set by the PostgreSQL pass's global setup: the database made for this run. */
export const METADATA_DATABASE_ENV = "SAFETYNET_TEST_METADATA_URL";

export function onPostgresPass(): boolean {
  return Boolean(process.env[METADATA_DATABASE_ENV]);
}

/** The metadata database URL of a data directory on the PostgreSQL pass; undefined on SQLite. */
export function metadataUrlFor(dataDir: string): string | undefined {
  const base = process.env[METADATA_DATABASE_ENV];
  if (!base) return undefined;
  return urlWithSchema(base, `t_${createHash("sha256").update(dataDir).digest("hex").slice(0, 24)}`);
}

/** What a process working on `dataDir` needs in its environment: SAFETYNET_DATABASE_URL on the PostgreSQL pass (SQLite wins over an inherited DATABASE_URL otherwise). */
export function metadataEnvFor(dataDir: string): Record<string, string> {
  return { SAFETYNET_DATABASE_URL: metadataUrlFor(dataDir) ?? "sqlite" };
}

/** The name of the schema a data directory's metadata lives in on the PostgreSQL pass. */
function schemaFor(dataDir: string): string {
  return new URL(metadataUrlFor(dataDir) as string).searchParams.get("schema") as string;
}

/** Loses a data directory's metadata database the way an operator might: the SQLite file deleted, or the PostgreSQL schema dropped. */
export async function loseMetadataDatabase(dataDir: string): Promise<void> {
  if (!onPostgresPass()) {
    for (const name of ["safetynet.db", "safetynet.db-wal", "safetynet.db-shm"]) rmSync(path.join(dataDir, name), { force: true });
    return;
  }
  await withPostgres((client) => client.query(`DROP SCHEMA IF EXISTS "${schemaFor(dataDir)}" CASCADE`), process.env[METADATA_DATABASE_ENV]);
}

/**
 * Registers a component straight in the metadata database, past every check the
 * product makes: what an older version may have left there.
 */
export async function insertComponentRow(dataDir: string, row: { id: string; name: string; root: string }): Promise<void> {
  if (!onPostgresPass()) {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(path.join(dataDir, "safetynet.db"));
    try {
      db.prepare("INSERT INTO Component (id, name, root, include, exclude, metadata, createdAt, updatedAt) VALUES (?, ?, ?, '[]', '[]', '{}', 0, 0)").run(row.id, row.name, row.root);
    } finally {
      db.close();
    }
    return;
  }
  await withPostgres(
    (client) =>
      client.query(`INSERT INTO "${schemaFor(dataDir)}"."Component" (id, name, root, include, exclude, metadata, "createdAt", "updatedAt") VALUES ($1, $2, $3, '[]', '[]', '{}', now(), now())`, [row.id, row.name, row.root]),
    process.env[METADATA_DATABASE_ENV],
  );
}
