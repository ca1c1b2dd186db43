// A Safety Net server for the warm CLI column and the load scenario: started on a free
// port over a data directory, ready once /api/health answers and <data>/server.sock
// exists, stopped with SIGTERM. Memory is read from the actual HTTP server process
// (scripts/next-server.mjs), not from the `safetynet serve` or start.mjs parents.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { webBuildIsStale } from "../build-freshness.mjs";
import { CLI, NEXT_SERVER_SCRIPT, REPO_ROOT, START_SCRIPT } from "./paths.mjs";
import { commandLine, descendants, freePort, processMemory, sleep } from "./processes.mjs";

const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 15_000;
export const SOCKET_NAME = "server.sock";
/** The log line server/api/local-socket.ts writes for each command it runs for a CLI. */
const SERVED_MARKER = '"local-socket.command"';

/**
 * Builds the web app when .next is missing or older than the sources, before anything is
 * timed (start.mjs would otherwise build inside the server's start-up).
 */
export function ensureWebBuild() {
  if (!webBuildIsStale(REPO_ROOT)) return;
  process.stderr.write("bench: no production build, or the sources changed since: running `npm run build:web` ...\n");
  const r = spawnSync("npm", ["run", "build:web"], { cwd: REPO_ROOT, stdio: ["ignore", 2, 2] });
  if (r.status !== 0) throw new Error(`npm run build:web failed with ${r.status ?? r.signal}`);
}

/**
 * Starts a server. `via`: "serve" runs `safetynet serve` (what a user types), "start" runs
 * scripts/start.mjs (what `npm start` runs, without npm's own process in between).
 */
export async function startServer({ via, dataDir, allowedRoots, logFile, env = {} }) {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const serverEnv = {
    ...process.env,
    SAFETYNET_DATA_DIR: dataDir,
    SAFETYNET_ALLOWED_ROOTS: allowedRoots,
    // The served-command log lines are how the bench proves the warm path was taken.
    SAFETYNET_LOG_LEVEL: "info",
    HOST: "127.0.0.1",
    PORT: String(port),
    // The warm column and --load measure (and stress) Watchman's change tracking (the server's default; off without Watchman).
    SAFETYNET_WATCH: process.env.SAFETYNET_WATCH ?? "on",
    ...env,
  };
  delete serverEnv.SAFETYNET_NO_SERVER;
  const args = via === "serve" ? [CLI, "--data-dir", dataDir, "serve", "--port", String(port)] : [START_SCRIPT];
  const log = fs.openSync(logFile, "a");
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: serverEnv, stdio: ["ignore", log, log] });
  fs.closeSync(log);
  let exited = null;
  const exit = new Promise((resolve) => child.once("exit", (code, signal) => resolve((exited = signal ?? code))));

  const logTail = () => fs.readFileSync(logFile, "utf8").slice(-4000);
  const socket = path.join(dataDir, SOCKET_NAME);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited !== null) throw new Error(`the server (${via}) exited with ${exited} before it was ready:\n${logTail()}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the server (${via}) was not ready after ${READY_TIMEOUT_MS / 1000} s:\n${logTail()}`);
    }
    if (fs.existsSync(socket) && (await healthy(baseUrl))) break;
    await sleep(100);
  }
  const serverPid = descendants(child.pid).find((pid) => commandLine(pid).includes(NEXT_SERVER_SCRIPT));
  if (!serverPid) throw new Error(`no ${path.basename(NEXT_SERVER_SCRIPT)} process below the server (${via}, pid ${child.pid})`);

  return {
    baseUrl,
    pid: serverPid,
    adminToken: () => fs.readFileSync(path.join(dataDir, "admin-token"), "utf8").trim(),
    /** VmRSS / VmHWM of the HTTP server process in MB. */
    memory: () => processMemory(serverPid),
    /** How many commands the server ran for a CLI over the socket so far (per its log). */
    servedCommands: () => fs.readFileSync(logFile, "utf8").split("\n").filter((line) => line.includes(SERVED_MARKER)).length,
    async stop() {
      if (exited === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => {
          child.kill("SIGKILL");
          try {
            process.kill(serverPid, "SIGKILL");
          } catch {
            // already gone
          }
        }, STOP_TIMEOUT_MS);
        await exit;
        clearTimeout(timer);
      }
    },
  };
}

async function healthy(baseUrl) {
  try {
    const response = await fetch(`${baseUrl}/api/health`);
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Waits until the server's log shows `expected` served commands (its log lines arrive
 * asynchronously). Throws when they do not: a warm measurement that silently ran cold
 * would be a lie.
 */
export async function assertServed(server, expected, what) {
  const deadline = Date.now() + 5000;
  let seen = server.servedCommands();
  while (seen < expected && Date.now() < deadline) {
    await sleep(20);
    seen = server.servedCommands();
  }
  if (seen !== expected) {
    throw new Error(`BENCH ABORTED: ${what}: the server ran ${seen} command(s) for the CLI, expected ${expected}; the warm CLI did not go through ${SOCKET_NAME}`);
  }
}
