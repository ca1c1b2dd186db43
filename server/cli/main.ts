/**
 * The `safetynet` command. Works directly on the data directory (no server
 * needed). Command modules load the core lazily so start-up stays lean.
 */
import { Command, CommanderError } from "commander";
import { registerComponentCommands } from "./commands/component";
import { registerCheckpointCommands } from "./commands/checkpoint";
import { registerRollbackCommand } from "./commands/rollback";
import { registerHistoryCommand } from "./commands/history";
import { registerLogCommand } from "./commands/log";
import { registerSessionsCommand } from "./commands/sessions";
import { registerRecoverCommand } from "./commands/recover";
import { registerRetentionCommands } from "./commands/retention";
import { registerTokenCommands } from "./commands/token";
import { registerMcpCommand } from "./commands/mcp";
import { registerGuardCommand } from "./commands/guard";
import { registerServeCommand } from "./commands/serve";
import { registerRebuildDbCommand } from "./commands/rebuild-db";
import { registerStoreCommand } from "./commands/store";
import { registerHookCommands } from "./commands/hooks";
import { closeCli } from "./context";
import { emit, reportError } from "./io";
import { setProcessStdinText, terminal } from "./terminal";
import { InvalidInputError } from "../errors";

/** Where commander's own output (help, usage errors) goes: the command's terminal, or, with --json, kept for one JSON object. */
interface CommanderOutput {
  out: string[];
  err: string[];
}

export function buildProgram(captured?: CommanderOutput): Command {
  const program = new Command("safetynet")
    .description("Safety Net: verified checkpoints and atomic rollback for changes made by AI agents")
    .option("--data-dir <dir>", "data directory (default: $SAFETYNET_DATA_DIR or ./.safetynet)")
    .option("--json", "print one JSON object on stdout and nothing else")
    .option("--url <url>", "talk to a Safety Net server instead of the data directory (default: $SAFETYNET_URL unless --data-dir is given)")
    .option("--token <token>", "API token for --url (default: $SAFETYNET_TOKEN)")
    .showHelpAfterError()
    // Through the command's terminal: a command a server runs for a CLI prints on that CLI's terminal.
    .configureOutput({
      writeOut: (text) => (captured ? captured.out.push(text) : terminal().stdout.write(text)),
      writeErr: (text) => (captured ? captured.err.push(text) : terminal().stderr.write(text)),
    })
    .exitOverride();
  registerComponentCommands(program);
  registerCheckpointCommands(program);
  registerRollbackCommand(program);
  registerHistoryCommand(program);
  registerLogCommand(program);
  registerSessionsCommand(program);
  registerRecoverCommand(program);
  registerRetentionCommands(program);
  registerTokenCommands(program);
  registerMcpCommand(program);
  registerGuardCommand(program);
  registerServeCommand(program);
  registerRebuildDbCommand(program);
  registerStoreCommand(program);
  registerHookCommands(program);
  return program;
}

/** `stdinText`: the process's stdin, already read by the bin (it offered the command to a server first). */
export async function main(argv: string[], options: { stdinText?: string } = {}): Promise<number> {
  if (options.stdinText !== undefined) setProcessStdinText(options.stdinText);
  // Only Safety Net's own options count: a `--json` after `--` belongs to a guarded command.
  const separator = argv.indexOf("--");
  const json = (separator === -1 ? argv : argv.slice(0, separator)).includes("--json");
  // With --json, stdout holds one JSON object whatever happens: commander's help becomes {"help": ...}.
  const captured: CommanderOutput | undefined = json ? { out: [], err: [] } : undefined;
  const program = buildProgram(captured);
  try {
    await program.parseAsync(argv, { from: "user" });
    return terminal().exitCode ?? 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") {
        // (Asked for, or shown because no command was given: the same answer either way.)
        if (captured) emit({ json: true }, { help: captured.out.join("") || captured.err.join("") }, () => "");
        return 0;
      }
      // The usage error and the usage for people on stderr; with --json, stdout still owes its one JSON object.
      if (captured) {
        terminal().stderr.write(captured.err.join(""));
        return reportError({ json }, new InvalidInputError(error.message.replace(/^error: /, ""), { field: "usage" }));
      }
      return 2;
    }
    return reportError({ json }, error);
  } finally {
    await closeCli();
  }
}
