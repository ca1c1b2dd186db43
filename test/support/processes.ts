/**
 * The process table as Linux shows it in /proc, for tests that check which
 * children a command started and that none of them outlives it: read directly,
 * without `ps`, and without trusting anything the product reports.
 */
import fs from "node:fs";

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** The executable's name (comm), e.g. "pg_dump", "node". */
  name: string;
  /** R, S, D, Z (a zombie: dead, waiting to be reaped), ... */
  state: string;
  /** The command line, words joined by spaces. */
  command: string;
}

function read(pid: number): ProcessInfo | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split at the last ")".
    const close = stat.lastIndexOf(")");
    const name = stat.slice(stat.indexOf("(") + 1, close);
    const [state = "?", ppid = "0"] = stat.slice(close + 2).split(" ");
    let command = "";
    try {
      command = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
    } catch {
      // gone between the two reads
    }
    return { pid, ppid: Number(ppid), name, state, command };
  } catch {
    return null;
  }
}

export function processTable(): ProcessInfo[] {
  const table: ProcessInfo[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const info = read(Number(entry));
    if (info) table.push(info);
  }
  return table;
}

/** Every living process below `pid` (children, their children, ...). */
export function descendantsOf(pid: number): ProcessInfo[] {
  const table = processTable().filter((p) => p.state !== "Z");
  const found: ProcessInfo[] = [];
  let parents = new Set([pid]);
  while (parents.size > 0) {
    const next = table.filter((p) => parents.has(p.ppid) && !found.some((f) => f.pid === p.pid));
    found.push(...next);
    parents = new Set(next.map((p) => p.pid));
  }
  return found;
}

/**
 * Whether the process still runs: any of its threads does. A zombie does not (it
 * has ended and only waits to be reaped); its main thread alone being a zombie
 * is not enough, as the others may still be exiting with the files they share
 * (the listening socket of a server) still open.
 */
export function isRunning(pid: number): boolean {
  let threads: string[];
  try {
    threads = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return false;
  }
  return threads.some((tid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
      return state !== "Z" && state !== "X";
    } catch {
      return false;
    }
  });
}

/**
 * Polls `condition` until it holds or `limitMs` have passed (a generous limit:
 * it bounds a test that would otherwise wait forever, it measures nothing).
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, limitMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Records every process that appears below `pid` while `until` is pending, by
 * polling: the children a command starts and ends again on its own.
 */
export function watchDescendants(pid: number, until: Promise<unknown>, intervalMs = 25): Promise<ProcessInfo[]> {
  const seen = new Map<number, ProcessInfo>();
  let done = false;
  const stop = () => {
    done = true;
  };
  until.then(stop, stop);
  return (async () => {
    while (!done) {
      // The latest look wins: a tool seen a moment before setpriv had exec'd it is named by what it became.
      for (const p of descendantsOf(pid)) seen.set(p.pid, p);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
    return [...seen.values()];
  })();
}
