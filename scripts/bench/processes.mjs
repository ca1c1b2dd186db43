// Running the measured programs: wall time, peak RSS (GNU time) and the RSS of long-lived servers.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { GNU_TIME } from "./paths.mjs";

/** Runs a command to completion; throws with its output if it fails. Returns stdout. */
export function run(cmd, args, { cwd, env } = {}) {
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited with ${r.status ?? r.signal}\n${(r.stderr || "").slice(-3000)}\n${(r.stdout || "").slice(-2000)}`);
  }
  return r.stdout;
}

/** Wall-clock seconds of `work` (synchronous process runs: start-up included). */
export function wall(work) {
  const t0 = performance.now();
  const value = work();
  return { sec: (performance.now() - t0) / 1000, value };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function toolVersion(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim().split("\n")[0] : null;
}

let gnuTime;
/** Whether /usr/bin/time is GNU time and reports the peak RSS (%M); checked once. */
export function gnuTimeWorks() {
  if (gnuTime === undefined) {
    const r = spawnSync(GNU_TIME, ["-f", "%M", "true"], { encoding: "utf8" });
    gnuTime = r.status === 0 && /^\d+\s*$/.test(r.stderr.trim().split("\n").pop() ?? "");
  }
  return gnuTime;
}

/**
 * Runs a command like `run`, timed; under GNU time when it works, so the result also
 * carries the process's peak RSS in MB (null without GNU time). GNU time adds one
 * fork+exec (about a millisecond) to the wall time.
 */
export function runMeasured(cmd, args, options = {}) {
  if (!gnuTimeWorks()) {
    const { sec, value } = wall(() => run(cmd, args, options));
    return { sec, stdout: value, peakMb: null };
  }
  const out = path.join(os.tmpdir(), `safetynet-bench-rss-${process.pid}`);
  const { sec, value } = wall(() => run(GNU_TIME, ["-f", "%M", "-o", out, cmd, ...args], options));
  const kb = Number(fs.readFileSync(out, "utf8").trim().split("\n").pop());
  fs.rmSync(out, { force: true });
  return { sec, stdout: value, peakMb: kb / 1024 };
}

/** VmRSS (now) and VmHWM (peak since start) of a live process, in MB; null when it is gone. */
export function processMemory(pid) {
  let status;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) / 1024;
  return { rssMb: kb("VmRSS"), peakMb: kb("VmHWM") };
}

/**
 * Resets a live process's VmHWM to its VmRSS (/proc/<pid>/clear_refs, Linux 4.0+), so that the
 * next peak read is the next operation's own; false when that is not allowed here.
 */
export function resetPeakMemory(pid) {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

let clockTicks;
/**
 * CPU seconds (user + system) a live process has used since it started, from /proc/<pid>/stat;
 * null when it is gone. With two processes at work (a server and an emulator it talks to), the
 * difference over an operation says which of them its wall time went to.
 */
export function processCpuSeconds(pid) {
  let stat;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces: count the fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  clockTicks ??= Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** Every live descendant of a process (children of all its threads, recursively). */
export function descendants(pid) {
  const found = [];
  let tasks = [];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return found;
  }
  for (const tid of tasks) {
    let children = "";
    try {
      children = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8");
    } catch {
      continue;
    }
    for (const child of children.split(/\s+/).filter(Boolean).map(Number)) found.push(child, ...descendants(child));
  }
  return found;
}

export function commandLine(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
