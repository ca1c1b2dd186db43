/**
 * PostgreSQL's client tools, when this machine has them: pg_dump (custom format,
 * from the snapshot the caller exported, so the dump and the row counts see the
 * same moment), and pg_restore piped into psql --single-transaction for the
 * restore (all or nothing). Everything streams through files and pipes: a dump
 * of any size never sits in this process's memory.
 *
 *   SAFETYNET_PG_BIN   the folder holding pg_dump, pg_restore and psql; `none` to
 *                      use the in-process snapshot (postgres-copy.ts) even when
 *                      they are installed. Default: PATH, then /usr/lib/postgresql/<n>/bin.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ConflictError, OperationFailedError } from "../errors";
import { quoteIdent } from "../db/sql-identifier";
import { createPrivateFile, PRIVATE_FILE_MODE } from "../private-files";
import type { TargetConnection } from "./postgres-connection";

export interface ClientTools {
  dir: string;
  major: number;
  version: string;
}

const TOOLS = ["pg_dump", "pg_restore", "psql"];

function versionOf(dir: string): { major: number; version: string } | null {
  const result = spawnSync(path.join(dir, "pg_dump"), ["--version"], { encoding: "utf8" });
  const match = /(\d+)(?:\.(\d+))?/.exec(result.stdout ?? "");
  if (result.status !== 0 || !match) return null;
  return { major: Number(match[1]), version: (result.stdout ?? "").trim() };
}

function candidateDirs(env: NodeJS.ProcessEnv): string[] {
  const fromPath = (env.PATH ?? "").split(path.delimiter).filter(Boolean);
  let versioned: string[] = [];
  try {
    versioned = readdirSync("/usr/lib/postgresql")
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a))
      .map((v) => path.join("/usr/lib/postgresql", v, "bin"));
  } catch {
    // not a Debian-style installation
  }
  return [...fromPath, ...versioned];
}

/**
 * The client tools to use for a server of major version `serverMajor`: null when
 * there are none (or SAFETYNET_PG_BIN=none), so the caller falls back to the
 * in-process snapshot. Tools older than the server cannot dump it: that is an
 * error naming both versions, not a silent fallback.
 */
export function findClientTools(serverMajor: number, targetName: string, env: NodeJS.ProcessEnv = process.env): ClientTools | null {
  const configured = env.SAFETYNET_PG_BIN?.trim();
  if (configured === "none") return null;
  const dirs = configured ? [configured] : candidateDirs(env);
  const found: ClientTools[] = [];
  for (const dir of [...new Set(dirs)]) {
    if (!TOOLS.every((tool) => existsSync(path.join(dir, tool)))) continue;
    const version = versionOf(dir);
    if (version) found.push({ dir, ...version });
  }
  if (found.length === 0) {
    if (configured) throw new OperationFailedError(`SAFETYNET_PG_BIN=${configured} does not hold pg_dump, pg_restore and psql`, { target: targetName, field: "SAFETYNET_PG_BIN" });
    return null;
  }
  const usable = found.find((t) => t.major >= serverMajor);
  if (!usable) {
    const best = found.reduce((a, b) => (b.major > a.major ? b : a));
    throw new OperationFailedError(
      `database target ${targetName}: the PostgreSQL client tools here (${best.version}, in ${best.dir}) cannot dump a version ${serverMajor} server: ` +
        `install the version ${serverMajor} client tools (postgresql-client-${serverMajor}) and point SAFETYNET_PG_BIN at their folder; nothing was checkpointed`,
      { target: targetName, clientMajor: best.major, serverMajor },
    );
  }
  return usable;
}

function toolEnv(connection: TargetConnection): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PGCONNECT_TIMEOUT: "15" };
  // The password goes through the environment, never the command line (where `ps` shows it).
  if (connection.password !== null) env.PGPASSWORD = connection.password;
  else delete env.PGPASSWORD;
  return env;
}

/** The last lines a tool wrote to stderr that say what went wrong (psql prefixes them with ERROR:). */
function lastError(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  const errors = lines.filter((l) => /ERROR|FATAL|error:/i.test(l));
  return (errors.length > 0 ? errors : lines).slice(-3).join(" | ").slice(0, 2000) || "no error output";
}

function collect(stream: NodeJS.ReadableStream | null, limit = 64 * 1024): () => string {
  let text = "";
  stream?.setEncoding?.("utf8");
  stream?.on("data", (chunk: string) => {
    if (text.length < limit) text += chunk;
  });
  return () => text;
}

function exited(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code) => resolve(code));
  });
}

/** pg_dump --format=custom of the selection into `file`, from the exported snapshot `snapshotId`. */
export async function runPgDump(
  tools: ClientTools,
  connection: TargetConnection,
  selection: { schemas: string[]; tables: string[] },
  snapshotId: string,
  file: string,
  targetName: string,
): Promise<void> {
  // Quoted patterns: exact names, no wildcards, case kept.
  const filters =
    selection.tables.length > 0
      ? selection.tables.flatMap((t) => ["--table", t.split(".").map(quoteIdent).join(".")])
      : selection.schemas.flatMap((s) => ["--schema", quoteIdent(s)]);
  // Created private first: pg_dump writes into it (truncating, keeping its mode) instead of making it 0644.
  createPrivateFile(file);
  // Level 1: about half the time of the default level for nearly the same size (a checkpoint is taken before every agent step).
  const child = spawn(path.join(tools.dir, "pg_dump"), ["--format=custom", "--compress=1", "--no-password", `--snapshot=${snapshotId}`, `--file=${file}`, ...filters, "--dbname", connection.toolUrl], {
    env: toolEnv(connection),
    stdio: ["ignore", "ignore", "pipe"],
  });
  const stderr = collect(child.stderr);
  const code = await exited(child);
  if (code !== 0) throw new OperationFailedError(`database target ${targetName}: pg_dump failed: ${lastError(stderr())}; nothing was checkpointed`, { target: targetName, tool: "pg_dump", exitCode: code });
}

/**
 * Restores a custom-format dump in ONE transaction: psql --single-transaction
 * reads `prologue`, then pg_restore's SQL for the archive (schema-level entries
 * left out: the schemas themselves stay), then `epilogue`. Any error rolls all of
 * it back: the database is as it was.
 */
export async function runPgRestore(
  tools: ClientTools,
  connection: TargetConnection,
  archive: string,
  /** A scratch file for the archive's filtered table of contents. */
  listFile: string,
  plan: { prologue: string[]; epilogue: string[] },
  targetName: string,
): Promise<void> {
  const env = toolEnv(connection);
  const list = spawnSync(path.join(tools.dir, "pg_restore"), ["--list", archive], { env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (list.status !== 0) throw new OperationFailedError(`database target ${targetName}: pg_restore cannot read the snapshot: ${lastError(list.stderr)}`, { target: targetName, tool: "pg_restore" });
  // "5; 2615 2200 SCHEMA - public owner", "COMMENT - SCHEMA public", "ACL - SCHEMA public": the schema stays as it is.
  const entries = list.stdout
    .split("\n")
    .filter((line) => line && !line.startsWith(";") && !/^\d+; \d+ \d+ (SCHEMA - |COMMENT - SCHEMA |ACL - SCHEMA )/.test(line));
  try {
    writeFileSync(listFile, entries.join("\n") + "\n", { mode: PRIVATE_FILE_MODE, flag: "wx" });
    const psql = spawn(path.join(tools.dir, "psql"), ["--no-psqlrc", "--quiet", "--no-password", "--set", "ON_ERROR_STOP=1", "--single-transaction", "--dbname", connection.toolUrl], {
      env,
      stdio: ["pipe", "ignore", "pipe"],
    });
    const psqlErrors = collect(psql.stderr);
    const psqlDone = exited(psql);
    const restore = spawn(path.join(tools.dir, "pg_restore"), ["--use-list", listFile, "--file=-", archive], { env, stdio: ["ignore", "pipe", "pipe"] });
    const restoreErrors = collect(restore.stderr);
    const restoreDone = exited(restore);
    const input = psql.stdin;
    input.on("error", () => undefined); // psql stopped reading (an error): its exit code says why
    input.write(plan.prologue.map((s) => `${s};\n`).join(""));
    restore.stdout.pipe(input, { end: false });
    const restoreCode = await restoreDone;
    if (restoreCode === 0) input.end(plan.epilogue.map((s) => `${s};\n`).join(""));
    else input.destroy();
    const psqlCode = await psqlDone;
    if (restoreCode !== 0) throw new OperationFailedError(`database target ${targetName}: pg_restore failed: ${lastError(restoreErrors())}; nothing was restored (one transaction)`, { target: targetName, tool: "pg_restore" });
    if (psqlCode !== 0) {
      const message = lastError(psqlErrors());
      const details = { target: targetName, tool: "psql", exitCode: psqlCode };
      if (/lock timeout|canceling statement due to lock timeout/i.test(message)) {
        throw new ConflictError(`database target ${targetName}: another session holds a lock on the tables: ${message}; nothing was restored, try again when it is done`, details);
      }
      throw new OperationFailedError(`database target ${targetName}: the restore failed: ${message}; nothing was restored (one transaction, rolled back)`, details);
    }
  } finally {
    rmSync(listFile, { force: true });
  }
}
