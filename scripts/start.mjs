#!/usr/bin/env node
// `npm start`: build when needed, then serve the dashboard and the API
// (scripts/next-server.mjs) on HOST:PORT (default 127.0.0.1:3000) over SAFETYNET_DATA_DIR.
// Start-up work that needs the core (migrations, crash recovery, the first
// admin token and its one-time login URL, the metrics observer) runs inside the
// server, in instrumentation.ts, before it answers requests.
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { nodeChild } from "../server/process/child-lifetime.mjs";
import { webBuildIsStale } from "./build-freshness.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");
const host = process.env.HOST || "127.0.0.1";
const port = process.env.PORT || "3000";
const env = {
  ...process.env,
  HOST: host,
  PORT: port,
  NEXT_TELEMETRY_DISABLED: "1",
  SAFETYNET_DATA_DIR: path.resolve(process.env.SAFETYNET_DATA_DIR || ".safetynet"),
};

if (webBuildIsStale(root)) {
  process.stdout.write("safetynet: no production build yet, or the sources changed since it was made: running `next build`\n");
  const builder = nodeChild(root, [nextBin, "build"], env);
  const build = spawnSync(builder.file, builder.args, { cwd: root, env: builder.env, stdio: "inherit" });
  if (build.status !== 0) {
    process.stderr.write("safetynet: `next build` failed\n");
    process.exit(build.status ?? 1);
  }
}

// Children that end with this process (server/process/child-lifetime.mjs): killing
// `npm start` or `safetynet serve` outright never leaves a server holding the port.
// Two malloc arenas instead of one per thread: the thread pool's compression and
// file work otherwise leaves freed memory spread over many glibc arenas that RSS
// keeps counting (measured: 30 MB less RSS after the change-cost bench at 10,000 files).
const serverEnv = { MALLOC_ARENA_MAX: "2", ...env, NODE_ENV: "production" };
const child = nodeChild(root, [path.join(root, "scripts", "next-server.mjs")], serverEnv);
const server = spawn(child.file, child.args, { cwd: root, env: child.env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.kill(signal));
server.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
