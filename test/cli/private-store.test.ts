/**
 * The data directory is its owner's only: another local user cannot read a
 * checkpointed copy of a file they could not read in the workspace, nor the
 * database. Run as root, with `nobody` as the other user (these specs need both).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, IS_ROOT, makeWorkspaceDirs, NOBODY, runCli, sha256Of, writeTree, type WorkspaceDirs } from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import { onPostgresPass } from "../support/metadata-store";
import { readStoredObject, storedObjectFile } from "../support/stored-objects";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

const SECRET = "db_password=hunter2-0f3a9c\n";

function modeOf(p: string): string {
  return (fs.statSync(p).mode & 0o777).toString(8);
}

/** `cat <file>` as nobody: what another local user gets. */
function catAsNobody(file: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync("cat", [file], { uid: NOBODY.uid, gid: NOBODY.gid, encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The errno another local user gets reading `file`, or "read" when it works. */
function readAsNobody(file: string): string {
  const script = `try { require("node:fs").readFileSync(${JSON.stringify(file)}); console.log("read"); } catch (e) { console.log(e.code); }`;
  return spawnSync(process.execPath, ["-e", script], { uid: NOBODY.uid, gid: NOBODY.gid, encoding: "utf8" }).stdout.trim();
}

/** Workspace dirs whose base another user may enter (mkdtemp makes it 0700), so only the data directory's own modes protect it. */
function openDirs(label: string): WorkspaceDirs {
  const ws = makeWorkspaceDirs(label);
  fs.chmodSync(ws.base, 0o755);
  return ws;
}

// Needs root to act as two users; skipped (and reported as skipped) otherwise.
describe.skipIf(!IS_ROOT)("a private store", () => {
  it("keeps another local user from reading a checkpointed 0600 secret, the database and the data directory", async () => {
    const ws = openDirs("private-store");
    writeTree(ws.root, { "config/secrets.env": { content: SECRET, mode: 0o600 }, "readme.md": "public\n" });
    // The workspace file itself is private to its owner.
    expect(catAsNobody(path.join(ws.root, "config/secrets.env")).stderr).toMatch(/Permission denied/);

    await cliJson(ws, ["component", "add", "app", "--root", ws.root]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "app"]);
    const sha = sha256Of(SECRET);
    const object = storedObjectFile(ws.dataDir, sha);
    expect(readStoredObject(ws.dataDir, sha).toString("utf8")).toBe(SECRET);

    const refused = catAsNobody(object);
    expect(refused.status).not.toBe(0);
    expect(refused.stdout).not.toContain("hunter2");
    expect(refused.stderr).toMatch(/Permission denied/);
    // The SQLite database file (on the PostgreSQL pass the metadata lives in PostgreSQL).
    const db = onPostgresPass() ? [] : [path.join(ws.dataDir, "safetynet.db")];
    for (const file of [object, ...db, path.join(ws.dataDir, "store", "snapshots", `${created.id}.json`)]) {
      expect(readAsNobody(file), file).toBe("EACCES");
    }
    expect(spawnSync("ls", [ws.dataDir], { uid: NOBODY.uid, gid: NOBODY.gid, encoding: "utf8" }).stderr).toMatch(/Permission denied/);
  });

  // The WAL and SHM exist while a process has the database open: test/http/private-store.test.ts checks the server's.
  it("creates every directory 0700, the database and the small files 0600, and objects 0400", async () => {
    const ws = openDirs("private-modes");
    writeTree(ws.root, { "a.txt": "a\n", "b.txt": "b\n" });
    // Past the stat cache's racy window (mtime and ctime), so the checkpoint writes a stat cache.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await cliJson(ws, ["component", "add", "app", "--root", ws.root]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "app"]);
    fs.writeFileSync(path.join(ws.root, "a.txt"), "changed\n");
    await cliJson(ws, ["rollback", created.id, "--yes"]);

    const data = ws.dataDir;
    // On the PostgreSQL pass the metadata lives in PostgreSQL: there is no database file.
    const sqliteFiles = onPostgresPass() ? [] : ["safetynet.db"];
    expect(modeOf(data)).toBe("700");
    for (const file of sqliteFiles) expect(modeOf(path.join(data, file))).toBe("600");

    const walk = (dir: string): string[] => fs.readdirSync(dir).flatMap((name) => {
      const p = path.join(dir, name);
      return fs.lstatSync(p).isDirectory() ? [p, ...walk(p)] : [p];
    });
    const entries = walk(data);
    const objectsDir = path.join(data, "store", "objects") + path.sep;
    const dirs = entries.filter((p) => fs.lstatSync(p).isDirectory());
    const objects = entries.filter((p) => p.startsWith(objectsDir) && fs.lstatSync(p).isFile());
    const others = entries.filter((p) => !dirs.includes(p) && !objects.includes(p));
    // journal/, locks/, stat-cache/, logs/, store/ and its objects/, fan-outs, tmp/ and snapshots/.
    expect(dirs.map((p) => path.relative(data, p))).toEqual(expect.arrayContaining(["journal", "locks", "stat-cache", "logs", "store/objects", "store/snapshots", "store/tmp"]));
    expect(dirs.filter((p) => modeOf(p) !== "700").map((p) => `${path.relative(data, p)} ${modeOf(p)}`)).toEqual([]);
    expect(objects.length).toBeGreaterThanOrEqual(4);
    expect(objects.filter((p) => modeOf(p) !== "400").map((p) => `${path.relative(data, p)} ${modeOf(p)}`)).toEqual([]);
    // The database, snapshot records, the stat cache, lock files, the log.
    expect(others.map((p) => path.relative(data, p))).toEqual(expect.arrayContaining([...sqliteFiles, "logs/safetynet.log", `store/snapshots/${created.id}.json`]));
    // Lock files with SQLite; PostgreSQL's advisory locks leave none.
    expect(others.some((p) => p.startsWith(path.join(data, "locks") + path.sep))).toBe(!onPostgresPass());
    expect(others.some((p) => p.startsWith(path.join(data, "stat-cache") + path.sep))).toBe(true);
    expect(others.filter((p) => modeOf(p) !== "600").map((p) => `${path.relative(data, p)} ${modeOf(p)}`)).toEqual([]);
  });

  it("warns, without changing it, when an existing data directory is more open than 0700", async () => {
    const ws = openDirs("private-warn");
    fs.mkdirSync(ws.dataDir, { mode: 0o755 });
    fs.chmodSync(ws.dataDir, 0o755);
    const result = await runCli(ws, ["component", "list", "--json"]);
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toBeTypeOf("object");
    const warnings = result.stderr.split("\n").filter((line) => line.includes("warning"));
    expect(warnings).toEqual([
      `safetynet: warning: the data directory ${ws.dataDir} has mode 0755, so other local users can read checkpointed files; fix it with: chmod 700 ${ws.dataDir}`,
    ]);
    expect(modeOf(ws.dataDir)).toBe("755");

    fs.chmodSync(ws.dataDir, 0o700);
    const quiet = await runCli(ws, ["component", "list", "--json"]);
    expect(quiet.stderr).not.toContain("warning");
  });
});
