import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { ConflictError, InvalidInputError } from "../errors";
import { ObjectStore } from "../store/object-store";
import { sha256Hex } from "../store/sha256";
import { cleanUpAfterEach, makeTempDir } from "../../test/support/workspace";
import { liveSqliteState, restoreSqlite, snapshotSqlite } from "./sqlite";
import { parseDbTarget, type SqliteTarget } from "./targets";

cleanUpAfterEach();

const target = parseDbTarget("sqlite:data/memory.db") as SqliteTarget;

function setup(journalMode: "wal" | "delete" = "wal"): { root: string; file: string; store: ObjectStore } {
  const base = makeTempDir("dbstate-sqlite");
  const root = path.join(base, "root");
  fs.mkdirSync(path.join(root, "data"), { recursive: true });
  const store = new ObjectStore(path.join(base, "store"));
  store.init();
  const file = path.join(root, "data", "memory.db");
  const db = new Database(file);
  db.pragma(`journal_mode = ${journalMode}`);
  db.exec("CREATE TABLE memories (id INTEGER PRIMARY KEY, text TEXT NOT NULL); CREATE VIRTUAL TABLE notes USING fts5(body);");
  const insert = db.prepare("INSERT INTO memories (text) VALUES (?)");
  for (let i = 0; i < 500; i++) insert.run(`memory ${i}`);
  db.prepare("INSERT INTO notes (body) VALUES (?)").run("the user prefers tabs");
  db.close();
  return { root, file, store };
}

/** Every row of every table, in order: what "the same database" means to its users. */
function contents(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const tables = (db.prepare("SELECT name, sql FROM sqlite_master ORDER BY name").all() as { name: string; sql: string | null }[]);
    const rows = tables
      .filter((t) => t.sql?.startsWith("CREATE TABLE"))
      .map((t) => [t.name, db.prepare(`SELECT * FROM "${t.name}"`).all().map((row) => JSON.stringify(row)).sort()]);
    return JSON.stringify({ tables, rows });
  } finally {
    db.close();
  }
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

/** Another process that opens the database, runs `sql` and then holds on (a transaction left open). */
function holder(file: string, sql: string): Promise<ChildProcess> {
  const script = `
    const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve("better-sqlite3"))});
    const db = new Database(${JSON.stringify(file)}, { timeout: 5000 });
    db.exec(${JSON.stringify(sql)});
    process.stdout.write("held\\n");
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout?.once("data", () => resolve(child));
    child.once("exit", (code) => reject(new Error(`holder exited early (${code})`)));
  });
}

describe("SQLite targets", () => {
  it.each(["wal", "delete"] as const)("snapshots into the store with its sha256 and a table summary, then restores the database exactly (journal mode %s)", async (journalMode) => {
    const { root, file, store } = setup(journalMode);
    const before = contents(file);
    const { snapshot } = await snapshotSqlite(store, root, target);
    expect(snapshot).toMatchObject({ target: "sqlite:data/memory.db", engine: "sqlite", format: "sqlite", state: "present" });
    expect(sha256Hex(store.readBuffer(snapshot.sha256 as string))).toBe(snapshot.sha256);
    expect(snapshot.tables.find((t) => t.name === "memories")).toEqual({ name: "memories", rows: 500, columns: ["id", "text"] });

    const db = new Database(file);
    db.exec("DELETE FROM memories WHERE id > 10; ALTER TABLE memories ADD COLUMN extra TEXT; DROP TABLE notes; CREATE TABLE added (x)");
    db.close();
    expect(liveSqliteState(root, target).tables.map((t) => t.name)).toContain("added");

    await restoreSqlite(store, root, target, snapshot);
    expect(contents(file)).toBe(before);
    expect(new Database(file, { readonly: true }).pragma("integrity_check", { simple: true })).toBe("ok");
  });

  it("takes a consistent snapshot while another process keeps writing, and the restore is seen by a process that kept it open", async () => {
    const { root, file, store } = setup("wal");
    // A writer that commits a batch of rows every few milliseconds, each batch in one transaction.
    const writer = spawn(
      process.execPath,
      [
        "-e",
        `const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve("better-sqlite3"))});
         const db = new Database(${JSON.stringify(file)}, { timeout: 5000 });
         const insert = db.prepare("INSERT INTO memories (text) VALUES (?)");
         const batch = db.transaction((n) => { for (let i = 0; i < 10; i++) insert.run("batch " + n); });
         let n = 0; setInterval(() => batch(n++), 2);
         process.stdout.write("writing\\n");`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    children.push(writer);
    await new Promise((resolve) => writer.stdout?.once("data", resolve));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { snapshot } = await snapshotSqlite(store, root, target);
    writer.kill("SIGKILL");
    // Whole batches only: a consistent snapshot never holds half a transaction.
    const memories = snapshot.tables.find((t) => t.name === "memories");
    expect(memories && (memories.rows - 500) % 10).toBe(0);
    await store.withObjectFile(snapshot.sha256 as string, async (snapshotFile) => {
      const copy = new Database(snapshotFile, { readonly: true });
      expect(Number((copy.prepare("SELECT count(*) AS n FROM memories").get() as { n: number }).n)).toBe(memories?.rows);
      copy.close();
    });

    const reader = new Database(file);
    reader.exec("DELETE FROM memories");
    await restoreSqlite(store, root, target, snapshot);
    expect(Number((reader.prepare("SELECT count(*) AS n FROM memories").get() as { n: number }).n)).toBe(memories?.rows);
    reader.close();
  });

  it.each(["wal", "delete"] as const)("waits out a write lock another process holds for a moment, then restores (journal mode %s)", async (journalMode) => {
    const { root, file, store } = setup(journalMode);
    const before = contents(file);
    const { snapshot } = await snapshotSqlite(store, root, target);
    const db = new Database(file);
    db.exec("DELETE FROM memories WHERE id > 100");
    db.close();
    // A transaction that ends 300 ms after the restore is asked for (its process exits).
    await holder(file, "BEGIN IMMEDIATE; INSERT INTO memories (text) VALUES ('committed later')");
    const child = children[children.length - 1] as ChildProcess;
    setTimeout(() => child.kill("SIGTERM"), 300);
    await restoreSqlite(store, root, target, snapshot);
    expect(contents(file)).toBe(before);
  });

  it("refuses to restore while another process holds a write lock, changing nothing", async () => {
    const { root, file, store } = setup("wal");
    const { snapshot } = await snapshotSqlite(store, root, target);
    const db = new Database(file);
    db.exec("DELETE FROM memories WHERE id > 100");
    db.close();
    const changed = contents(file);
    await holder(file, "BEGIN IMMEDIATE; INSERT INTO memories (text) VALUES ('uncommitted')");
    const refusal = await restoreSqlite(store, root, target, snapshot, { busyWaitMs: 300 }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(ConflictError);
    expect((refusal as Error).message).toMatch(/^database target sqlite:data\/memory\.db: another process holds a lock on .*memory\.db/);
    expect(contents(file)).toBe(changed);
  });

  it("refuses when a reader keeps a rollback-journal database from committing, and leaves it unchanged", async () => {
    const { root, file, store } = setup("delete");
    const { snapshot } = await snapshotSqlite(store, root, target);
    const db = new Database(file);
    db.exec("DELETE FROM memories WHERE id > 100");
    db.close();
    const changed = contents(file);
    // A read transaction left open: its shared lock keeps any writer from committing.
    await holder(file, "BEGIN; SELECT count(*) FROM memories;");
    const refusal = await restoreSqlite(store, root, target, snapshot, { busyWaitMs: 400 }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(ConflictError);
    expect((refusal as Error).message).toMatch(/another process (holds|kept) a lock/);
    expect(contents(file)).toBe(changed);
  });

  it("records a database that does not exist yet as absent, and a rollback to it removes the database and its journals", async () => {
    const base = makeTempDir("dbstate-absent");
    const root = path.join(base, "root");
    fs.mkdirSync(path.join(root, "data"), { recursive: true });
    const store = new ObjectStore(path.join(base, "store"));
    store.init();
    const { snapshot } = await snapshotSqlite(store, root, target);
    expect(snapshot).toMatchObject({ state: "absent", sha256: null, tables: [] });
    const db = new Database(path.join(root, "data", "memory.db"));
    db.pragma("journal_mode = wal");
    db.exec("CREATE TABLE t (x)");
    db.close();
    await restoreSqlite(store, root, target, snapshot);
    expect(fs.readdirSync(path.join(root, "data"))).toEqual([]);
  });

  it("never follows a symlink out of the root", async () => {
    const { root, store } = setup();
    const outside = makeTempDir("dbstate-outside");
    fs.rmSync(path.join(root, "data"), { recursive: true });
    fs.symlinkSync(outside, path.join(root, "data"));
    await expect(snapshotSqlite(store, root, target)).rejects.toBeInstanceOf(InvalidInputError);
  });
});
