// The `safetynet` CLI as a user or an agent runs it: one whole process per command
// (start-up included), timed, with its peak RSS when GNU time is there.
import { CLI } from "../paths.mjs";
import { run, runMeasured } from "../processes.mjs";

/**
 * A runner for CLI commands on one data directory. `server: false` sets
 * SAFETYNET_NO_SERVER=1 (the cold path, even if a server runs there); `true` lets the
 * CLI hand its command to a server on the data directory. `env`: more environment for the CLI.
 */
export function cliOn(dataDir, { allowedRoots, server, env: extraEnv = {} }) {
  const env = { SAFETYNET_ALLOWED_ROOTS: allowedRoots, SAFETYNET_NO_SERVER: server ? "" : "1", ...extraEnv };
  const argv = (args) => [CLI, "--data-dir", dataDir, "--json", ...args];
  return {
    /** Untimed: returns the parsed JSON output. */
    json: (...args) => JSON.parse(run(process.execPath, argv(args), { env })),
    /** Timed: {sec, peakMb, value} with the parsed JSON output as value. */
    measured(...args) {
      const { sec, peakMb, stdout } = runMeasured(process.execPath, argv(args), { env });
      return { sec, peakMb, value: JSON.parse(stdout) };
    },
  };
}

/** The measured operations shared by the cold and warm columns; `after` runs untimed after each. */
export function cliOperations(cli, after = async () => ({})) {
  return {
    async checkpoint() {
      const { sec, peakMb, value } = cli().measured("checkpoint", "create", "bench");
      return { sec, peakMb, id: value.id, filesRead: value.filesRead, ...(await after("checkpoint")) };
    },
    async rollback(id) {
      const { sec, peakMb, value } = cli().measured("rollback", id, "--yes");
      if (value.outcome !== "succeeded") throw new Error(`CLI rollback outcome ${value.outcome}`);
      return { sec, peakMb, ...(await after("rollback")) };
    },
  };
}
