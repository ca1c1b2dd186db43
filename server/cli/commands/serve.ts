import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { nodeChild } from "../../process/child-lifetime.mjs";
import { contextFor } from "../context";
import { parseInteger, refuseJson } from "../io";

/**
 * `safetynet serve`: the dashboard and the API over this data directory, the same
 * server as `npm start` (built when needed, migrations, crash recovery, first admin
 * token, retention schedule). Runs in the foreground until interrupted.
 */
export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("serve the dashboard and the HTTP API on this data directory (the same server as `npm start`)")
    .option("--host <host>", "address to bind (default $HOST or 127.0.0.1)")
    .option("--port <port>", "port to listen on (default $PORT or 3000)")
    .action(async (opts: { host?: string; port?: string }, command: Command) => {
      // contextFor validates the global options (and refuses --url: a server serves its own data dir).
      refuseJson(contextFor(command).mode, "serve", "it runs the server in the foreground, its log on stdout, until stopped");
      const { loadConfig, packageRoot } = await import("../../config");
      const globals = command.optsWithGlobals<{ dataDir?: string }>();
      // Resolved here, against the caller's working directory: the server itself runs in the package root.
      const config = loadConfig({ dataDir: globals.dataDir });
      const env: NodeJS.ProcessEnv = { ...process.env, SAFETYNET_DATA_DIR: config.dataDir, SAFETYNET_ALLOWED_ROOTS: config.allowedRoots.join(path.delimiter) };
      if (opts.host) env.HOST = opts.host;
      if (opts.port) env.PORT = String(parseInteger(opts.port, "--port"));
      const root = packageRoot();
      // Ends with this process, even when it is killed outright (SIGKILL): a server left behind would keep the port, socket and locks.
      const child = nodeChild(root, [path.join(root, "scripts", "start.mjs")], env);
      const server = spawn(child.file, child.args, { cwd: root, env: child.env, stdio: "inherit" });
      for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => server.kill(signal));
      process.exitCode = await new Promise<number>((resolve) => server.on("exit", (code, signal) => resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 1) : 0))));
    });
}
