/**
 * A Watchman daemon of a test's own: a wrapper script around the installed
 * binary that gives the daemon its own socket, state file and log in a temp
 * folder. A test can shut it down (`watchman shutdown-server`) without touching
 * the daemon other processes use, and read exactly which roots it watches.
 * The product is pointed at the wrapper like at any binary (SAFETYNET_WATCHMAN).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { findWatchmanBinary } from "../../server/scan/watchman";

export interface PrivateWatchman {
  /** The wrapper: run it as you would `watchman`. */
  binary: string;
  dir: string;
  /** Runs a watchman command through the wrapper and returns its JSON answer. */
  run(args: string[]): Record<string, unknown>;
  /** The roots the daemon watches now (starts it when it is not running). */
  watchList(): string[];
  /** `watchman shutdown-server`: the next command of a client starts a new daemon. */
  shutdown(): void;
  /** Shuts the daemon down and removes its folder. */
  stop(): void;
}

/** The installed binary; the tests that need Watchman fail without it (CI installs it, see .ci/run). */
export function installedWatchman(): string {
  const binary = findWatchmanBinary();
  if (!binary) throw new Error("Watchman is not installed: apt-get install -y watchman (see .ci/run)");
  return binary;
}

/** `saveState: false`: a restarted daemon forgets the roots it watched (else it watches them again). */
export function privateWatchman(options: { saveState?: boolean } = {}): PrivateWatchman {
  const real = installedWatchman();
  // Short: a Unix socket path holds at most 107 bytes.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sn-wm-"));
  const binary = path.join(dir, "watchman");
  const state = options.saveState === false ? "--no-save-state" : `--statefile=${dir}/state`;
  fs.writeFileSync(binary, `#!/bin/sh\nexec ${real} --sockname=${dir}/sock ${state} --logfile=${dir}/log --pidfile=${dir}/pid "$@"\n`, { mode: 0o755 });
  const run = (args: string[]) => JSON.parse(execFileSync(binary, ["--no-pretty", ...args], { encoding: "utf8", timeout: 30_000 })) as Record<string, unknown>;
  const shutdown = () => {
    const pid = daemonPid(path.join(dir, "pid"));
    try {
      execFileSync(binary, ["--no-spawn", "--no-pretty", "shutdown-server"], { stdio: "ignore", timeout: 30_000 });
    } catch {
      // not running
    }
    // The daemon answers before it exits: a restart means the old one is gone, as after `watchman shutdown-server; sleep`.
    if (pid !== null) waitForExit(pid, 30_000);
  };
  return {
    binary,
    dir,
    run,
    watchList: () => (run(["watch-list"]).roots as string[] | undefined) ?? [],
    shutdown,
    stop: () => {
      shutdown();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function daemonPid(pidFile: string): number | null {
  try {
    const pid = Number.parseInt(fs.readFileSync(pidFile, "utf8").trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Waits until `pid` has exited (a zombie left for a reaper counts as exited). */
function waitForExit(pid: number, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < deadline) {
    let state: string;
    try {
      state = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? "";
    } catch {
      return;
    }
    if (state === "Z" || state === "X") return;
    Atomics.wait(pause, 0, 0, 20);
  }
  throw new Error(`the test's Watchman daemon (pid ${pid}) did not exit within ${timeoutMs} ms of shutdown-server`);
}
