/**
 * Database state in checkpoints, through the CLI as a process: an agent's bad
 * migration on PostgreSQL plus rewritten files, undone by one rollback and
 * checked by checksum; an agent's SQLite memory store written while it is
 * checkpointed and rolled back; a database part that fails (files and databases
 * left as they were, the error saying so); crashes at any point of a rollback
 * with a database; and the refusals, each naming the target.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import type { CheckpointDiff } from "../../server/checkpoints/diff";
import type { CheckpointDetail } from "../../server/checkpoints/queries";
import type { HistoryItem } from "../../server/audit/history";
import type { RollbackPlanBody } from "../../server/rollback/plan";
import { createAppDatabase, databaseContents, DESTRUCTIVE_MIGRATION_SQL, runSql, type AppDatabase } from "../support/app-database";
import { loseMetadataDatabase } from "../support/metadata-store";
import { hasStoredObject, readStoredObject, storedObjectFile } from "../support/stored-objects";
import { copyObjectFileToBucket } from "../support/object-store-location";
import {
  assertCliBundleFresh,
  cleanUpAfterEach,
  cliJson,
  fillDisk,
  filterTree,
  journalFiles,
  jsonOf,
  makeWorkspaceDirs,
  mountTinyDisk,
  readTree,
  runCli,
  tmpfsUnavailableReason,
  treeDifferences,
  writeTree,
  type CliErrorJson,
  type WorkspaceDirs,
} from "../support/workspace";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

const APP_ENV = "APP_DATABASE_URL";
let app: AppDatabase;
beforeAll(async () => {
  app = await createAppDatabase("cli_migration");
});
afterAll(async () => {
  await app?.drop();
});

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

interface RollbackJson {
  rollbackId: string;
  outcome: string;
  restored: number;
  deleted: number;
  safetyCheckpointId: string;
  restoredDatabases: string[];
}

const SOURCE_FILES = {
  "prisma/schema.prisma": "model User { id Int @id\n email String\n mood Mood? }\n",
  "src/users.ts": "export const userEmail = (u: { email: string }) => u.email;\n",
  "src/orders.ts": "export const doubled = (total: number) => total * 2;\n",
};

/** The component's files, without the SQLite store's own files (compared by their contents instead: SQLite rewrites its pages and journals as it likes). */
function filesOf(root: string) {
  return filterTree(readTree(root), (rel) => !rel.startsWith("memory/agent.db"));
}

/** Every row and definition of a SQLite database, in a stable order. */
function sqliteContents(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare("SELECT name, sql FROM sqlite_master ORDER BY name").all() as { name: string; sql: string | null }[];
    const rows = tables.filter((t) => t.sql?.startsWith("CREATE TABLE")).map((t) => [t.name, db.prepare(`SELECT * FROM "${t.name}"`).all().map((r) => JSON.stringify(r)).sort()]);
    return JSON.stringify({ tables, rows });
  } finally {
    db.close();
  }
}

function createMemoryStore(file: string, rows = 300): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma("journal_mode = wal");
  db.exec("CREATE TABLE memories (id INTEGER PRIMARY KEY, text TEXT NOT NULL, batch INTEGER NOT NULL DEFAULT -1)");
  const insert = db.prepare("INSERT INTO memories (text) VALUES (?)");
  db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(`memory ${i}`);
  })();
  db.close();
}

/** Another process that opens the memory store and runs `sql` once (and then holds on), or a writer committing batches of 10 rows. */
function otherProcess(file: string, body: string): Promise<ChildProcess> {
  const script = `
    const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve("better-sqlite3"))});
    const db = new Database(${JSON.stringify(file)}, { timeout: 10000 });
    ${body}
    process.stdout.write("ready\\n");
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout?.once("data", () => resolve(child));
    child.once("exit", (code) => reject(new Error(`helper process exited early (${code})`)));
  });
}

const WRITER = `
  const insert = db.prepare("INSERT INTO memories (text, batch) VALUES (?, ?)");
  const batch = db.transaction((n) => { for (let i = 0; i < 10; i++) insert.run("written while checkpointed", n); });
  let n = 0; setInterval(() => { try { batch(n++); } catch (e) { if (e.code !== "SQLITE_BUSY") throw e; } }, 3);`;

describe("an agent's bad migration on PostgreSQL, and its rewritten files", () => {
  it("is undone by one rollback: schema and rows back (checksum equal), files back, history, verify; and the rollback itself can be undone", async () => {
    await runSql(app.url, "DROP SCHEMA IF EXISTS public CASCADE; DROP SCHEMA IF EXISTS audit CASCADE; CREATE SCHEMA public;");
    await runSql(app.url, (await import("../support/app-database")).APP_SCHEMA_SQL);
    const ws = makeWorkspaceDirs("cli-migration");
    const env = { env: { [APP_ENV]: app.url } };
    writeTree(ws.root, SOURCE_FILES);
    const component = await cliJson<{ dbTargets: string[] }>(ws, ["component", "add", "shop", "--root", ws.root, "--db", `postgres:${APP_ENV}?schema=public`], 0, env);
    expect(component.dbTargets).toEqual([`postgres:${APP_ENV}?schema=public`]);
    const filesBefore = readTree(ws.root);
    const databaseBefore = await databaseContents(app.url, ["public"]);

    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "shop", "--db", "--reason", "before the migration"], 0, env);
    expect(created.databases).toEqual([
      { target: `postgres:${APP_ENV}?schema=public`, engine: "postgres", format: "pg_dump", state: "present", sha256: expect.stringMatching(/^[0-9a-f]{64}$/), bytes: expect.any(Number), tables: 2, rows: 1200 },
    ]);

    // The agent: a migration that drops a column and deletes rows, and the code that goes with it.
    await runSql(app.url, DESTRUCTIVE_MIGRATION_SQL);
    writeTree(ws.root, { "prisma/schema.prisma": "model User { id Int @id\n mail String }\nmodel Setting { key String @id }\n", "src/users.ts": "export const userEmail = (u: { mail: string }) => u.mail;\n", "src/settings.ts": "export {};\n" });
    const databaseMigrated = await databaseContents(app.url, ["public"]);
    const filesMigrated = readTree(ws.root);

    const diff = await cliJson<CheckpointDiff>(ws, ["checkpoint", "diff", created.id], 0, env);
    expect(diff.modified.map((e) => e.path).sort()).toEqual(["prisma/schema.prisma", "src/users.ts"]);
    expect(diff.added.map((e) => e.path)).toEqual(["src/settings.ts"]);
    expect(diff.databases).toEqual([
      {
        target: `postgres:${APP_ENV}?schema=public`,
        engine: "postgres",
        changed: true,
        existed: true,
        exists: true,
        tablesAdded: ["public.settings"],
        tablesDropped: [],
        tablesChanged: [
          { table: "public.orders", rowsBefore: 1000, rowsAfter: 150, columnsAdded: ["note"], columnsDropped: [] },
          { table: "public.users", rowsBefore: 200, rowsAfter: 150, columnsAdded: ["mail"], columnsDropped: ["email", "mood"] },
        ],
        rawBytes: null,
        unreadableNow: null,
        error: null,
      },
    ]);
    const plan = await cliJson<RollbackPlanBody>(ws, ["rollback", created.id, "--dry-run"], 0, env);
    expect(plan.databases).toEqual([{ target: `postgres:${APP_ENV}?schema=public`, engine: "postgres", action: "replace", format: created.databases[0]?.format, unreadable: null, tables: 2, rows: 1200, bytes: created.databases[0]?.bytes, sha256: created.databases[0]?.sha256 }]);

    const rolledBack = await cliJson<RollbackJson>(ws, ["rollback", created.id, "--yes"], 0, env);
    expect(rolledBack).toMatchObject({ outcome: "succeeded", restored: 2, deleted: 1, restoredDatabases: [`postgres:${APP_ENV}?schema=public`] });
    expect(await databaseContents(app.url, ["public"])).toBe(databaseBefore);
    expect(treeDifferences(filesBefore, readTree(ws.root))).toEqual([]);
    expect(journalFiles(ws.dataDir)).toEqual([]);

    const verified = await cliJson<{ state: string; objectsChecked: number }>(ws, ["checkpoint", "verify", created.id], 0, env);
    // The manifest, three files, the database snapshot and the trees of the root, prisma/ and src/.
    expect(verified).toMatchObject({ state: "verified", objectsChecked: 8 });
    const history = (await cliJson<{ items: HistoryItem[] }>(ws, ["history", "shop", "--kind", "rollback"], 0, env)).items;
    expect(history[0]).toMatchObject({ outcome: "succeeded", details: { databases: [expect.objectContaining({ target: `postgres:${APP_ENV}?schema=public`, rows: 1200 })] } });
    const detail = await cliJson<CheckpointDetail>(ws, ["checkpoint", "show", created.id], 0, env);
    expect(detail.databases[0]?.tables.map((t) => `${t.name}:${t.rows}`)).toEqual(["public.orders:1000", "public.users:200"]);

    // Undo: the safety checkpoint holds the migrated database and files.
    const safety = await cliJson<CheckpointDetail>(ws, ["checkpoint", "show", rolledBack.safetyCheckpointId], 0, env);
    expect(safety.databases.map((d) => d.target)).toEqual([`postgres:${APP_ENV}?schema=public`]);
    await cliJson<RollbackJson>(ws, ["rollback", rolledBack.safetyCheckpointId, "--yes"], 0, env);
    expect(await databaseContents(app.url, ["public"])).toBe(databaseMigrated);
    expect(treeDifferences(filesMigrated, readTree(ws.root))).toEqual([]);
  });
});

describe("an agent's SQLite memory store", () => {
  it("is checkpointed consistently while another process keeps writing, and rolled back exactly while that process keeps it open", async () => {
    const ws = makeWorkspaceDirs("cli-memory");
    const file = path.join(ws.root, "memory", "agent.db");
    createMemoryStore(file);
    writeTree(ws.root, { "notes.md": "what the agent knows\n" });
    await cliJson(ws, ["component", "add", "agent", "--root", ws.root, "--db", "sqlite:memory/agent.db"]);
    const writer = await otherProcess(file, WRITER);
    await new Promise((resolve) => setTimeout(resolve, 150));

    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "agent", "--db"]);
    writer.kill("SIGKILL");
    const snapshotted = created.databases[0];
    // Whole transactions only: the writer commits 10 rows at a time.
    expect(snapshotted && (snapshotted.rows - 300) % 10).toBe(0);
    // The database files are the snapshot's, not the file checkpoint's.
    expect(created.files).toBe(1);

    const db = new Database(file);
    db.exec("DELETE FROM memories WHERE id % 3 = 0; UPDATE memories SET text = 'forgotten'");
    db.close();
    // A process that keeps the store open while it is rolled back (an agent runtime), then reads it again.
    const reader = new Database(file);
    expect(Number((reader.prepare("SELECT count(*) AS n FROM memories WHERE text = 'forgotten'").get() as { n: number }).n)).toBeGreaterThan(0);

    const rolledBack = await cliJson<RollbackJson>(ws, ["rollback", created.id, "--yes"]);
    expect(rolledBack.restoredDatabases).toEqual(["sqlite:memory/agent.db"]);
    expect(Number((reader.prepare("SELECT count(*) AS n FROM memories").get() as { n: number }).n)).toBe(snapshotted?.rows);
    expect(reader.prepare("SELECT count(*) AS n FROM memories WHERE text = 'forgotten'").get()).toEqual({ n: 0 });
    reader.close();
    // The snapshot as stored (inflated here when it is stored compressed), opened as a database of its own.
    const snapshotFile = path.join(ws.base, "snapshot-copy.db");
    fs.writeFileSync(snapshotFile, readStoredObject(ws.dataDir, snapshotted?.sha256 as string));
    const copy = new Database(snapshotFile, { readonly: true });
    const snapshotRows = JSON.stringify(copy.prepare("SELECT * FROM memories ORDER BY id").all());
    copy.close();
    const restored = new Database(file, { readonly: true });
    expect(JSON.stringify(restored.prepare("SELECT * FROM memories ORDER BY id").all())).toBe(snapshotRows);
    expect(restored.pragma("integrity_check", { simple: true })).toBe("ok");
    restored.close();
  });

  it("is rolled back while another process keeps writing to it: the restore slips in between its transactions, and whole transactions only follow", async () => {
    const ws = makeWorkspaceDirs("cli-memory-writer");
    const file = path.join(ws.root, "memory", "agent.db");
    createMemoryStore(file);
    await cliJson(ws, ["component", "add", "agent", "--root", ws.root, "--db", "sqlite:memory/agent.db"]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "agent", "--db"]);
    const snapshotRows = JSON.stringify(new Database(file, { readonly: true }).prepare("SELECT * FROM memories ORDER BY id").all());
    const db = new Database(file);
    db.exec("DELETE FROM memories WHERE id % 2 = 0");
    db.close();

    const writer = await otherProcess(file, WRITER);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const rolledBack = await cliJson<RollbackJson>(ws, ["rollback", created.id, "--yes"]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    writer.kill("SIGKILL");
    await new Promise((resolve) => writer.once("exit", resolve));
    expect(rolledBack.restoredDatabases).toEqual(["sqlite:memory/agent.db"]);

    const after = new Database(file, { readonly: true });
    // The checkpoint's rows are all back, exactly; what the writer committed since came in whole transactions of 10.
    expect(JSON.stringify(after.prepare("SELECT * FROM memories WHERE batch = -1 ORDER BY id").all())).toBe(snapshotRows);
    const batches = after.prepare("SELECT batch, count(*) AS n FROM memories WHERE batch >= 0 GROUP BY batch").all() as { batch: number; n: number }[];
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.filter((b) => b.n !== 10)).toEqual([]);
    expect(after.pragma("integrity_check", { simple: true })).toBe("ok");
    after.close();
  });

  it("refuses the rollback while another process holds a write lock, with exit 3, and changes neither the store nor the files", async () => {
    const ws = makeWorkspaceDirs("cli-memory-locked");
    const file = path.join(ws.root, "memory", "agent.db");
    createMemoryStore(file);
    writeTree(ws.root, { "notes.md": "v1\n" });
    await cliJson(ws, ["component", "add", "agent", "--root", ws.root, "--db", "sqlite:memory/agent.db"]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "agent", "--db"]);
    fs.writeFileSync(path.join(ws.root, "notes.md"), "v2\n");
    const db = new Database(file);
    db.exec("DELETE FROM memories WHERE id > 10");
    db.close();
    const storeBefore = sqliteContents(file);
    const filesBefore = filesOf(ws.root);
    await otherProcess(file, `db.exec("BEGIN IMMEDIATE"); db.exec("INSERT INTO memories (text) VALUES ('not committed')");`);

    const result = await runCli(ws, ["rollback", created.id, "--yes", "--json"]);
    expect(result.status, result.stderr).toBe(3);
    expect(jsonOf<CliErrorJson>(result).error.message).toMatch(/^database target sqlite:memory\/agent\.db: another process holds a lock on .*agent\.db \(taking its write lock\); nothing was changed/);
    expect(sqliteContents(file)).toBe(storeBefore);
    expect(treeDifferences(filesBefore, filesOf(ws.root), { inode: true })).toEqual([]);
    expect(journalFiles(ws.dataDir)).toEqual([]);
  });
});

describe("a rollback whose database part fails", () => {
  it("puts back the databases it had already replaced, changes no file, and says so", async () => {
    await runSql(app.url, "DROP SCHEMA IF EXISTS public CASCADE; DROP SCHEMA IF EXISTS audit CASCADE; CREATE SCHEMA public;");
    await runSql(app.url, (await import("../support/app-database")).APP_SCHEMA_SQL);
    const ws = makeWorkspaceDirs("cli-db-part");
    const env = { env: { [APP_ENV]: app.url } };
    const file = path.join(ws.root, "memory", "agent.db");
    createMemoryStore(file);
    writeTree(ws.root, SOURCE_FILES);
    await cliJson(ws, ["component", "add", "shop", "--root", ws.root, "--db", "sqlite:memory/agent.db", "--db", `postgres:${APP_ENV}?schema=public`], 0, env);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "shop", "--db"], 0, env);
    expect(created.databases.map((d) => d.target)).toEqual(["sqlite:memory/agent.db", `postgres:${APP_ENV}?schema=public`]);

    // After the checkpoint: the memory store and the files change, a user is added and the audit schema (outside the target) refers to it.
    const db = new Database(file);
    db.exec("DELETE FROM memories WHERE id > 5");
    db.close();
    writeTree(ws.root, { "src/users.ts": "export const changed = true;\n", "src/new.ts": "export {};\n" });
    await runSql(app.url, "INSERT INTO users (id, email) VALUES (5000, 'late@example.com'); INSERT INTO audit.logins (user_id) VALUES (5000);");
    const storeBefore = sqliteContents(file);
    const filesBefore = filesOf(ws.root);
    const databaseBefore = await databaseContents(app.url, ["public", "audit"]);

    // Putting back the snapshot of public would break audit's reference to user 5000: PostgreSQL refuses it, after the SQLite store was replaced.
    const result = await runCli(ws, ["rollback", created.id, "--yes", "--json"], env);
    expect(result.status, result.stderr).toBe(1);
    const error = jsonOf<CliErrorJson>(result).error;
    expect(error.message).toMatch(
      new RegExp(`^rollback failed: database target postgres:${APP_ENV}\\?schema=public could not be restored: .*logins_user_id_fkey.*; the 1 database\\(s\\) replaced before it were put back from the safety checkpoint, no file was changed: the component is as it was before the rollback$`, "s"),
    );
    expect(error.details).toMatchObject({ databasePart: true, undone: true });
    expect(sqliteContents(file)).toBe(storeBefore);
    expect(treeDifferences(filesBefore, filesOf(ws.root), { inode: true })).toEqual([]);
    expect(await databaseContents(app.url, ["public", "audit"])).toBe(databaseBefore);
    expect(journalFiles(ws.dataDir)).toEqual([]);
    const [rollback] = (await cliJson<{ items: HistoryItem[] }>(ws, ["history", "shop", "--kind", "rollback"], 0, env)).items;
    expect(rollback).toMatchObject({ outcome: "failed", error: error.message, details: { databasePart: true, undone: true, journalKept: false } });

    // Once the reference is gone, the same rollback goes through.
    await runSql(app.url, "DELETE FROM audit.logins WHERE user_id = 5000;");
    await cliJson<RollbackJson>(ws, ["rollback", created.id, "--yes"], 0, env);
    expect(JSON.parse(sqliteContents(file)).rows[0][1]).toHaveLength(300);
  });
});

describe("a rollback with a database, killed at any point (SIGKILL)", () => {
  it("is completed by the next command, or never started: files and store are the checkpoint's or as they were, never a mixture", async () => {
    const outcomes = new Set<string>();
    // Killed at its Nth change of the data directory (the safety checkpoint, the journal and its phases) or of the workspace (the files).
    const points = [...[2, 5, 8, 11, 14, 17, 20, 23, 26, 30].map((after) => ({ after, under: "data" as const })), ...[1, 3].map((after) => ({ after, under: "root" as const }))];
    for (const { after, under } of points) {
      const ws = makeWorkspaceDirs(`cli-db-crash-${under}-${after}`);
      const file = path.join(ws.root, "memory", "agent.db");
      createMemoryStore(file, 50);
      writeTree(ws.root, { "a.txt": "a1\n", "b/c.txt": "c1\n" });
      await cliJson(ws, ["component", "add", "agent", "--root", ws.root, "--db", "sqlite:memory/agent.db"]);
      const checkpointFiles = filesOf(ws.root);
      const checkpointStore = sqliteContents(file);
      const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "agent", "--db"]);
      writeTree(ws.root, { "a.txt": "a2\n", "b/c.txt": "c2\n", "d.txt": "new\n" });
      const db = new Database(file);
      db.exec("DELETE FROM memories WHERE id > 20; CREATE TABLE later (x)");
      db.close();
      const beforeFiles = filesOf(ws.root);
      const beforeStore = sqliteContents(file);

      const crashed = await runCli(ws, ["rollback", created.id, "--yes", "--json"], { fault: { after, under: under === "data" ? ws.dataDir : ws.root } });
      const next = await runCli(ws, ["checkpoint", "list", "--json"]);
      expect(next.status, next.stderr).toBe(0);
      expect(journalFiles(ws.dataDir)).toEqual([]);
      const files = filesOf(ws.root);
      const store = sqliteContents(file);
      const isCheckpoint = treeDifferences(checkpointFiles, files).length === 0 && store === checkpointStore;
      const isBefore = treeDifferences(beforeFiles, files).length === 0 && store === beforeStore;
      expect(isCheckpoint || isBefore, `killed at change ${after} of the ${under} (${crashed.signal ?? crashed.status}): files and store are a mixture`).toBe(true);
      outcomes.add(`${crashed.signal ?? "ran"}:${isCheckpoint ? "completed" : "as before"}`);
    }
    // Both sides of the journal were hit: killed before it (nothing done) and after it (completed by recovery).
    expect(outcomes).toContain("SIGKILL:as before");
    expect(outcomes).toContain("SIGKILL:completed");
    // Twelve crash points of five CLI processes each: room for a shared, busy machine.
  }, 240_000);
});

describe("database targets: bad input and faults, each naming the target, nothing written", () => {
  it("refuses targets that are not targets, with exit 2 naming the field", async () => {
    const ws = makeWorkspaceDirs("cli-db-input");
    for (const [spec, message] of [
      ["postgres:postgresql://app:secret@db/app", /never the URL itself: it would store the password/],
      ["sqlite:../outside.db", /must not contain "\.\."/],
      ["sqlite:/abs/path.db", /absolute path/],
      ["mysql:APP", /expected sqlite:<path inside the component root> or postgres:<ENV_VAR>/],
      ["postgres:APP?schema=a,b&tables=t", /table "t" is ambiguous between the schemas a, b/],
      ["postgres:APP?color=red", /unknown option "color"/],
    ] as const) {
      const result = await runCli(ws, ["component", "add", "app", "--root", ws.root, "--db", spec, "--json"]);
      expect(result.status, spec).toBe(2);
      const error = jsonOf<CliErrorJson>(result).error;
      expect(error.message).toMatch(message);
      expect(error.details).toMatchObject({ field: "dbTargets.0" });
    }
    await cliJson(ws, ["component", "add", "app", "--root", ws.root]);
    const noTargets = await runCli(ws, ["checkpoint", "create", "app", "--db", "--json"]);
    expect(noTargets.status).toBe(2);
    expect(jsonOf<CliErrorJson>(noTargets).error.message).toMatch(/^includeDb: component "app" has no database targets/);
    // --no-db removes them.
    expect((await cliJson<{ dbTargets: string[] }>(ws, ["component", "add", "app", "--root", ws.root, "--db", "sqlite:x.db"])).dbTargets).toEqual(["sqlite:x.db"]);
    expect((await cliJson<{ dbTargets: string[] }>(ws, ["component", "add", "app", "--root", ws.root, "--no-db"])).dbTargets).toEqual([]);
  });

  it("names the target when its variable is unset, the server unreachable, the credentials refused or a table gone; no checkpoint is recorded", async () => {
    const ws = makeWorkspaceDirs("cli-db-faults");
    writeTree(ws.root, { "a.txt": "a\n" });
    await cliJson(ws, ["component", "add", "app", "--root", ws.root, "--db", `postgres:${APP_ENV}?tables=orders`]);
    const bad = new URL(app.url);
    bad.username = "no_such_role";
    for (const [env, status, message] of [
      [{ [APP_ENV]: undefined }, 2, new RegExp(`^database target postgres:${APP_ENV}\\?tables=public\\.orders: the environment variable ${APP_ENV} is not set in this process`)],
      [{ [APP_ENV]: "postgresql://postgres@127.0.0.1:1/app" }, 1, /: the server refused the connection \(is PostgreSQL running, on that host and port\?\)/],
      [{ [APP_ENV]: bad.toString() }, 2, /: the server refused the credentials: .*no_such_role/],
    ] as const) {
      const result = await runCli(ws, ["checkpoint", "create", "app", "--db", "--json"], { env });
      expect(result.status, result.stderr).toBe(status);
      expect(jsonOf<CliErrorJson>(result).error.message).toMatch(message);
    }
    await runSql(app.url, "DROP TABLE IF EXISTS orders CASCADE");
    const gone = await runCli(ws, ["checkpoint", "create", "app", "--db", "--json"], { env: { [APP_ENV]: app.url } });
    expect(gone.status).toBe(5);
    expect(jsonOf<CliErrorJson>(gone).error.message).toMatch(/: table public\.orders does not exist \(any more\) in the database/);
    expect((await cliJson<{ items: unknown[] }>(ws, ["checkpoint", "list"])).items).toEqual([]);
    const failures = (await cliJson<{ items: HistoryItem[] }>(ws, ["history", "app", "--kind", "checkpoint.create"])).items;
    expect(failures.map((f) => f.outcome)).toEqual(["failed", "failed", "failed", "failed"]);
  });

  it.skipIf(tmpfsUnavailableReason() !== null)("refuses a database larger than the free space of the store, naming the target", async () => {
    const ws: WorkspaceDirs = makeWorkspaceDirs("cli-db-space");
    mountTinyDisk(ws.dataDir, 4096);
    const file = path.join(ws.root, "memory", "agent.db");
    createMemoryStore(file, 10);
    const db = new Database(file);
    db.prepare("INSERT INTO memories (text) VALUES (?)").run("x".repeat(2_000_000));
    db.close();
    await cliJson(ws, ["component", "add", "agent", "--root", ws.root, "--db", "sqlite:memory/agent.db"]);
    fillDisk(path.join(ws.dataDir, "filler"), 1024);
    const result = await runCli(ws, ["checkpoint", "create", "agent", "--db", "--json"]);
    expect(result.status).toBe(1);
    expect(jsonOf<CliErrorJson>(result).error.code).toBe("NO_SPACE");
    expect(jsonOf<CliErrorJson>(result).error.message).toMatch(/^the snapshot of database target sqlite:memory\/agent\.db needs about \d+ MiB, but only \d+ MiB are free on the file system of .*; nothing was written$/);
    expect(fs.readdirSync(path.join(ws.dataDir, "store", "tmp"))).toEqual([]);
  });
});

describe("database snapshots in verify, retention, GC and rebuild-db", () => {
  it("verifies them, keeps those of live checkpoints, collects those of expired ones, and rebuild-db brings them back", async () => {
    const ws = makeWorkspaceDirs("cli-db-retention");
    const file = path.join(ws.root, "memory", "agent.db");
    createMemoryStore(file, 100);
    writeTree(ws.root, { "notes.md": "v1\n" });
    await cliJson(ws, ["component", "add", "agent", "--root", ws.root, "--db", "sqlite:memory/agent.db"]);
    const first = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "agent", "--db", "--retention-days", "0"]);
    const db = new Database(file);
    db.exec("DELETE FROM memories WHERE id > 50");
    db.close();
    const second = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "agent", "--db"]);
    const objectOf = (sha: string | null) => storedObjectFile(ws.dataDir, sha as string);
    const [firstSnapshot, secondSnapshot] = [first.databases[0]?.sha256 ?? null, second.databases[0]?.sha256 ?? null];
    expect(firstSnapshot).not.toBe(secondSnapshot);

    const all = await cliJson<{ outcome: string; checkpoints: number; objectsChecked: number }>(ws, ["verify", "--all"]);
    // Two manifests, one file (the same in both), two database snapshots, and trees: memory/ (the same in
    // both) and two of the root (memory/'s mtime moved when SQLite wrote its journal).
    expect(all).toMatchObject({ outcome: "succeeded", checkpoints: 2, objectsChecked: 8 });
    const snapshotObject = objectOf(secondSnapshot);
    const intact = fs.readFileSync(snapshotObject);
    fs.chmodSync(snapshotObject, 0o644);
    fs.appendFileSync(snapshotObject, "corruption");
    // With a bucket, its copy there too (a damaged cached copy alone is replaced by the bucket's).
    await copyObjectFileToBucket(ws.dataDir, secondSnapshot as string);
    const damaged = await runCli(ws, ["checkpoint", "verify", second.id, "--json"]);
    expect(damaged.status).toBe(4);
    expect(jsonOf<{ problems: { path: string; database?: string; state: string }[] }>(damaged).problems).toEqual([
      { path: "sqlite:memory/agent.db", database: "sqlite:memory/agent.db", sha256: secondSnapshot, state: "corrupt" },
    ]);
    const refused = await runCli(ws, ["rollback", second.id, "--yes", "--json"]);
    expect(refused.status).toBe(4);
    expect(jsonOf<CliErrorJson>(refused).error.message).toMatch(/^rollback refused: the stored snapshot of database target sqlite:memory\/agent\.db \(corrupt\) is damaged; nothing was changed$/);
    // The object put back as it was (with a bucket, verify dropped the damaged cached copy: the file is written anew).
    fs.writeFileSync(snapshotObject, intact);
    fs.chmodSync(snapshotObject, 0o444);
    await copyObjectFileToBucket(ws.dataDir, secondSnapshot as string);
    const fresh = second;

    const run = await runCli(ws, ["retention", "run", "--json"], { env: { SAFETYNET_RETENTION_GRACE_MS: "0" } });
    expect(run.status, run.stderr).toBe(0);
    expect(hasStoredObject(ws.dataDir, firstSnapshot as string)).toBe(false);
    expect(hasStoredObject(ws.dataDir, secondSnapshot as string)).toBe(true);
    expect((await cliJson<{ items: { id: string }[] }>(ws, ["checkpoint", "list"])).items.map((c) => c.id)).not.toContain(first.id);

    await loseMetadataDatabase(ws.dataDir);
    await cliJson(ws, ["rebuild-db"]);
    const rebuilt = await cliJson<CheckpointDetail>(ws, ["checkpoint", "show", fresh.id]);
    expect(rebuilt.databases.map((d) => [d.target, d.sha256])).toEqual([["sqlite:memory/agent.db", secondSnapshot]]);
    expect((await cliJson<{ dbTargets: string[] }>(ws, ["component", "show", "agent"])).dbTargets).toEqual(["sqlite:memory/agent.db"]);
    const change = new Database(file);
    change.exec("DELETE FROM memories");
    change.close();
    await cliJson<RollbackJson>(ws, ["rollback", fresh.id, "--yes"]);
    expect(JSON.parse(sqliteContents(file)).rows[0][1]).toHaveLength(50);
  });
});
