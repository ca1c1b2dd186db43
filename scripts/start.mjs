#!/usr/bin/env node
// `npm start`: build when needed, then serve the dashboard and the API
// (scripts/next-server.mjs) on HOST:PORT (default 127.0.0.1:3000) over SAFETYNET_DATA_DIR.
// Start-up work that needs the core (migrations, crash recovery, the first
// admin token and its one-time login URL, the metrics observer) runs inside the
// server, in instrumentation.ts, before it answers requests.
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
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
  const build = spawnSync(process.execPath, [nextBin, "build"], { cwd: root, env, stdio: "inherit" });
  if (build.status !== 0) {
    process.stderr.write("safetynet: `next build` failed\n");
    process.exit(build.status ?? 1);
  }
}

const server = spawn(process.execPath, [path.join(root, "scripts", "next-server.mjs")], { cwd: root, env: { ...env, NODE_ENV: "production" }, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.kill(signal));
server.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
