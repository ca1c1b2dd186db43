/**
 * The real PostgreSQL the tests use (127.0.0.1:5432 on these machines; `.ci/run`
 * starts it when it is not running): fresh schemas or databases per test, dropped
 * afterwards, so tests never see each other's tables.
 *
 *   SAFETYNET_TEST_POSTGRES_URL   the server and database to use (default postgresql://postgres@127.0.0.1:5432/test)
 */
import { randomBytes } from "node:crypto";
import pg from "pg";

export const TEST_POSTGRES_URL = process.env.SAFETYNET_TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

/** `url` with its database replaced (and no query string). */
export function urlWithDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  parsed.search = "";
  return parsed.toString();
}

export function urlWithSchema(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set("schema", schema);
  return parsed.toString();
}

/** A name no other test (or test run) uses: lower case, safe as an unquoted identifier. */
export function uniqueName(label: string): string {
  return `sn_${label.replace(/[^a-z0-9]/gi, "_").toLowerCase()}_${process.pid}_${randomBytes(4).toString("hex")}`;
}

/** Runs statements on the test server, one connection, then closes it. */
export async function withPostgres<T>(fn: (client: pg.Client) => Promise<T>, url: string = TEST_POSTGRES_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${new URL(url).host} (${(error as Error).message}): these tests need the real server; start it (.ci/run does: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)`,
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A new, empty database on the test server; `drop()` removes it (ending its sessions first). */
export async function createTestDatabase(label: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = uniqueName(label);
  await withPostgres((client) => client.query(`CREATE DATABASE ${name}`));
  return {
    name,
    url: urlWithDatabase(TEST_POSTGRES_URL, name),
    drop: () =>
      withPostgres(async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }),
  };
}

/** Drops a schema of the test database (and everything in it). */
export async function dropSchema(schema: string, url: string = TEST_POSTGRES_URL): Promise<void> {
  await withPostgres((client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`), url);
}
