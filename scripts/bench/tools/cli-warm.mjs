// Column "safetynet CLI warm": the same CLI commands while `safetynet serve` runs on the
// data directory, so the CLI hands them over <data>/server.sock. The server is started
// (untimed) after the component is added and stopped after the cycle. In a scale run it
// runs on the CLI column's tree and data directory instead (scenarios/main.mjs). Each command is
// checked against the server's log: a command that silently ran cold aborts the bench.
// `checkpoint restore` is not handed over (it writes to a path of the caller's), so this
// column has no restore: it would measure the cold CLI again.
import path from "node:path";
import { assertServed, startServer } from "../server.mjs";
import { cliOn, cliOperations } from "./cli.mjs";

export function cliWarm(ctx) {
  let cli;
  let server;
  let served = 0;
  /** After each command: it must have been served; then the server's memory. */
  const after = async (op) => {
    await assertServed(server, ++served, `safetynet CLI warm ${op}`);
    const memory = server.memory();
    return { serverRssMb: memory?.rssMb ?? null, serverPeakMb: memory?.peakMb ?? null };
  };
  return {
    name: "warm",
    label: "safetynet CLI warm",
    skipsIgnored: true,
    /** `existing`: the data directory already holds the component (a scale run's warm column on the CLI's tree). */
    async setup({ tree, scratch, existing = false }) {
      const dataDir = path.join(scratch, "data");
      if (!existing) cliOn(dataDir, { allowedRoots: ctx.work, server: false }).json("component", "add", "bench", "--root", tree);
      server = await startServer({ via: "serve", dataDir, allowedRoots: ctx.work, logFile: path.join(scratch, "server.log") });
      served = 0;
      cli = cliOn(dataDir, { allowedRoots: ctx.work, server: true });
    },
    ...cliOperations(() => cli, after),
    restore: null,
    async teardown() {
      await server?.stop();
      server = null;
    },
  };
}
