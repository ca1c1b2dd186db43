/**
 * PostgreSQL's client tools, when this machine has them: pg_dump (custom format,
 * from the snapshot the caller exported, so the dump and the row counts see the
 * same moment), and pg_restore piped into psql inside one transaction for the
 * restore (all or nothing). Everything streams through files and pipes: a dump
 * of any size never sits in this process's memory. The tools end with this
 * process (server/process/child-lifetime.mjs), and with each other on a failure.
 *
 *   SAFETYNET_PG_BIN   the folder holding pg_dump, pg_restore and psql; `none` to
 *                      use the in-process snapshot (postgres-copy.ts) even when
 *                      they are installed. Default: PATH, then /usr/lib/postgresql/<n>/bin.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { OperationFailedError } from "../errors";
import { quoteIdent } from "../db/sql-identifier";
import { diesWithParent } from "../process/child-lifetime.mjs";
import { createPrivateFile, PRIVATE_FILE_MODE } from "../private-files";
import type { TargetConnection } from "./postgres-connection";
import { lockRefusal, waitedForIn } from "./postgres-locks";

export interface ClientTools {
  dir: string;
  major: number;
  version: string;
}

const TOOLS = ["pg_dump", "pg_restore", "psql"];

function versionOf(dir: string): { major: number; version: string } | null {
  const command = diesWithParent(path.join(dir, "pg_dump"), ["--version"]);
  const result = spawnSync(command.file, command.args, { encoding: "utf8" });
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

/** The last lines a tool wrote to stderr that say what went wrong (psql prefixes them with ERROR:; the SQLSTATE psql adds is left out). */
function lastError(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trim().replace(/^((?:\S+: )?(?:ERROR|FATAL):\s+)[0-9A-Z]{5}: /, "$1")).filter(Boolean);
  const errors = lines.filter((l) => /ERROR|FATAL|error:/i.test(l));
  return (errors.length > 0 ? errors : lines).slice(-3).join(" | ").slice(0, 2000) || "no error output";
}

/**
 * What a tool that gave up waiting for a lock was waiting for, from its stderr,
 * or null when it failed for another reason. psql (VERBOSITY=verbose) gives the
 * SQLSTATE, 55P03 lock_not_available, whatever the server's language, and with
 * --echo-errors the statement after "STATEMENT:"; pg_dump's --lock-wait-timeout
 * is a statement timeout around its LOCK TABLE, reported with "Query was:".
 */
function lockWaitIn(stderr: string): string | null {
  const statement = /(?:STATEMENT|Query was):\s*(.+)/.exec(stderr)?.[1]?.trim() ?? null;
  const lockTimeout = /(?:ERROR|FATAL):\s+55P03: /.test(stderr) || /due to lock timeout/i.test(stderr);
  const lockWaitTimeout = /due to statement timeout/i.test(stderr) && statement !== null && /^LOCK TABLE /i.test(statement);
  if (!lockTimeout && !lockWaitTimeout) return null;
  return statement ? waitedForIn(statement) : "the tables";
}

function collect(stream: NodeJS.ReadableStream | null, limit = 64 * 1024): () => string {
  let text = "";
  stream?.setEncoding?.("utf8");
  stream?.on("data", (chunk: string) => {
    if (text.length < limit) text += chunk;
  });
  return () => text;
}

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the tool could not be started at all. */
  startError: Error | null;
}

/** How the child ended, once its output pipes are drained; never rejects. */
function ended(child: ChildProcess): Promise<Ended> {
  return new Promise((resolve) => {
    child.once("error", (error) => resolve({ code: null, signal: null, startError: error }));
    child.once("close", (code, signal) => resolve({ code, signal, startError: null }));
  });
}

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

function describeEnd(end: Ended): string {
  if (end.startError) return `could not be started (${end.startError.message})`;
  return end.signal ? `was ended by ${end.signal}` : `exited with ${end.code}`;
}

/** pg_dump --format=custom of the selection into `file`, from the exported snapshot `snapshotId`. */
export async function runPgDump(
  tools: ClientTools,
  connection: TargetConnection,
  selection: { schemas: string[]; tables: string[] },
  snapshotId: string,
  file: string,
  targetName: string,
  lockTimeoutMs: number,
): Promise<void> {
  // Quoted patterns: exact names, no wildcards, case kept.
  const filters =
    selection.tables.length > 0
      ? selection.tables.flatMap((t) => ["--table", t.split(".").map(quoteIdent).join(".")])
      : selection.schemas.flatMap((s) => ["--schema", quoteIdent(s)]);
  // Created private first: pg_dump writes into it (truncating, keeping its mode) instead of making it 0644.
  createPrivateFile(file);
  // Level 1: about half the time of the default level for nearly the same size (a checkpoint is taken before every agent step).
  const command = diesWithParent(path.join(tools.dir, "pg_dump"), [
    "--format=custom",
    "--compress=1",
    "--no-password",
    `--lock-wait-timeout=${lockTimeoutMs}`,
    `--snapshot=${snapshotId}`,
    `--file=${file}`,
    ...filters,
    "--dbname",
    connection.toolUrl,
  ]);
  const child = spawn(command.file, command.args, { env: toolEnv(connection), stdio: ["ignore", "ignore", "pipe"] });
  const stderr = collect(child.stderr);
  const end = await ended(child);
  if (end.code === 0) return;
  const waitedFor = lockWaitIn(stderr());
  if (waitedFor) throw lockRefusal(targetName, waitedFor, lockTimeoutMs, "nothing was checkpointed");
  const why = end.startError || end.signal ? `pg_dump ${describeEnd(end)}` : `pg_dump failed: ${lastError(stderr())}`;
  throw new OperationFailedError(`database target ${targetName}: ${why}; nothing was checkpointed`, { target: targetName, tool: "pg_dump", exitCode: end.code });
}

const sql = (statements: readonly string[]) => statements.map((s) => `${s};\n`).join("");

/**
 * Restores a custom-format dump in ONE transaction: psql reads BEGIN, `prologue`,
 * pg_restore's SQL for the archive (schema-level entries left out: the schemas
 * themselves stay), then `epilogue` and COMMIT. Any error rolls all of it back:
 * the database is as it was.
 *
 * The transaction is written out rather than left to psql --single-transaction,
 * which commits at the end of its input however that input ended: a pg_restore
 * that failed half-way, or this process killed, would commit the drops and part
 * of the data. Here COMMIT is sent only after pg_restore succeeded; a psql whose
 * input ends without it exits, and the server rolls the transaction back.
 *
 * Neither tool may wait on the other after a failure: when psql stops first (an
 * error, a lock wait given up), pg_restore may be blocked writing into the pipe
 * nobody reads any more, so it is killed; when pg_restore fails first, psql is
 * killed before its input is closed, so it never reads that end as the end of
 * the restore.
 */
export async function runPgRestore(
  tools: ClientTools,
  connection: TargetConnection,
  archive: string,
  /** A scratch file for the archive's filtered table of contents. */
  listFile: string,
  plan: { prologue: string[]; epilogue: string[] },
  targetName: string,
  lockTimeoutMs: number,
): Promise<void> {
  const env = toolEnv(connection);
  const listCommand = diesWithParent(path.join(tools.dir, "pg_restore"), ["--list", archive]);
  const list = spawnSync(listCommand.file, listCommand.args, { env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (list.status !== 0) throw new OperationFailedError(`database target ${targetName}: pg_restore cannot read the snapshot: ${lastError(list.stderr ?? "")}`, { target: targetName, tool: "pg_restore" });
  // "5; 2615 2200 SCHEMA - public owner", "COMMENT - SCHEMA public", "ACL - SCHEMA public": the schema stays as it is.
  const entries = list.stdout
    .split("\n")
    .filter((line) => line && !line.startsWith(";") && !/^\d+; \d+ \d+ (SCHEMA - |COMMENT - SCHEMA |ACL - SCHEMA )/.test(line));
  let psql: ChildProcess | null = null;
  let restore: ChildProcess | null = null;
  try {
    writeFileSync(listFile, entries.join("\n") + "\n", { mode: PRIVATE_FILE_MODE, flag: "wx" });
    const psqlCommand = diesWithParent(path.join(tools.dir, "psql"), ["--no-psqlrc", "--quiet", "--no-password", "--set", "ON_ERROR_STOP=1", "--set", "VERBOSITY=verbose", "--echo-errors", "--dbname", connection.toolUrl]);
    psql = spawn(psqlCommand.file, psqlCommand.args, { env, stdio: ["pipe", "ignore", "pipe"] });
    const psqlErrors = collect(psql.stderr);
    const psqlEnded = ended(psql);
    const restoreCommand = diesWithParent(path.join(tools.dir, "pg_restore"), ["--use-list", listFile, "--file=-", archive]);
    restore = spawn(restoreCommand.file, restoreCommand.args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const restoreErrors = collect(restore.stderr);
    const restoreEnded = ended(restore);
    const input = psql.stdin as NonNullable<ChildProcess["stdin"]>;
    const output = restore.stdout as NonNullable<ChildProcess["stdout"]>;
    input.on("error", () => undefined); // psql stopped reading: how it ended says why
    input.write(sql(["BEGIN", ...plan.prologue]));
    output.pipe(input, { end: false });

    const first = await Promise.race([psqlEnded.then(() => "psql" as const), restoreEnded.then(() => "pg_restore" as const)]);
    let committing = false;
    if (first === "psql") {
      output.unpipe(input);
      restore.kill("SIGKILL");
      // Whatever it had written is not wanted: reading it to the end lets its pipe close.
      output.resume();
    } else if ((await restoreEnded).code === 0) {
      committing = true;
      input.end(sql([...plan.epilogue, "COMMIT"]));
    } else {
      psql.kill("SIGKILL");
      // Its input is closed only once it is gone: it must never read an end there.
      void psqlEnded.then(() => input.destroy());
    }
    const [psqlEnd, restoreEnd] = await Promise.all([psqlEnded, restoreEnded]);

    if (committing && psqlEnd.code === 0) return;
    const details = { target: targetName, tool: committing || first === "psql" ? "psql" : "pg_restore", exitCode: committing || first === "psql" ? psqlEnd.code : restoreEnd.code };
    if (!committing && first === "pg_restore") {
      const why = restoreEnd.startError || restoreEnd.signal ? `pg_restore ${describeEnd(restoreEnd)}` : `pg_restore failed: ${lastError(restoreErrors())}`;
      throw new OperationFailedError(`database target ${targetName}: ${why}; nothing was restored (one transaction, never committed)`, details);
    }
    const waitedFor = lockWaitIn(psqlErrors());
    if (waitedFor) throw lockRefusal(targetName, waitedFor, lockTimeoutMs, "nothing was restored");
    if (psqlEnd.code === 0) throw new OperationFailedError(`database target ${targetName}: psql ended before the restore was complete; nothing was restored (one transaction, never committed)`, details);
    if (psqlEnd.startError || psqlEnd.signal) {
      // Ended from outside while COMMIT was on its way: whether the server got it, psql can no longer say.
      const outcome = committing ? "before it reported the commit" : "; nothing was restored (one transaction, never committed)";
      throw new OperationFailedError(`database target ${targetName}: psql ${describeEnd(psqlEnd)}${committing ? ` ${outcome}` : outcome}`, details);
    }
    throw new OperationFailedError(`database target ${targetName}: the restore failed: ${lastError(psqlErrors())}; nothing was restored (one transaction, rolled back)`, details);
  } finally {
    // Never left behind, whatever went wrong above (psql first: it must not outlive its input).
    for (const child of [psql, restore]) if (child && running(child)) child.kill("SIGKILL");
    rmSync(listFile, { force: true });
  }
}
