/**
 * A SQLite target the agent corrupted, through the CLI as a process: overwritten
 * with random bytes, truncated, emptied, or overwritten while another process
 * keeps it open in WAL mode (its -wal holding frames). The rollback puts the
 * checkpoint's database back (no stale journal replayed into it), its safety
 * checkpoint holds the file's raw bytes (and journal files) and says so in show,
 * diff, the plan, verify and export, and undoing the rollback gives back exactly
 * those bytes. A file that is gone keeps working as before.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import type { CheckpointDiff } from "../../server/checkpoints/diff";
import type { CheckpointDetail } from "../../server/checkpoints/queries";
import type { RollbackPlanBody } from "../../server/rollback/plan";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, jsonOf, makeTempDir, makeWorkspaceDirs, runCli, writeTree, type CliErrorJson, type WorkspaceDirs } from "../support/workspace";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

interface RollbackJson {
  outcome: string;
  safetyCheckpointId: string;
  restoredDatabases: string[];
}

const TARGET = "sqlite:memory/agent.db";

function createMemoryStore(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma("journal_mode = wal");
  db.exec("CREATE TABLE memories (id INTEGER PRIMARY KEY, text TEXT NOT NULL)");
  const insert = db.prepare("INSERT INTO memories (text) VALUES (?)");
  db.transaction(() => {
    for (let i = 0; i < 500; i++) insert.run(`memory ${i} ${"x".repeat(40)}`);
  })();
  db.close();
}

function memories(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    return JSON.stringify(db.prepare("SELECT * FROM memories ORDER BY id").all());
  } finally {
    db.close();
  }
}

/** The database file and its journal files as they lie now: size and sha256 of their bytes (absent ones as null). */
function filesOf(file: string): Record<string, { size: number; sha256: string } | null> {
  const read = (p: string) => (fs.existsSync(p) ? bytesOf(p) : null);
  return { db: read(file), wal: read(`${file}-wal`), journal: read(`${file}-journal`) };
}

function bytesOf(file: string): { size: number; sha256: string } {
  const data = fs.readFileSync(file);
  return { size: data.length, sha256: createHash("sha256").update(data).digest("hex") };
}

async function setUp(label: string): Promise<{ ws: WorkspaceDirs; file: string; checkpointId: string; rows: string }> {
  const ws = makeWorkspaceDirs(label);
  const file = path.join(ws.root, "memory", "agent.db");
  createMemoryStore(file);
  writeTree(ws.root, { "notes.md": "what the agent knows\n" });
  await cliJson(ws, ["component", "add", "agent", "--root", ws.root, "--db", TARGET]);
  const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "agent", "--db"]);
  return { ws, file, checkpointId: created.id, rows: memories(file) };
}

/** Overwrites the database while another process has it open in WAL mode with a commit not yet in the file (its -wal holds it). */
function corruptWhileOpenInWal(file: string): void {
  const script = `
    const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve("better-sqlite3"))});
    const fs = require("node:fs");
    const db = new Database(${JSON.stringify(file)});
    db.pragma("wal_autocheckpoint = 0");
    db.exec("INSERT INTO memories (text) VALUES ('only in the wal')");
    fs.writeFileSync(${JSON.stringify(file)}, require("node:crypto").randomBytes(20000));
    process.exit(0);`;
  // Exits without closing: the -wal stays, as after a crash.
  execFileSync(process.execPath, ["-e", script]);
}

/** Overwrites the database after a process died in the middle of a write transaction in rollback-journal mode: a hot -journal lies beside it. */
function corruptAfterCrashMidTransaction(file: string): void {
  const script = `
    const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve("better-sqlite3"))});
    const fs = require("node:fs");
    const db = new Database(${JSON.stringify(file)});
    db.pragma("journal_mode = delete");
    db.pragma("cache_size = 1");
    db.exec("BEGIN");
    db.exec("UPDATE memories SET text = 'half-written'");
    fs.writeFileSync(${JSON.stringify(file)}, require("node:crypto").randomBytes(20000));
    process.exit(0);`;
  execFileSync(process.execPath, ["-e", script]);
}

const CORRUPTIONS: { name: string; corrupt: (file: string) => void; unreadable: RegExp }[] = [
  { name: "overwritten with random bytes", corrupt: (file) => fs.writeFileSync(file, randomBytes(10_000)), unreadable: /^not a SQLite database$/ },
  { name: "truncated to half its size", corrupt: (file) => fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2)), unreadable: /^a damaged SQLite database: / },
  { name: "truncated to 50 bytes", corrupt: (file) => fs.truncateSync(file, 50), unreadable: /^a damaged SQLite database: / },
  { name: "emptied", corrupt: (file) => fs.writeFileSync(file, ""), unreadable: /^an empty file$/ },
  { name: "overwritten while open in WAL mode", corrupt: corruptWhileOpenInWal, unreadable: /^not a SQLite database$/ },
  { name: "overwritten beside the hot journal of a crashed transaction", corrupt: corruptAfterCrashMidTransaction, unreadable: /^the hot -journal of a crashed transaction lies beside it/ },
];

describe("a SQLite memory store the agent corrupted", () => {
  for (const { name, corrupt, unreadable } of CORRUPTIONS) {
    it(`${name}: is rolled back to the checkpoint's database, and the rollback's undo gives back exactly the corrupted bytes`, async () => {
      const { ws, file, checkpointId, rows } = await setUp("cli-corrupt-sqlite");
      corrupt(file);
      const corrupted = filesOf(file);
      if (name.includes("WAL")) expect(corrupted.wal?.size ?? 0).toBeGreaterThan(0);
      if (name.includes("hot journal")) expect(corrupted.journal?.size ?? 0).toBeGreaterThan(0);

      const rolledBack = await cliJson<RollbackJson>(ws, ["rollback", checkpointId, "--yes"]);
      expect(rolledBack.outcome).toBe("succeeded");
      expect(rolledBack.restoredDatabases).toEqual([TARGET]);
      // The checkpoint's rows exactly: nothing of a journal that lay beside the corrupted file was replayed into it.
      expect(memories(file)).toBe(rows);
      expect(fs.readdirSync(path.dirname(file)).filter((n) => n.includes("safetynet"))).toEqual([]);

      // The safety checkpoint says what it holds.
      const safety = await cliJson<CheckpointDetail>(ws, ["checkpoint", "show", rolledBack.safetyCheckpointId]);
      expect(safety.databases).toHaveLength(1);
      expect(safety.databases[0]).toMatchObject({ target: TARGET, format: "raw", state: "present", tables: [], size: corrupted.db?.size, sha256: corrupted.db?.sha256 });
      expect(safety.databases[0]?.unreadable).toMatch(unreadable);
      const diff = await cliJson<CheckpointDiff>(ws, ["checkpoint", "diff", rolledBack.safetyCheckpointId]);
      expect(diff.databases[0]).toMatchObject({ target: TARGET, changed: true, exists: true, unreadableNow: null, error: null });
      expect(diff.databases[0]?.rawBytes).toMatch(unreadable);
      const plan = await cliJson<RollbackPlanBody>(ws, ["rollback", rolledBack.safetyCheckpointId, "--dry-run"]);
      expect(plan.databases).toEqual([expect.objectContaining({ target: TARGET, action: "replace", format: "raw", unreadable: expect.stringMatching(unreadable) })]);
      const text = await runCli(ws, ["rollback", rolledBack.safetyCheckpointId, "--dry-run"]);
      expect(text.stdout).toContain(`database replace ${TARGET} (the raw bytes of a file SQLite would not read as a database`);
      expect(await cliJson(ws, ["checkpoint", "verify", rolledBack.safetyCheckpointId])).toMatchObject({ state: "verified", problems: [] });

      // Undo: the rollback to its safety checkpoint writes the bytes back, journal files included.
      const undone = await cliJson<RollbackJson>(ws, ["rollback", rolledBack.safetyCheckpointId, "--yes"]);
      expect(undone.outcome).toBe("succeeded");
      expect(filesOf(file)).toEqual(corrupted);
      const same = await cliJson<CheckpointDiff>(ws, ["checkpoint", "diff", rolledBack.safetyCheckpointId]);
      expect(same.databases[0]).toMatchObject({ changed: false, rawBytes: expect.stringMatching(unreadable) });
      // And that undo can itself be undone: the database is back once more.
      await cliJson<RollbackJson>(ws, ["rollback", undone.safetyCheckpointId, "--yes"]);
      expect(memories(file)).toBe(rows);
    });
  }

  it("shows in the diff before the rollback, and refuses a plain checkpoint of it with exit 2 naming the file", async () => {
    const { ws, file, checkpointId } = await setUp("cli-corrupt-sqlite-diff");
    fs.writeFileSync(file, randomBytes(4096));
    const diff = await cliJson<CheckpointDiff>(ws, ["checkpoint", "diff", checkpointId]);
    expect(diff.databases[0]).toMatchObject({ target: TARGET, changed: true, exists: true, rawBytes: null, unreadableNow: "not a SQLite database", error: null });
    const text = await runCli(ws, ["checkpoint", "diff", checkpointId]);
    expect(text.stdout).toContain(`database ${TARGET}: the file is not a database SQLite reads now (not a SQLite database); a rollback replaces it`);

    const refused = await runCli(ws, ["checkpoint", "create", "agent", "--db", "--json"]);
    expect(refused.status, refused.stderr).toBe(2);
    expect(jsonOf<CliErrorJson>(refused).error.message).toBe(`database target ${TARGET}: ${file} is not a SQLite database (a rollback to a checkpoint taken with --db puts the database back)`);
  });

  it("exports the safety checkpoint with the raw bytes and their journal file, described in databases.json", async () => {
    const { ws, file, checkpointId } = await setUp("cli-corrupt-sqlite-export");
    corruptWhileOpenInWal(file);
    const corrupted = filesOf(file);
    const rolledBack = await cliJson<RollbackJson>(ws, ["rollback", checkpointId, "--yes"]);
    const out = makeTempDir("cli-corrupt-sqlite-unpacked");
    const archive = path.join(out, "safety.tar.gz");
    await cliJson(ws, ["checkpoint", "export", rolledBack.safetyCheckpointId, "--format", "tar.gz", "-o", archive]);
    execFileSync("tar", ["-xzf", archive, "-C", out]);
    const folder = path.join(out, `agent-${rolledBack.safetyCheckpointId}`, ".safetynet-databases");
    expect(bytesOf(path.join(folder, "sqlite-memory-agent.db.raw"))).toEqual(corrupted.db);
    expect(bytesOf(path.join(folder, "sqlite-memory-agent.db.raw-wal"))).toEqual(corrupted.wal);
    const described = JSON.parse(fs.readFileSync(path.join(folder, "databases.json"), "utf8")) as { format: string; file: string; sideFiles: { suffix: string; file: string }[] }[];
    expect(described).toEqual([
      expect.objectContaining({ format: "raw", unreadable: "not a SQLite database", file: ".safetynet-databases/sqlite-memory-agent.db.raw", sideFiles: [expect.objectContaining({ suffix: "-wal", file: ".safetynet-databases/sqlite-memory-agent.db.raw-wal" })] }),
    ]);
  });

  it("that was deleted is rolled back as before: the database comes back, and the undo removes it again", async () => {
    const { ws, file, checkpointId, rows } = await setUp("cli-corrupt-sqlite-gone");
    for (const suffix of ["", "-wal", "-shm", "-journal"]) fs.rmSync(file + suffix, { force: true });
    const rolledBack = await cliJson<RollbackJson>(ws, ["rollback", checkpointId, "--yes"]);
    expect(memories(file)).toBe(rows);
    const safety = await cliJson<CheckpointDetail>(ws, ["checkpoint", "show", rolledBack.safetyCheckpointId]);
    expect(safety.databases[0]).toMatchObject({ format: "sqlite", state: "absent", sha256: null });
    await cliJson<RollbackJson>(ws, ["rollback", rolledBack.safetyCheckpointId, "--yes"]);
    expect(fs.readdirSync(path.dirname(file)).filter((n) => n.startsWith("agent.db"))).toEqual([]);
  });
});
