/**
 * `safetynet guard <component> [--path p]... [--reason r] [--auto-rollback] -- <command...>`
 * on a local data directory: checkpoint, run, and on failure roll back or say how.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, jsonOf, makeWorkspaceDirs, readTree, runCli, treeDifferences, writeTree, type WorkspaceDirs } from "../support/workspace";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

interface GuardJson {
  component: string;
  checkpointId: string;
  command: string[];
  exitCode: number;
  signal: string | null;
  outcome: "succeeded" | "failed" | "not-started";
  rollback: null | { rollbackId?: string; outcome: string; restored?: number; deleted?: number; safetyCheckpointId?: string; error?: string };
  rollbackCommand: string;
}

/** A command that does what a bad agent run does (modify, add, delete in the component) and exits with `code`. */
function agentRun(root: string, code: number): string[] {
  const script = [
    `const fs = require("fs"), p = require("path"), r = ${JSON.stringify(root)};`,
    `fs.writeFileSync(p.join(r, "src/a.ts"), "export const a = 'broken';\\n");`,
    `fs.writeFileSync(p.join(r, "src/new.ts"), "new\\n");`,
    `fs.rmSync(p.join(r, "src/c.ts"));`,
    `console.log("agent output on stdout");`,
    `process.exit(${code});`,
  ].join(" ");
  return [process.execPath, "-e", script];
}

/** Every table's definition and rows of a SQLite database, in a stable order. */
function sqliteRows(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string; sql: string }[];
    return JSON.stringify(tables.map((t) => [t.sql, db.prepare(`SELECT * FROM "${t.name}" ORDER BY rowid`).all()]));
  } finally {
    db.close();
  }
}

async function appWorkspace(): Promise<WorkspaceDirs> {
  const dirs = makeWorkspaceDirs("guard");
  writeTree(dirs.root, { "src/a.ts": "export const a = 1;\n", "src/c.ts": "export const c = 3;\n", "docs/notes.md": "notes\n" });
  await cliJson(dirs, ["component", "add", "app", "--root", dirs.root]);
  return dirs;
}

describe("safetynet guard", () => {
  it("rolls a failing command's changes back with --auto-rollback and passes its exit code through", async () => {
    const dirs = await appWorkspace();
    const before = readTree(dirs.root);
    const result = await runCli(dirs, ["guard", "app", "--reason", "agent run 7", "--auto-rollback", "--", ...agentRun(dirs.root, 3)]);
    expect(result.status, result.stderr).toBe(3);
    expect(treeDifferences(before, readTree(dirs.root))).toEqual([]);
    expect(result.stdout).toContain("agent output on stdout");
    expect(result.stderr).toMatch(/exited with code 3; rolled app back to cp_\w+ in .*: 2 restored, 1 deleted/);
    // The command's changes are not lost: the safety checkpoint holds them.
    const safety = /kept in safety checkpoint (cp_\w+)/.exec(result.stderr)?.[1];
    expect(safety).toBeDefined();

    const checkpoints = await cliJson<{ items: { id: string; kind: string; reason: string | null }[] }>(dirs, ["checkpoint", "list", "app"]);
    expect(checkpoints.items.find((c) => c.kind === "manual")?.reason).toBe("agent run 7");
    expect(checkpoints.items.map((c) => c.id)).toContain(safety);
    const history = await cliJson<{ items: { kind: string; outcome: string; actor: string }[] }>(dirs, ["history", "app", "--kind", "rollback"]);
    expect(history.items).toEqual([expect.objectContaining({ kind: "rollback", outcome: "succeeded", actor: expect.stringMatching(/^cli/) })]);
  });

  it("without --auto-rollback leaves the files, names the command and prints the exact rollback command, which works", async () => {
    const dirs = await appWorkspace();
    const before = readTree(dirs.root);
    const argv = agentRun(dirs.root, 2);
    const result = await runCli(dirs, ["guard", "app", "--", ...argv]);
    expect(result.status, result.stderr).toBe(2);
    expect(fs.readFileSync(path.join(dirs.root, "src/a.ts"), "utf8")).toBe("export const a = 'broken';\n");
    expect(fs.existsSync(path.join(dirs.root, "src/new.ts"))).toBe(true);
    expect(fs.existsSync(path.join(dirs.root, "src/c.ts"))).toBe(false);

    expect(result.stderr).toContain(`command ${argv[0]} -e `);
    expect(result.stderr).toContain("exited with code 2");
    const printed = /to undo its changes run: (safetynet rollback (cp_\w+))$/m.exec(result.stderr);
    expect(printed, result.stderr).not.toBeNull();
    const [, rollbackCommand, checkpointId] = printed as RegExpExecArray;
    expect(rollbackCommand).toBe(`safetynet rollback ${checkpointId}`);

    const words = (rollbackCommand as string).split(" ").slice(1);
    const rolledBack = await cliJson<{ outcome: string; checkpointId: string }>(dirs, [...words, "--yes"]);
    expect(rolledBack).toMatchObject({ outcome: "succeeded", checkpointId });
    expect(treeDifferences(before, readTree(dirs.root))).toEqual([]);
  });

  it("passes exit codes through: 0 keeps the changes, n stays n, a signal becomes 128+n, a missing command 127", async () => {
    const dirs = await appWorkspace();
    const ok = await runCli(dirs, ["guard", "app", "--auto-rollback", "--", ...agentRun(dirs.root, 0)]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(fs.existsSync(path.join(dirs.root, "src/new.ts"))).toBe(true);
    expect(ok.stderr).toMatch(/succeeded; checkpoint cp_\w+ kept \(undo with: safetynet rollback cp_\w+\)/);

    const fortyTwo = await runCli(dirs, ["guard", "app", "--", process.execPath, "-e", "process.exit(42)"]);
    expect(fortyTwo.status).toBe(42);

    const killed = await runCli(dirs, ["guard", "app", "--", "sh", "-c", "kill -TERM $$"]);
    expect(killed.status).toBe(128 + 15);
    expect(killed.stderr).toMatch(/was killed by SIGTERM \(exit 143\)/);

    const missing = await runCli(dirs, ["guard", "app", "--auto-rollback", "--", "definitely-not-a-command-xyz", "arg"]);
    expect(missing.status).toBe(127);
    expect(missing.stderr).toMatch(/could not be started .*ENOENT.*; nothing ran, so nothing changed/);
    // Nothing ran, so nothing was rolled back.
    const history = await cliJson<{ items: unknown[] }>(dirs, ["history", "app", "--kind", "rollback"]);
    expect(history.items).toEqual([]);
  });

  it("with --json prints one object (the command's stdout goes to stderr) describing the run and the rollback", async () => {
    const dirs = await appWorkspace();
    const before = readTree(dirs.root);
    const result = await runCli(dirs, ["--json", "guard", "app", "--auto-rollback", "--", ...agentRun(dirs.root, 5)]);
    expect(result.status).toBe(5);
    const report = jsonOf<GuardJson>(result);
    expect(report).toMatchObject({
      component: "app",
      checkpointId: expect.stringMatching(/^cp_/),
      exitCode: 5,
      signal: null,
      outcome: "failed",
      rollback: { outcome: "succeeded", restored: 2, deleted: 1, rollbackId: expect.stringMatching(/^rb_/), safetyCheckpointId: expect.stringMatching(/^cp_/) },
    });
    expect(report.command[0]).toBe(process.execPath);
    expect(report.rollbackCommand).toBe(`safetynet rollback ${report.checkpointId}`);
    expect(result.stderr).toContain("agent output on stdout");
    expect(treeDifferences(before, readTree(dirs.root))).toEqual([]);
  });

  it("with --path checkpoints and rolls back only those paths (and their related files)", async () => {
    const dirs = await appWorkspace();
    const script = `const fs = require("fs"); fs.writeFileSync("src/a.ts", "x\\n"); fs.writeFileSync("docs/notes.md", "edited\\n"); process.exit(1);`;
    const result = await runCli(dirs, ["guard", "app", "--path", "src/a.ts", "--auto-rollback", "--", process.execPath, "-e", script], { cwd: dirs.root });
    expect(result.status, result.stderr).toBe(1);
    expect(fs.readFileSync(path.join(dirs.root, "src/a.ts"), "utf8")).toBe("export const a = 1;\n");
    expect(fs.readFileSync(path.join(dirs.root, "docs/notes.md"), "utf8")).toBe("edited\n");
  });

  it("with --db snapshots the database targets too, so a failed migration's schema and rows come back with the files", async () => {
    const dirs = makeWorkspaceDirs("guard-db");
    writeTree(dirs.root, { "prisma/schema.prisma": "model Memory { id Int @id\n text String }\n" });
    const store = path.join(dirs.root, "data/app.db");
    fs.mkdirSync(path.dirname(store));
    const db = new Database(store);
    db.exec("CREATE TABLE memory (id INTEGER PRIMARY KEY, text TEXT NOT NULL)");
    for (let i = 0; i < 50; i++) db.prepare("INSERT INTO memory (text) VALUES (?)").run(`row ${i}`);
    db.close();
    await cliJson(dirs, ["component", "add", "app", "--root", dirs.root, "--db", "sqlite:data/app.db"]);
    const rowsBefore = sqliteRows(store);
    const schemaBefore = fs.readFileSync(path.join(dirs.root, "prisma/schema.prisma"), "utf8");

    // A migration that drops a column's data, deletes rows and rewrites the schema file, then fails.
    const migration = [
      `const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve("better-sqlite3"))});`,
      `const db = new Database(${JSON.stringify(store)});`,
      `db.exec("DELETE FROM memory WHERE id > 10; ALTER TABLE memory RENAME COLUMN text TO body; CREATE TABLE settings (key TEXT)"); db.close();`,
      `require("fs").writeFileSync(${JSON.stringify(path.join(dirs.root, "prisma/schema.prisma"))}, "model Memory { id Int @id\\n body String }\\n");`,
      `process.exit(1);`,
    ].join(" ");
    const result = await runCli(dirs, ["--json", "guard", "app", "--db", "--auto-rollback", "--", process.execPath, "-e", migration]);
    expect(result.status, result.stderr).toBe(1);
    const report = jsonOf<GuardJson & { rollback: { restoredDatabases?: string[] } }>(result);
    expect(report.rollback, JSON.stringify(report.rollback)).toMatchObject({ outcome: "succeeded", restoredDatabases: ["sqlite:data/app.db"] });
    expect(sqliteRows(store)).toEqual(rowsBefore);
    expect(fs.readFileSync(path.join(dirs.root, "prisma/schema.prisma"), "utf8")).toBe(schemaBefore);

    // Without --db the checkpoint holds no database, and the rollback leaves the database as the command left it.
    const again = await runCli(dirs, ["--json", "guard", "app", "--auto-rollback", "--", process.execPath, "-e", migration]);
    expect(again.status, again.stderr).toBe(1);
    expect(jsonOf<GuardJson & { rollback: { restoredDatabases?: string[] } }>(again).rollback).toMatchObject({ outcome: "succeeded", restoredDatabases: [] });
    expect(sqliteRows(store)).not.toEqual(rowsBefore);
    expect(fs.readFileSync(path.join(dirs.root, "prisma/schema.prisma"), "utf8")).toBe(schemaBefore);
  });

  it("refuses bad usage with exit 2 before running anything", async () => {
    const dirs = await appWorkspace();
    const noCommand = await runCli(dirs, ["guard", "app"]);
    expect(noCommand.status).toBe(2);
    const unknown = await runCli(dirs, ["--json", "guard", "nope", "--", "sh", "-c", "touch ran"], { cwd: dirs.base });
    expect(unknown.status).toBe(5);
    expect(jsonOf<{ error: { code: string; message: string } }>(unknown).error).toMatchObject({ code: "NOT_FOUND", message: expect.stringContaining("nope") });
    expect(fs.existsSync(path.join(dirs.base, "ran"))).toBe(false);
  });
});
