/**
 * `safetynet guard <component> [--path p]... [--reason r] [--auto-rollback] -- <command...>`:
 * checkpoint, run the command, and when it fails either roll back to the
 * checkpoint (--auto-rollback; the guard invocation is the confirmation) or print
 * the exact command that would. The command's exit code is passed through
 * (128 + n when a signal ended it; 127 when it could not be started).
 *
 * The command runs without a shell (pass one yourself: `-- sh -c '...'`) and
 * inherits the terminal; with --json its stdout goes to stderr, so stdout keeps
 * exactly one JSON object.
 */
import { spawn } from "node:child_process";
import { constants as osConstants } from "node:os";
import type { Command } from "commander";
import { checkpointCreateInput } from "../../schemas";
import { contextFor, type GlobalOptions } from "../context";
import { collect, emit, notice, parseInput } from "../io";
import { formatDuration } from "../format";
import type { SafetyNetClient } from "../../mcp/client";

interface GuardOptions {
  path?: string[];
  reason?: string;
  autoRollback?: boolean;
  db?: boolean;
}

export interface RunOutcome {
  /** What the guard exits with: the command's code, 128 + signal number, or 126/127 when it could not start. */
  exitCode: number;
  signal: NodeJS.Signals | null;
  /** Set when the command could not be started (not found, not executable). */
  startError: string | null;
}

/** Quotes a word for a POSIX shell when it needs it, so printed commands can be pasted. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** Runs argv without a shell; the guard's own signals are forwarded to it while it runs. */
export function runCommand(argv: string[], options: { stdoutToStderr: boolean }): Promise<RunOutcome> {
  const [file, ...args] = argv;
  return new Promise((resolve) => {
    const child = spawn(file as string, args, { stdio: ["inherit", options.stdoutToStderr ? process.stderr : "inherit", "inherit"], shell: false });
    const forward = (signal: NodeJS.Signals) => {
      child.kill(signal);
    };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    const done = (outcome: RunOutcome) => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
      resolve(outcome);
    };
    child.once("error", (error: NodeJS.ErrnoException) => {
      // Not started: the shell conventions (126 not executable, 127 not found).
      const exitCode = error.code === "EACCES" ? 126 : 127;
      done({ exitCode, signal: null, startError: `${error.code ?? "error"}: ${error.message}` });
    });
    child.once("exit", (code, signal) => {
      if (signal) done({ exitCode: 128 + (osConstants.signals[signal] ?? 0), signal, startError: null });
      else done({ exitCode: code ?? 1, signal: null, startError: null });
    });
  });
}

/** The rollback command to print: with the --data-dir or --url the guard itself was given (never the token). */
function rollbackCommand(globals: GlobalOptions, checkpointId: string): string {
  const words = ["safetynet"];
  if (globals.dataDir !== undefined) words.push("--data-dir", globals.dataDir);
  if (globals.url !== undefined) words.push("--url", globals.url);
  words.push("rollback", checkpointId);
  return words.map(shellQuote).join(" ");
}

async function rollBackTo(client: SafetyNetClient, checkpointId: string) {
  // The guard invocation with --auto-rollback is the confirmation: plan, then execute with the plan's token.
  const plan = await client.planRollback({ checkpointId });
  const { restoredPaths: _r, deletedPaths: _d, ...result } = await client.executeRollback({ checkpointId, confirmToken: plan.confirmToken });
  return result;
}

export function registerGuardCommand(program: Command): void {
  program
    .command("guard <component> <command...>")
    .usage("<component> [--path <p>]... [--reason <text>] [--db] [--auto-rollback] -- <command...>")
    .description("checkpoint a component, run a command, and when it fails roll back (--auto-rollback) or print the rollback command")
    .option("--path <p>", "only these paths (and their related files) relative to the component root (repeatable)", collect)
    .option("--reason <text>", "why the checkpoint is taken (default: guard: <command>)")
    .option("--db", "also snapshot the component's database targets (component add --db): a rollback puts them back too, for a guarded migration")
    .option("--auto-rollback", "when the command fails, roll the component back to the checkpoint at once")
    .action(async (component: string, argv: string[], opts: GuardOptions, command: Command) => {
      const ctx = contextFor(command, { remote: true });
      const globals = command.optsWithGlobals<GlobalOptions>();
      const commandLine = argv.map(shellQuote).join(" ");
      const input = parseInput(checkpointCreateInput, {
        component,
        paths: opts.path,
        reason: opts.reason ?? `guard: ${commandLine}`.slice(0, 2000),
        metadata: { guard: { command: argv } },
        includeDb: opts.db,
      });
      const client = await ctx.client();
      const checkpoint = await client.createCheckpoint(input);
      const undo = rollbackCommand(globals, checkpoint.id);
      notice(`safetynet guard: checkpoint ${checkpoint.id} of ${checkpoint.component} (${checkpoint.files} files); running: ${commandLine}`);

      const run = await runCommand(argv, { stdoutToStderr: ctx.mode.json });
      const how = run.startError
        ? `could not be started (${run.startError})`
        : run.signal
          ? `was killed by ${run.signal} (exit ${run.exitCode})`
          : `exited with code ${run.exitCode}`;
      const report = {
        component: checkpoint.component,
        checkpointId: checkpoint.id,
        command: argv,
        exitCode: run.exitCode,
        signal: run.signal,
        outcome: run.startError ? "not-started" : run.exitCode === 0 ? "succeeded" : "failed",
        rollback: null as null | Record<string, unknown>,
        rollbackCommand: undo,
      };
      process.exitCode = run.exitCode;
      // Human messages go to stderr: stdout belongs to the guarded command.
      const say = (human: () => string) => (ctx.mode.json ? emit(ctx.mode, report, human) : notice(human()));

      if (run.exitCode === 0) {
        say(() => `safetynet guard: ${commandLine} succeeded; checkpoint ${checkpoint.id} kept (undo with: ${undo})`);
        return;
      }
      if (run.startError || !opts.autoRollback) {
        const advice = run.startError ? "nothing ran, so nothing changed" : `to undo its changes run: ${undo}`;
        say(() => `safetynet guard: command ${commandLine} ${how}; ${advice}`);
        return;
      }
      try {
        const result = await rollBackTo(client, checkpoint.id);
        report.rollback = result;
        const keptIn = result.safetyCheckpointId
          ? `\nthe command's changes are kept in safety checkpoint ${result.safetyCheckpointId}; to bring them back run: ${rollbackCommand(globals, result.safetyCheckpointId)}`
          : "";
        say(
          () =>
            `safetynet guard: command ${commandLine} ${how}; rolled ${result.component} back to ${checkpoint.id} in ${formatDuration(result.durationMs)}: ${result.restored} restored, ${result.deleted} deleted${keptIn}`,
        );
      } catch (error) {
        // The command's exit code still wins; the report says the rollback did not happen and how to retry it.
        const message = error instanceof Error ? error.message : String(error);
        report.rollback = { outcome: "failed", error: message };
        say(() => `safetynet guard: command ${commandLine} ${how}; the automatic rollback FAILED: ${message}\nretry with: ${undo}`);
      }
    });
}
