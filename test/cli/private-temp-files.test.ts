/**
 * Files that hold user data are their owner's only from the moment they are
 * created, temp files included, through the CLI as a process: the PostgreSQL
 * dump and restore list a checkpoint and a rollback write into store/tmp (seen
 * by the client tools themselves, and after a crash that leaves them there), and
 * an export's temp file beside `-o` (seen mid-way). An export's temp file never
 * outlives it: SIGINT, SIGTERM and SIGHUP remove it at once, and after a SIGKILL
 * the next export to the same file removes it, touching nothing else.
 */
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import { findClientTools } from "../../server/dbstate/postgres-tools";
import { APP_SCHEMA_SQL, createAppDatabase, DESTRUCTIVE_MIGRATION_SQL, runSql, type AppDatabase } from "../support/app-database";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, makeTempDir, makeWorkspaceDirs, runCli, spawnCli, writeTree, type WorkspaceDirs } from "../support/workspace";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

const APP_ENV = "APP_DATABASE_URL";
let app: AppDatabase;
beforeAll(async () => {
  app = await createAppDatabase("cli_private_tmp");
});
afterAll(async () => {
  await app?.drop();
});

const children: ReturnType<typeof spawnCli>[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

function modeOf(p: string): string {
  return (fs.lstatSync(p).mode & 0o777).toString(8);
}

/** Every file and folder under `dir` that another local user could read or enter, with its mode. */
function openToOthers(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).flatMap((rel) => {
    const st = fs.lstatSync(path.join(dir, rel));
    return !st.isSymbolicLink() && (st.mode & 0o077) !== 0 ? [`${rel} ${modeOf(path.join(dir, rel))}`] : [];
  });
}

/**
 * A folder of pg_dump, pg_restore and psql that run the real ones and write to
 * `log` the mode of the files they are given: the dump pg_dump wrote (--file), the
 * list pg_restore reads (--use-list). With `killParent`, pg_dump then SIGKILLs the
 * CLI that started it: a crash that leaves the dump in store/tmp.
 */
function observingClientTools(dir: string, log: string, options: { killParent?: boolean } = {}): string {
  const real = findClientTools(0, "test")?.dir;
  if (!real) throw new Error("these specs need the PostgreSQL client tools (pg_dump, pg_restore, psql)");
  const bin = path.join(dir, "pg-bin");
  fs.mkdirSync(bin);
  const record = (tool: string, option: string) => `
prev=""
for arg in "$@"; do
  case "$arg" in ${option}=*) f="\${arg#${option}=}";; *) [ "$prev" = "${option}" ] && f="$arg";; esac
  prev="$arg"
done
[ -n "\${f:-}" ] && [ -e "$f" ] && echo "${tool} $(stat -c %a "$f") $f" >> ${JSON.stringify(log)}`;
  const script = {
    pg_dump: `#!/bin/sh\n${JSON.stringify(path.join(real, "pg_dump"))} "$@"; code=$?\n${record("pg_dump", "--file")}\n${options.killParent ? "[ -n \"${f:-}\" ] && kill -9 $PPID\n" : ""}exit $code\n`,
    pg_restore: `#!/bin/sh\n${record("pg_restore", "--use-list")}\nexec ${JSON.stringify(path.join(real, "pg_restore"))} "$@"\n`,
    psql: `#!/bin/sh\nexec ${JSON.stringify(path.join(real, "psql"))} "$@"\n`,
  };
  for (const [tool, text] of Object.entries(script)) fs.writeFileSync(path.join(bin, tool), text, { mode: 0o755 });
  return bin;
}

function logged(log: string): { tool: string; mode: string; file: string }[] {
  if (!fs.existsSync(log)) return [];
  return fs
    .readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((line) => {
      const [tool = "", mode = "", file = ""] = line.split(" ");
      return { tool, mode, file };
    });
}

async function shopWithDatabase(label: string): Promise<{ ws: WorkspaceDirs; env: Record<string, string> }> {
  await runSql(app.url, "DROP SCHEMA IF EXISTS public CASCADE; DROP SCHEMA IF EXISTS audit CASCADE; CREATE SCHEMA public;");
  await runSql(app.url, APP_SCHEMA_SQL);
  const ws = makeWorkspaceDirs(label);
  writeTree(ws.root, { "src/users.ts": "export {};\n" });
  await cliJson(ws, ["component", "add", "shop", "--root", ws.root, "--db", `postgres:${APP_ENV}?schema=public`], 0, { env: { [APP_ENV]: app.url } });
  return { ws, env: { [APP_ENV]: app.url } };
}

describe("PostgreSQL dumps and restore lists in store/tmp", () => {
  it("are created 0600: the dumps of a checkpoint and of a rollback's safety snapshot, and the restore's list", async () => {
    const { ws, env } = await shopWithDatabase("private-pg-tmp");
    const log = path.join(ws.base, "tools.log");
    const options = { env: { ...env, SAFETYNET_PG_BIN: observingClientTools(ws.base, log) } };
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "shop", "--db"], 0, options);
    expect(created.databases[0]?.format).toBe("pg_dump");
    await runSql(app.url, DESTRUCTIVE_MIGRATION_SQL);
    await cliJson(ws, ["rollback", created.id, "--yes"], 0, options);

    const tmp = path.join(ws.dataDir, "store", "tmp") + path.sep;
    const seen = logged(log);
    // The checkpoint's dump, the safety snapshot's dump, the restore's list: each in store/tmp, each 0600.
    expect(seen.map((s) => s.tool)).toEqual(["pg_dump", "pg_dump", "pg_restore"]);
    expect(seen.filter((s) => !s.file.startsWith(tmp))).toEqual([]);
    expect(seen.filter((s) => s.mode !== "600")).toEqual([]);
    // Nothing is left in store/tmp, and nothing in the data directory is open to others.
    expect(fs.readdirSync(tmp)).toEqual([]);
    expect(openToOthers(ws.dataDir)).toEqual([]);
  });

  it("left in store/tmp by a crash in the middle of a checkpoint, are 0600", async () => {
    const { ws, env } = await shopWithDatabase("private-pg-crash");
    const log = path.join(ws.base, "tools.log");
    const crashed = await runCli(ws, ["checkpoint", "create", "shop", "--db"], { env: { ...env, SAFETYNET_PG_BIN: observingClientTools(ws.base, log, { killParent: true }) } });
    expect(crashed.signal, crashed.stderr).toBe("SIGKILL");
    const left = fs.readdirSync(path.join(ws.dataDir, "store", "tmp"));
    expect(left).toHaveLength(1);
    expect(modeOf(path.join(ws.dataDir, "store", "tmp", left[0] as string))).toBe("600");
    expect(openToOthers(ws.dataDir)).toEqual([]);
  });
});

describe("an export's temp file", () => {
  async function exported(label: string) {
    const ws = makeWorkspaceDirs(label);
    writeTree(ws.root, { "config/secrets.env": { content: "db_password=hunter2\n", mode: 0o600 }, "src/app.ts": "export {};\n" });
    await cliJson(ws, ["component", "add", "app", "--root", ws.root]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "app"]);
    const out = makeTempDir(`${label}-out`);
    return { ws, id: created.id, out, file: path.join(out, "app.tar.gz") };
  }

  /** The temp files of an export to `app.tar.gz`: `.app.tar.gz.<pid>.<12 hex>.tmp`. */
  const TEMP = /^\.app\.tar\.gz\.(\d+)\.[0-9a-f]{12}\.tmp$/;

  it("is 0600 while the export writes it, and SIGTERM or SIGINT removes it at once", async () => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const { ws, id, out, file } = await exported(`export-${signal.toLowerCase()}`);
      // Held right after the temp file is created (test/support/fault-seam.mjs, mode pause).
      const child = spawnCli(ws, ["checkpoint", "export", id, "--format", "tar.gz", "-o", file], { fault: { after: 1, under: out, mode: "pause" } });
      children.push(child);
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const closed = once(child, "close") as Promise<[number | null, NodeJS.Signals | null]>;
      while (!stderr.includes("safetynet-test-seam: paused")) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the export ended before it paused:\n${stderr}`);
        await once(child.stderr, "data");
      }
      const names = fs.readdirSync(out);
      expect(names.map((name) => modeOf(path.join(out, name)))).toEqual(["600"]);
      expect(names).toEqual([expect.stringMatching(TEMP)]);
      expect(Number(TEMP.exec(names[0] as string)?.[1])).toBe(child.pid);

      child.kill(signal);
      const [, endedBy] = await closed;
      expect(endedBy, stderr).toBe(signal);
      expect(fs.readdirSync(out)).toEqual([]);
    }
  });

  it("left by a SIGKILL is 0600 and removed by the next export to that file, which touches nothing else; the archive is 0600", async () => {
    const { ws, id, out, file } = await exported("export-sigkill");
    // Killed just before the temp file would be renamed to app.tar.gz: the whole archive is in it.
    const killed = await runCli(ws, ["checkpoint", "export", id, "--format", "tar.gz", "-o", file], { fault: { after: 2, under: out } });
    expect(killed.signal, killed.stderr).toBe("SIGKILL");
    const left = fs.readdirSync(out);
    expect(left.map((name) => modeOf(path.join(out, name)))).toEqual(["600"]);
    expect(left).toEqual([expect.stringMatching(TEMP)]);
    const stale = left[0] as string;
    const deadPid = Number(TEMP.exec(stale)?.[1]);
    expect(fs.existsSync(file)).toBe(false);

    // Beside it, names that are not stale temp files of app.tar.gz (or not files): all stay.
    const keep = [
      `.app.tar.gz.${process.pid}.0123456789ab.tmp`, // a live process's
      ".app.tar.gz.0123456789ab.tmp", // no pid
      `.other.tar.gz.${deadPid}.0123456789ab.tmp`, // another output's
      `.app.tar.gz.${deadPid}.0123456789ab.tmp.bak`,
      `app.tar.gz.${deadPid}.0123456789ab.tmp`,
      `.app.tar.gz.${deadPid}.0123456789AB.tmp`,
    ];
    for (const name of keep) fs.writeFileSync(path.join(out, name), "not ours\n");
    fs.mkdirSync(path.join(out, `.app.tar.gz.${deadPid}.aaaaaaaaaaaa.tmp`));
    fs.symlinkSync(path.join(ws.root, "src", "app.ts"), path.join(out, `.app.tar.gz.${deadPid}.bbbbbbbbbbbb.tmp`));

    await cliJson(ws, ["checkpoint", "export", id, "--format", "tar.gz", "-o", file]);
    expect(fs.readdirSync(out).sort()).toEqual(["app.tar.gz", ...keep, `.app.tar.gz.${deadPid}.aaaaaaaaaaaa.tmp`, `.app.tar.gz.${deadPid}.bbbbbbbbbbbb.tmp`].sort());
    expect(modeOf(file)).toBe("600");
    expect(fs.readFileSync(path.join(ws.root, "src", "app.ts"), "utf8")).toBe("export {};\n");
  });
});
