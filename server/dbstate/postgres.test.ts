/**
 * PostgreSQL targets against the real server: snapshot, a destructive migration,
 * restore, with pg_dump and with the in-process snapshot; and every way it must
 * refuse with nothing changed.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ConflictError, InvalidInputError, NotFoundError, OperationFailedError } from "../errors";
import { ObjectStore } from "../store/object-store";
import { sha256Hex } from "../store/sha256";
import { createAppDatabase, databaseContents, DESTRUCTIVE_MIGRATION_SQL, runSql, type AppDatabase } from "../../test/support/app-database";
import { withPostgres } from "../../test/support/postgres";
import { cleanUpAfterEach, makeTempDir } from "../../test/support/workspace";
import { assertPostgresRestorable, livePostgresState, restorePostgres, snapshotPostgres } from "./postgres";
import { parseDbTarget, type PostgresTarget } from "./targets";

cleanUpAfterEach();

const ENV = "SN_TEST_APP_DATABASE_URL";
let app: AppDatabase;
let store: ObjectStore;
const previous = { bin: process.env.SAFETYNET_PG_BIN, lock: process.env.SAFETYNET_DB_LOCK_TIMEOUT_MS };

beforeAll(async () => {
  app = await createAppDatabase("dbstate");
});
afterAll(async () => {
  await app.drop();
});
beforeEach(async () => {
  // Each test starts from the application's own state.
  await runSql(app.url, "DROP SCHEMA IF EXISTS public CASCADE; DROP SCHEMA IF EXISTS audit CASCADE; CREATE SCHEMA public;");
  await runSql(app.url, (await import("../../test/support/app-database")).APP_SCHEMA_SQL);
  process.env[ENV] = app.url;
  store = new ObjectStore(path.join(makeTempDir("dbstate-pg"), "store"));
  store.init();
});
afterEach(() => {
  delete process.env[ENV];
  for (const [key, value] of [["SAFETYNET_PG_BIN", previous.bin], ["SAFETYNET_DB_LOCK_TIMEOUT_MS", previous.lock]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

const publicSchema = () => parseDbTarget(`postgres:${ENV}?schema=public`) as PostgresTarget;

describe.each([
  { tools: "pg_dump", bin: undefined, format: "pg_dump" },
  { tools: "the in-process snapshot (no client tools)", bin: "none", format: "pg_copy" },
])("PostgreSQL targets with $tools", ({ bin, format }) => {
  beforeEach(() => {
    if (bin) process.env.SAFETYNET_PG_BIN = bin;
  });

  it("puts the schema back after a destructive migration: dropped column, deleted rows, added table, dropped type; the checksum is equal", async () => {
    const before = await databaseContents(app.url, ["public"]);
    const { snapshot } = await snapshotPostgres(store, publicSchema());
    expect(snapshot).toMatchObject({ engine: "postgres", format, state: "present", target: `postgres:${ENV}?schema=public` });
    expect(sha256Hex(store.readBuffer(snapshot.sha256 as string))).toBe(snapshot.sha256);
    expect(snapshot.tables).toEqual([
      { name: "public.orders", rows: 1000, columns: ["id", "user_id", "total", "doubled"] },
      { name: "public.users", rows: 200, columns: ["id", "email", "mood", "created"] },
    ]);

    await runSql(app.url, DESTRUCTIVE_MIGRATION_SQL);
    const live = await livePostgresState(publicSchema());
    expect(live.tables.map((t) => t.name)).toEqual(["public.orders", "public.settings", "public.users"]);

    await restorePostgres(store, publicSchema(), snapshot);
    expect(await databaseContents(app.url, ["public"])).toBe(before);
    // The other schema is not the target's (its deleted rows stay deleted); its foreign key onto users had to come back.
    const audit = await withPostgres((c) => c.query("SELECT conname FROM pg_constraint WHERE conrelid = 'audit.logins'::regclass AND contype = 'f'"), app.url);
    expect(audit.rows).toEqual([{ conname: "logins_user_id_fkey" }]);
  });

  it("restores only the named tables of a table target", async () => {
    const target = parseDbTarget(`postgres:${ENV}?tables=orders`) as PostgresTarget;
    const ordersBefore = await withPostgres((c) => c.query("SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) AS sum FROM orders t"), app.url);
    // The view on orders lies outside a target that holds only orders: the rollback must refuse rather than drop it.
    await runSql(app.url, "DROP VIEW big_orders");
    const { snapshot } = await snapshotPostgres(store, target);
    expect(snapshot.tables.map((t) => t.name)).toEqual(["public.orders"]);
    await runSql(app.url, "DELETE FROM orders WHERE id % 2 = 0; ALTER TABLE orders DROP COLUMN doubled; INSERT INTO users (email) VALUES ('new@example.com')");
    await restorePostgres(store, target, snapshot);
    const ordersAfter = await withPostgres((c) => c.query("SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) AS sum FROM orders t"), app.url);
    expect(ordersAfter.rows).toEqual(ordersBefore.rows);
    // users is not in the target: the new user stays.
    const users = await withPostgres((c) => c.query("SELECT count(*)::int AS n FROM users"), app.url);
    expect(users.rows[0]).toEqual({ n: 201 });
  });
});

describe("PostgreSQL targets: refusals, with nothing changed", () => {
  it("names the target when the environment variable is missing, the server is unreachable, or the credentials are refused", async () => {
    delete process.env[ENV];
    const missing = await snapshotPostgres(store, publicSchema()).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(InvalidInputError);
    expect((missing as Error).message).toBe(`database target postgres:${ENV}?schema=public: the environment variable ${ENV} is not set in this process (it must hold the database URL, postgresql://user:password@host:5432/db)`);
    process.env[ENV] = "postgresql://postgres@127.0.0.1:1/nowhere";
    const unreachable = await snapshotPostgres(store, publicSchema()).catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(OperationFailedError);
    expect((unreachable as Error).message).toMatch(new RegExp(`^database target postgres:${ENV}\\?schema=public: the server refused the connection`));
    const url = new URL(app.url);
    url.username = "no_such_role";
    process.env[ENV] = url.toString();
    const refused = await snapshotPostgres(store, publicSchema()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidInputError);
    expect((refused as Error).message).toMatch(/: the server refused the credentials: .*no_such_role/);
    expect(fs.readdirSync(path.join(store.dir, "tmp"))).toEqual([]);
  });

  it("names a table that no longer exists, and a schema that does not", async () => {
    await expect(snapshotPostgres(store, parseDbTarget(`postgres:${ENV}?tables=orders,gone`) as PostgresTarget)).rejects.toThrow(NotFoundError);
    await expect(snapshotPostgres(store, parseDbTarget(`postgres:${ENV}?tables=orders,gone`) as PostgresTarget)).rejects.toThrow(/table public\.gone does not exist/);
    await expect(snapshotPostgres(store, parseDbTarget(`postgres:${ENV}?schema=nope`) as PostgresTarget)).rejects.toThrow(/schema nope does not exist/);
  });

  it("refuses client tools older than the server, naming both versions", async () => {
    const bin = makeTempDir("old-pg-bin");
    for (const tool of ["pg_dump", "pg_restore", "psql"]) fs.writeFileSync(path.join(bin, tool), "#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n", { mode: 0o755 });
    process.env.SAFETYNET_PG_BIN = bin;
    const refusal = await snapshotPostgres(store, publicSchema()).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(OperationFailedError);
    expect((refusal as Error).message).toMatch(/the PostgreSQL client tools here \(pg_dump \(PostgreSQL\) 9\.6\.24, in .*\) cannot dump a version \d+ server/);
  });

  it("refuses a restore that would drop a view outside the target", async () => {
    const target = parseDbTarget(`postgres:${ENV}?tables=orders`) as PostgresTarget;
    const { snapshot } = await snapshotPostgres(store, target);
    const before = await databaseContents(app.url, ["public", "audit"]);
    await expect(assertPostgresRestorable(target, snapshot)).rejects.toThrow(ConflictError);
    await expect(restorePostgres(store, target, snapshot)).rejects.toThrow(/: view public\.big_orders lies outside the target and depends on it: restoring would drop it/);
    expect(await databaseContents(app.url, ["public", "audit"])).toBe(before);
  });

  it("gives up on a table another session keeps locked, and restores nothing", async () => {
    process.env.SAFETYNET_DB_LOCK_TIMEOUT_MS = "300";
    const { snapshot } = await snapshotPostgres(store, publicSchema());
    await runSql(app.url, "DELETE FROM orders WHERE id > 10");
    const before = await databaseContents(app.url, ["public", "audit"]);
    await withPostgres(async (client) => {
      await client.query("BEGIN");
      await client.query("LOCK TABLE orders IN ACCESS SHARE MODE");
      await expect(restorePostgres(store, publicSchema(), snapshot)).rejects.toThrow(/another session holds a lock on table public\.orders and kept it longer than SAFETYNET_DB_LOCK_TIMEOUT_MS \(300 ms\); nothing was restored/);
      await client.query("ROLLBACK");
    }, app.url);
    expect(await databaseContents(app.url, ["public", "audit"])).toBe(before);
  });

  it("rolls everything back when the restored rows break a foreign key from outside the target", async () => {
    const { snapshot } = await snapshotPostgres(store, publicSchema());
    // After the checkpoint a user appears, and the other schema refers to it: the restore cannot keep that reference.
    await runSql(app.url, "INSERT INTO users (id, email) VALUES (9999, 'late@example.com'); INSERT INTO audit.logins (user_id) VALUES (9999); DELETE FROM orders;");
    const before = await databaseContents(app.url, ["public", "audit"]);
    const failure = await restorePostgres(store, publicSchema(), snapshot).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(OperationFailedError);
    expect((failure as Error).message).toMatch(/logins_user_id_fkey.*nothing was restored/s);
    expect(await databaseContents(app.url, ["public", "audit"])).toBe(before);
  });
});
