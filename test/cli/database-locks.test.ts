/**
 * PostgreSQL targets that another session keeps locked, and restores whose tools
 * fail, through the CLI as a process: the command ends with its documented exit
 * code while the lock is still held (never a wait without end that keeps the
 * component locked), pg_restore and psql both end, and nothing is half-restored:
 * the database and the files are as they were.
 */
import { execFileSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import { databaseContents, runSql } from "../support/app-database";
import { createTestDatabase, withPostgres } from "../support/postgres";
import { isRunning, waitFor, watchDescendants, type ProcessInfo } from "../support/processes";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, journalFiles, jsonOf, makeTempDir, makeWorkspaceDirs, readTree, runCli, treeDifferences, writeTree, type CliErrorJson, type CliOptions, type CliResult, type WorkspaceDirs } from "../support/workspace";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

const ENV = "LOCKED_APP_DATABASE_URL";
const TARGET = `postgres:${ENV}?schema=public`;
/** Rows of about 200 bytes: pg_restore's SQL for them (about 8 MB) is far more than the pipes between the tools hold. */
const ROWS = 40_000;

let app: { url: string; drop(): Promise<void> };
beforeAll(async () => {
  app = await createTestDatabase("cli_locks");
});
afterAll(async () => {
  await app?.drop();
});

/** Sessions that hold locks; ended after each test whatever happened. */
const sessions: pg.Client[] = [];
afterEach(async () => {
  for (const session of sessions.splice(0)) await session.end().catch(() => undefined);
});

async function lockTable(table: string, mode: string): Promise<pg.Client> {
  const session = new pg.Client({ connectionString: app.url });
  sessions.push(session);
  await session.connect();
  await session.query("BEGIN");
  await session.query(`LOCK TABLE ${table} IN ${mode} MODE`);
  return session;
}

/** Whether `session` still holds its lock on public.t (as the server sees it). */
async function holdsLock(session: pg.Client): Promise<boolean> {
  const { rows } = await session.query<{ n: string }>("SELECT count(*) AS n FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation' AND relation = 'public.t'::regclass AND granted");
  return Number(rows[0]?.n) > 0;
}

/** The folder of the real PostgreSQL client tools on this machine. */
function realToolsDir(): string {
  return path.dirname(execFileSync("sh", ["-c", "command -v pg_restore"], { encoding: "utf8" }).trim());
}

/**
 * A component with the application database as its target and one checkpoint of it;
 * afterwards rows are deleted and a file changed, as an agent would.
 */
async function checkpointedApp(label: string): Promise<{ ws: WorkspaceDirs; checkpoint: CheckpointCreated; env: CliOptions }> {
  await runSql(app.url, `DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;
    CREATE TABLE t (id int PRIMARY KEY, pad text NOT NULL);
    CREATE TABLE notes (id serial PRIMARY KEY, t_id int REFERENCES t(id), body text);
    INSERT INTO t SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, ${ROWS}) g;
    INSERT INTO notes (t_id, body) SELECT g, 'note ' || g FROM generate_series(1, 100) g;`);
  const ws = makeWorkspaceDirs(label);
  const env: CliOptions = { env: { [ENV]: app.url } };
  writeTree(ws.root, { "src/app.ts": "export const version = 1;\n", "migrations/001.sql": "CREATE TABLE t (id int);\n" });
  await cliJson(ws, ["component", "add", "app", "--root", ws.root, "--db", TARGET], 0, env);
  const checkpoint = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "app", "--db"], 0, env);
  expect(checkpoint.databases[0]).toMatchObject({ format: "pg_dump", rows: ROWS + 100 });
  await runSql(app.url, "DELETE FROM notes WHERE id > 10; DELETE FROM t WHERE id > 20; ALTER TABLE t ADD COLUMN later text;");
  writeTree(ws.root, { "src/app.ts": "export const version = 2;\n", "migrations/002.sql": "ALTER TABLE t ADD COLUMN later text;\n" });
  return { ws, checkpoint, env };
}

/**
 * Runs the CLI, recording the processes below it while it runs; a command still
 * running after `limitMs` (a bound for a hang, generous: it measures nothing) is
 * killed and reported as hung.
 */
async function runWatched(ws: WorkspaceDirs, args: string[], options: CliOptions, limitMs = 90_000): Promise<{ result: CliResult | "hung"; children: ProcessInfo[] }> {
  let cli: ChildProcess | undefined;
  const run = runCli(ws, args, { ...options, onSpawn: (child) => (cli = child) });
  const children = watchDescendants((cli as unknown as ChildProcess).pid as number, run);
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), limitMs)));
  const result = await Promise.race([run, hung]);
  clearTimeout(timer);
  if (result === "hung") {
    cli?.kill("SIGKILL");
    await run;
  }
  return { result, children: await children };
}

/** The tools among `children`, and whether any of them still runs. */
async function toolsLeftRunning(children: ProcessInfo[], names: string[]): Promise<ProcessInfo[]> {
  const tools = children.filter((p) => names.includes(p.name));
  await waitFor(() => tools.every((p) => !isRunning(p.pid)), 10_000);
  return tools.filter((p) => isRunning(p.pid));
}

describe("a PostgreSQL rollback while another session keeps a target table locked", () => {
  it("is refused with exit 3 naming the table while the lock is still held; psql and pg_restore have ended; database and files are as they were; once the lock is gone the same rollback goes through", async () => {
    const { ws, checkpoint, env } = await checkpointedApp("cli-pg-locked");
    const databaseBefore = await databaseContents(app.url, ["public"]);
    const filesBefore = readTree(ws.root);
    // ACCESS SHARE (a reader in an open transaction) does not stop the safety snapshot, only the restore's drop (ACCESS EXCLUSIVE).
    const reader = await lockTable("t", "ACCESS SHARE");

    const { result, children } = await runWatched(ws, ["rollback", checkpoint.id, "--yes", "--json"], { env: { ...env.env, SAFETYNET_DB_LOCK_TIMEOUT_MS: "3000" } });
    if (result === "hung") throw new Error(`the rollback did not end while the lock was held; processes below it: ${children.map((p) => `${p.pid} ${p.name}`).join(", ")}`);
    expect(result.status, result.stderr).toBe(3);
    const error = jsonOf<CliErrorJson>(result).error;
    expect(error.message).toMatch(
      /^rollback failed: database target postgres:LOCKED_APP_DATABASE_URL\?schema=public could not be restored: .*another session holds a lock on table public\.t and kept it longer than SAFETYNET_DB_LOCK_TIMEOUT_MS \(3000 ms\); nothing was restored, try again when it is done; no file was changed: the component is as it was before the rollback$/,
    );
    expect(error.details).toMatchObject({ waitedFor: "table public.t", databasePart: true, undone: true });
    // It ended on its own bound, not because the lock went away.
    expect(await holdsLock(reader)).toBe(true);

    const tools = children.filter((p) => p.name === "psql" || p.name === "pg_restore");
    expect(new Set(tools.map((p) => p.name))).toEqual(new Set(["psql", "pg_restore"]));
    expect(await toolsLeftRunning(children, ["psql", "pg_restore", "pg_dump"])).toEqual([]);
    expect(await databaseContents(app.url, ["public"])).toBe(databaseBefore);
    expect(treeDifferences(filesBefore, readTree(ws.root), { inode: true })).toEqual([]);
    expect(journalFiles(ws.dataDir)).toEqual([]);

    await reader.query("ROLLBACK");
    const rolledBack = await cliJson<{ outcome: string; restoredDatabases: string[] }>(ws, ["rollback", checkpoint.id, "--yes"], 0, env);
    expect(rolledBack).toMatchObject({ outcome: "succeeded", restoredDatabases: [TARGET] });
    expect(await withPostgres(async (client) => Number((await client.query<{ n: string }>("SELECT count(*) AS n FROM t")).rows[0]?.n), app.url)).toBe(ROWS);
  }, 240_000);
});

describe("a PostgreSQL checkpoint while another session keeps a target table locked exclusively", () => {
  it("is refused with exit 3 naming the table while the lock is still held, and records nothing", async () => {
    const { ws, env } = await checkpointedApp("cli-pg-locked-snapshot");
    // A migration in an open transaction: ALTER TABLE holds ACCESS EXCLUSIVE until it commits.
    const migration = await lockTable("t", "ACCESS EXCLUSIVE");
    const { result, children } = await runWatched(ws, ["checkpoint", "create", "app", "--db", "--json"], { env: { ...env.env, SAFETYNET_DB_LOCK_TIMEOUT_MS: "2000" } });
    if (result === "hung") throw new Error("the checkpoint did not end while the lock was held");
    expect(result.status, result.stderr).toBe(3);
    expect(jsonOf<CliErrorJson>(result).error.message).toBe(
      "database target postgres:LOCKED_APP_DATABASE_URL?schema=public: another session holds a lock on table public.t and kept it longer than SAFETYNET_DB_LOCK_TIMEOUT_MS (2000 ms); nothing was checkpointed, try again when it is done",
    );
    expect(await holdsLock(migration)).toBe(true);
    expect(await toolsLeftRunning(children, ["pg_dump"])).toEqual([]);
    expect((await cliJson<{ items: unknown[] }>(ws, ["checkpoint", "list", "app"], 0, env)).items).toHaveLength(1);
    expect(fs.readdirSync(path.join(ws.dataDir, "store", "tmp"))).toEqual([]);
  }, 240_000);
});

describe("a PostgreSQL rollback while another session keeps a target table locked exclusively", () => {
  it("is refused with exit 3 before it starts, saying its safety snapshot could not be taken and nothing was changed", async () => {
    const { ws, checkpoint, env } = await checkpointedApp("cli-pg-locked-safety");
    const filesBefore = readTree(ws.root);
    const migration = await lockTable("t", "ACCESS EXCLUSIVE");
    const { result, children } = await runWatched(ws, ["rollback", checkpoint.id, "--yes", "--json"], { env: { ...env.env, SAFETYNET_DB_LOCK_TIMEOUT_MS: "2000" } });
    if (result === "hung") throw new Error("the rollback did not end while the lock was held");
    expect(result.status, result.stderr).toBe(3);
    const message = jsonOf<CliErrorJson>(result).error.message;
    expect(message).toContain("another session holds a lock on table public.t and kept it longer than SAFETYNET_DB_LOCK_TIMEOUT_MS (2000 ms)");
    expect(message).toContain("the rollback's safety snapshot could not be taken, so nothing was changed, try again when it is done");
    expect(message).not.toContain("checkpointed");
    expect(await holdsLock(migration)).toBe(true);
    expect(await toolsLeftRunning(children, ["pg_dump", "psql", "pg_restore"])).toEqual([]);
    expect(treeDifferences(filesBefore, readTree(ws.root), { inode: true })).toEqual([]);
    expect(journalFiles(ws.dataDir)).toEqual([]);
  }, 240_000);
});

describe("a PostgreSQL rollback whose pg_restore fails", () => {
  /** SAFETYNET_PG_BIN: the real pg_dump and psql, and a pg_restore that lists archives but fails restoring them (`first`: what it does before failing). */
  function toolsWithFailingRestore(first: (real: string) => string): string {
    const real = realToolsDir();
    const dir = makeTempDir("failing-pg-restore");
    for (const tool of ["pg_dump", "psql"]) fs.symlinkSync(path.join(real, tool), path.join(dir, tool));
    fs.writeFileSync(path.join(dir, "pg_restore"), `#!/bin/sh\nif [ "$1" = "--list" ]; then exec ${real}/pg_restore "$@"; fi\n${first(real)}\necho "pg_restore: error: could not read from input file: Input/output error" >&2\nexit 1\n`, { mode: 0o755 });
    return dir;
  }

  it.each([
    // Without writing anything (after a moment in which psql has read the drops).
    { when: "at once", first: () => "sleep 1" },
    // Whole lines of the real SQL, megabytes of it, then the failure: psql has read the drops and part of the rows by then.
    { when: "after writing 3 MB", first: (real: string) => `${real}/pg_restore "$@" | head -c 3000000 | sed '$d'` },
  ])("commits nothing when it fails $when: exit 1, psql ended, the database and files as they were", async ({ first }) => {
    const { ws, checkpoint, env } = await checkpointedApp("cli-pg-restore-fails");
    const bin = toolsWithFailingRestore(first);
    const databaseBefore = await databaseContents(app.url, ["public"]);
    const filesBefore = readTree(ws.root);

    const { result, children } = await runWatched(ws, ["rollback", checkpoint.id, "--yes", "--json"], { env: { ...env.env, SAFETYNET_PG_BIN: bin } });
    if (result === "hung") throw new Error("the rollback did not end after pg_restore failed");
    expect(result.status, result.stderr).toBe(1);
    expect(jsonOf<CliErrorJson>(result).error.message).toMatch(
      /could not be restored: database target postgres:LOCKED_APP_DATABASE_URL\?schema=public: pg_restore failed: pg_restore: error: could not read from input file: Input\/output error; nothing was restored .*no file was changed: the component is as it was before the rollback$/,
    );
    expect(children.filter((p) => p.name === "psql")).not.toEqual([]);
    expect(await toolsLeftRunning(children, ["psql", "pg_restore"])).toEqual([]);
    expect(await databaseContents(app.url, ["public"])).toBe(databaseBefore);
    expect(treeDifferences(filesBefore, readTree(ws.root), { inode: true })).toEqual([]);
    expect(journalFiles(ws.dataDir)).toEqual([]);
  }, 240_000);
});

