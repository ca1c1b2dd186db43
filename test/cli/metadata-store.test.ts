/**
 * Where the metadata lives, as the CLI sees it: SQLite in the data directory by
 * default, PostgreSQL when DATABASE_URL (or SAFETYNET_DATABASE_URL) is a
 * postgresql:// URL; a data directory keeps the store it was made with, and an
 * unreachable metadata database is named.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, urlWithSchema, withPostgres } from "../support/postgres";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, jsonOf, makeWorkspaceDirs, runCli, type CliErrorJson } from "../support/workspace";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

let metadata: { name: string; url: string; drop(): Promise<void> };
beforeAll(async () => {
  metadata = await createTestDatabase("cli_metadata");
});
afterAll(async () => {
  await metadata?.drop();
});

/** The environment of a process configured with these variables only (the test pass's own setting removed). */
const only = (env: Record<string, string | undefined>) => ({ env: { SAFETYNET_DATABASE_URL: undefined, DATABASE_URL: undefined, ...env } });

describe("the metadata store", () => {
  it("is SQLite by default, and a data directory made with it refuses a process configured for PostgreSQL, saying how to fix it", async () => {
    const ws = makeWorkspaceDirs("meta-sqlite");
    await cliJson(ws, ["component", "add", "app", "--root", ws.root], 0, only({}));
    // Another application's DATABASE_URL: not a postgresql:// one is ignored.
    expect((await cliJson<{ items: unknown[] }>(ws, ["component", "list"], 0, only({ DATABASE_URL: "file:./dev.db" }))).items).toHaveLength(1);
    const refused = await runCli(ws, ["component", "list", "--json"], only({ DATABASE_URL: metadata.url }));
    expect(refused.status).toBe(1);
    expect(jsonOf<CliErrorJson>(refused).error.message).toMatch(
      /^the data directory .* keeps its metadata in SQLite \(safetynet\.db in the data directory\), but this process is configured for PostgreSQL \(database sn_cli_metadata_\w+\?schema=safetynet\): unset DATABASE_URL for Safety Net \(or set SAFETYNET_DATABASE_URL=sqlite, which wins over DATABASE_URL\)$/,
    );
    expect((await cliJson<{ items: unknown[] }>(ws, ["component", "list"], 0, only({ DATABASE_URL: metadata.url, SAFETYNET_DATABASE_URL: "sqlite" }))).items).toHaveLength(1);
  });

  it("is PostgreSQL when DATABASE_URL says so: in the `safetynet` schema unless the URL names one, and the data directory then requires it", async () => {
    const ws = makeWorkspaceDirs("meta-postgres");
    await cliJson(ws, ["component", "add", "app", "--root", ws.root], 0, only({ DATABASE_URL: metadata.url }));
    const rows = await withPostgres((client) => client.query<{ name: string }>('SELECT name FROM safetynet."Component"'), metadata.url);
    expect(rows.rows).toEqual([{ name: "app" }]);
    const other = makeWorkspaceDirs("meta-postgres-schema");
    await cliJson(other, ["component", "add", "web", "--root", other.root], 0, only({ SAFETYNET_DATABASE_URL: urlWithSchema(metadata.url, "team_b") }));
    expect((await withPostgres((client) => client.query<{ name: string }>('SELECT name FROM team_b."Component"'), metadata.url)).rows).toEqual([{ name: "web" }]);

    const withoutIt = await runCli(ws, ["component", "list", "--json"], only({}));
    expect(withoutIt.status).toBe(1);
    expect(jsonOf<CliErrorJson>(withoutIt).error.message).toMatch(/keeps its metadata in PostgreSQL \(database sn_cli_metadata_\w+\?schema=safetynet\), but this process is configured for SQLite/);
    const invalid = await runCli(ws, ["component", "list", "--json"], only({ SAFETYNET_DATABASE_URL: "mysql://x/y" }));
    expect(invalid.status).toBe(2);
    expect(jsonOf<CliErrorJson>(invalid).error.message).toBe("SAFETYNET_DATABASE_URL must be a postgresql:// URL, or `sqlite` for the data directory's own database");
  });

  it("names the metadata database when it cannot be reached, without its password", async () => {
    const ws = makeWorkspaceDirs("meta-unreachable");
    const result = await runCli(ws, ["component", "list", "--json"], only({ SAFETYNET_DATABASE_URL: "postgresql://safetynet:s3cret@127.0.0.1:1/ops?schema=safetynet" }));
    expect(result.status).toBe(1);
    const message = jsonOf<CliErrorJson>(result).error.message;
    expect(message).toBe("the metadata database 127.0.0.1:1/ops?schema=safetynet: the server refused the connection (is PostgreSQL running, on that host and port?)");
    expect(result.stdout + result.stderr).not.toContain("s3cret");
  });
});
