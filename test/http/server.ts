/**
 * Runs the production server for the HTTP tests: `next build` when the build is
 * missing or older than the sources, then scripts/next-server.mjs on a free port
 * over a fresh data directory and workspace, exactly as `npm start` would.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { newestSourceMtime, webBuildIsStale } from "../../scripts/build-freshness.mjs";
import { metadataEnvFor } from "../support/metadata-store";
import { objectStoreEnvFor } from "../support/object-store-location";

export const PACKAGE_ROOT = path.resolve(import.meta.dirname, "..", "..");
const NEXT_BIN = path.join(PACKAGE_ROOT, "node_modules", "next", "dist", "bin", "next");
/** What `npm start` runs once the build is there. */
const SERVER_SCRIPT = path.join(PACKAGE_ROOT, "scripts", "next-server.mjs");

/** Builds unless .next/BUILD_ID exists and is newer than every source file. */
export function ensureBuild(): void {
  if (!webBuildIsStale(PACKAGE_ROOT)) return;
  process.stderr.write("[http tests] no build yet, or sources changed since the last build: running next build\n");
  const result = spawnSync(process.execPath, [NEXT_BIN, "build"], {
    cwd: PACKAGE_ROOT,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", NODE_ENV: "production" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (result.status !== 0) throw new Error(`next build failed with exit code ${result.status}`);
}

/** Bundles the CLI (dist/cli) unless it is newer than every server source: the tests run it on the server's data dir. */
export function ensureCliBuild(): void {
  const bundle = path.join(PACKAGE_ROOT, "dist", "cli", "main.mjs");
  const builtAt = existsSync(bundle) ? statSync(bundle).mtimeMs : 0;
  if (builtAt > newestSourceMtime(path.join(PACKAGE_ROOT, "server"))) return;
  const result = spawnSync(process.execPath, [path.join(PACKAGE_ROOT, "scripts", "build-cli.mjs")], { cwd: PACKAGE_ROOT, stdio: ["ignore", "inherit", "inherit"] });
  if (result.status !== 0) throw new Error(`building the CLI failed with exit code ${result.status}`);
}

/** Runs `safetynet <args>` (the built CLI) on a data dir; returns stdout, stderr and the exit code. */
export function runCli(dataDir: string, args: string[], env: Record<string, string> = {}): { stdout: string; stderr: string; status: number | null } {
  const result = spawnSync(process.execPath, [path.join(PACKAGE_ROOT, "bin", "safetynet.mjs"), "--data-dir", dataDir, ...args], {
    cwd: PACKAGE_ROOT,
    env: { ...process.env, ...metadataEnvFor(dataDir), ...objectStoreEnvFor(dataDir), ...env },
    encoding: "utf8",
  });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(baseUrl: string, logFile: string, exited: () => string | null): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const exit = exited();
    if (exit) throw new Error(`${exit} before it was ready:\n${readFileSync(logFile, "utf8").slice(-4000)}`);
    if (Date.now() > deadline) throw new Error(`server not ready after 90 s:\n${readFileSync(logFile, "utf8").slice(-4000)}`);
    try {
      const response = await fetch(`${baseUrl}/api/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface RunningServer {
  baseUrl: string;
  dataDir: string;
  workspace: string;
  logFile: string;
  adminToken: string;
  /** SIGTERM; resolves with the milliseconds the process took to exit. */
  terminate(): Promise<number>;
  stop(): Promise<void>;
}

/** Extra environment of the server, or a function of its folders (to point a setting at them). */
export type ServerEnv = Record<string, string> | ((dirs: { dataDir: string; workspace: string }) => Record<string, string>);

/**
 * `dirs`: run on these folders (another server's, to run several instances on one
 * data directory); they are then left in place when the server stops.
 */
export async function startServer(options: {
  name: string;
  env?: ServerEnv;
  dirs?: { dataDir: string; workspace: string };
  /** An existing data directory with this mode (as an older version made them); by default the server creates it. */
  dataDirMode?: number;
  beforeStart?: (dirs: { base: string; dataDir: string; workspace: string }) => void;
}): Promise<RunningServer> {
  const base = mkdtempSync(path.join(os.tmpdir(), `safetynet-http-${options.name}-`));
  const dataDir = options.dirs?.dataDir ?? path.join(base, "data");
  if (options.dataDirMode !== undefined) {
    mkdirSync(dataDir);
    chmodSync(dataDir, options.dataDirMode);
  }
  const workspace = options.dirs?.workspace ?? path.join(base, "workspace");
  mkdirSync(workspace, { recursive: true });
  options.beforeStart?.({ base, dataDir, workspace });
  const logFile = path.join(base, "server.log");
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, [SERVER_SCRIPT], {
    cwd: PACKAGE_ROOT,
    env: {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      HOST: "127.0.0.1",
      PORT: String(port),
      SAFETYNET_DATA_DIR: dataDir,
      SAFETYNET_ALLOWED_ROOTS: workspace,
      ...metadataEnvFor(dataDir),
      ...objectStoreEnvFor(dataDir),
      ...(typeof options.env === "function" ? options.env({ dataDir, workspace }) : options.env),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = createWriteStream(logFile);
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited: string | null = null;
  child.once("exit", (code, signal) => {
    exited = `server exited with ${signal ?? code}`;
  });

  let adminToken: string;
  try {
    await waitUntilReady(baseUrl, logFile, () => exited);
    const tokenFile = path.join(dataDir, "admin-token");
    if (!existsSync(tokenFile)) throw new Error(`the server did not write ${tokenFile}`);
    adminToken = readFileSync(tokenFile, "utf8").trim();
  } catch (error) {
    child.kill("SIGKILL");
    if (process.env.SAFETYNET_HTTP_KEEP !== "1") rmSync(base, { recursive: true, force: true });
    throw error;
  }

  /** Sends SIGTERM and resolves with how long the process took to exit (ms), without removing anything. */
  const terminate = () =>
    new Promise<number>((resolve) => {
      const t0 = Date.now();
      if (exited) return resolve(0);
      child.once("exit", () => resolve(Date.now() - t0));
      child.kill("SIGTERM");
    });
  const stopped = () =>
    new Promise<void>((resolve) => {
      if (exited) return resolve();
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      child.once("exit", () => {
        clearTimeout(timer);
        log.end();
        resolve();
      });
      child.kill("SIGTERM");
    });
  return {
    baseUrl,
    dataDir,
    workspace,
    logFile,
    adminToken,
    terminate,
    /** Stops the server and removes its folders (kept with SAFETYNET_HTTP_KEEP=1, to read server.log). */
    stop: async () => {
      await stopped();
      if (process.env.SAFETYNET_HTTP_KEEP === "1") process.stderr.write(`[http tests] kept ${base}\n`);
      else rmSync(base, { recursive: true, force: true });
    },
  };
}
