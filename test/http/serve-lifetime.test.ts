/**
 * `safetynet serve` killed outright (SIGKILL: none of its handlers runs) leaves no
 * server behind: the start script and the web server it started end with it, so
 * the port, the data directory's socket and its locks are free again, with
 * setpriv on PATH (the kernel ends them) and without it (they watch their parent).
 * Through the CLI as a process, on the production build.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { metadataEnvFor } from "../support/metadata-store";
import { objectStoreEnvFor } from "../support/object-store-location";
import { descendantsOf, isRunning, waitFor, type ProcessInfo } from "../support/processes";
import { freePort, PACKAGE_ROOT, runCli } from "./server";

const CLI_BIN = path.join(PACKAGE_ROOT, "bin", "safetynet.mjs");

const leftovers: { processes: ProcessInfo[]; base: string }[] = [];
afterEach(() => {
  // A failed test must not leave servers holding ports for the rest of the run.
  for (const { processes, base } of leftovers.splice(0)) {
    for (const p of processes) if (isRunning(p.pid)) process.kill(p.pid, "SIGKILL");
    rmSync(base, { recursive: true, force: true });
  }
});

function listens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(port, "127.0.0.1");
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function socketAnswers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(file);
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

describe("safetynet serve, killed outright (SIGKILL)", () => {
  it.each([
    { how: "with setpriv on PATH", withoutSetpriv: false },
    { how: "without setpriv on PATH", withoutSetpriv: true },
  ])("leaves no server behind $how: its children end, the port and the socket are free, the next command runs", async ({ withoutSetpriv }) => {
    const base = mkdtempSync(path.join(os.tmpdir(), "safetynet-serve-lifetime-"));
    const dataDir = path.join(base, "data");
    const workspace = path.join(base, "workspace");
    mkdirSync(workspace);
    // An empty PATH finds no setpriv (nor anything else: the server needs nothing from it).
    const emptyPath = path.join(base, "empty-path");
    mkdirSync(emptyPath);
    const port = await freePort();
    const logFile = path.join(base, "serve.log");
    const log = createWriteStream(logFile);
    const env: NodeJS.ProcessEnv = { ...process.env, ...metadataEnvFor(dataDir), ...objectStoreEnvFor(dataDir), SAFETYNET_ALLOWED_ROOTS: workspace, NEXT_TELEMETRY_DISABLED: "1" };
    if (withoutSetpriv) env.PATH = emptyPath;
    const serve: ChildProcess = spawn(process.execPath, [CLI_BIN, "--data-dir", dataDir, "serve", "--port", String(port)], { cwd: PACKAGE_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    serve.stdout?.pipe(log);
    serve.stderr?.pipe(log);
    let exited = false;
    const exit = new Promise<NodeJS.Signals | number | null>((resolve) =>
      serve.once("exit", (code, signal) => {
        exited = true;
        resolve(signal ?? code);
      }),
    );
    const tracked = { processes: [] as ProcessInfo[], base };
    leftovers.push(tracked);

    const ready = await waitFor(async () => exited || (await fetch(`http://127.0.0.1:${port}/api/health`).then((r) => r.ok, () => false)), 120_000, 200);
    if (!ready || exited) throw new Error(`safetynet serve did not come up:\n${readFileSync(logFile, "utf8").slice(-4000)}`);
    const children = descendantsOf(serve.pid as number);
    tracked.processes = children;
    expect(children.map((p) => p.command).filter((c) => /scripts\/(start|next-server)\.mjs/.test(c))).toEqual([expect.stringMatching(/scripts\/start\.mjs/), expect.stringMatching(/scripts\/next-server\.mjs/)]);
    expect(await socketAnswers(path.join(dataDir, "server.sock"))).toBe(true);
    expect(await socketAnswers(path.join(dataDir, "hook.sock"))).toBe(true);

    serve.kill("SIGKILL");
    expect(await exit).toBe("SIGKILL");
    // Polled; the bound only stops the wait on a leftover (the web server's own shutdown deadline is 10 s).
    await waitFor(() => children.every((p) => !isRunning(p.pid)), 60_000, 100);
    expect(children.filter((p) => isRunning(p.pid)).map((p) => `${p.pid} ${p.command}`)).toEqual([]);
    await waitFor(async () => !(await listens(port)), 10_000, 100);
    expect(await listens(port)).toBe(false);
    expect(await portIsFree(port)).toBe(true);
    expect(await socketAnswers(path.join(dataDir, "server.sock"))).toBe(false);
    expect(await socketAnswers(path.join(dataDir, "hook.sock"))).toBe(false);
    // The data directory's locks are free: a command that changes it runs, in its own process.
    const added = runCli(dataDir, ["component", "add", "app", "--root", workspace, "--json"], { SAFETYNET_ALLOWED_ROOTS: workspace });
    expect(added.status, added.stderr).toBe(0);
    log.end();
  }, 240_000);
});
