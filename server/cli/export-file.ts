/**
 * The file `checkpoint export -o FILE` writes. An archive holds copies of
 * checkpointed files, secrets included, so it is created owner-only (0600), the
 * temp file it is written to as well. That temp file lies beside FILE, outside
 * any folder Safety Net cleans, so it must not outlive the export:
 *
 * - its name carries the writer's pid: `.<name>.<pid>.<12 hex>.tmp`;
 * - SIGINT, SIGTERM and SIGHUP remove it before the process ends by that signal;
 * - a SIGKILL leaves it, and the next export to FILE removes every temp of FILE
 *   whose pid is no longer running (only names of exactly that pattern, only
 *   regular files: nothing else beside FILE is ever touched).
 */
import { createHash, randomBytes } from "node:crypto";
import { lstatSync, readdirSync, rmSync, unlinkSync } from "node:fs";
import path from "node:path";
import { writeStreamAtomic } from "../atomic-file";
import { PRIVATE_FILE_MODE } from "../private-files";

const NAME_MAX = 255;
const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** `.<name>`, or a short stand-in when the temp name would be longer than a file name may be. */
function tempPrefix(file: string): string {
  const base = path.basename(file);
  const longest = `.${base}.4194304.${"0".repeat(12)}.tmp`;
  return Buffer.byteLength(longest) <= NAME_MAX ? `.${base}` : `.safetynet-export-${createHash("sha256").update(base).digest("hex").slice(0, 16)}`;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Whether `pid` is a running process (one of another user counts: kill answers EPERM). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes the temp files earlier exports to `file` left when they were killed; returns their paths. */
export function removeStaleExportTemps(file: string): string[] {
  const dir = path.dirname(file);
  const pattern = new RegExp(`^${escapeRegExp(tempPrefix(file))}\\.(\\d+)\\.[0-9a-f]{12}\\.tmp$`);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    // The folder cannot be listed: the export itself reports what is wrong with it.
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(pattern.exec(name)?.[1] ?? NaN);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || isRunning(pid)) continue;
    const stale = path.join(dir, name);
    try {
      if (!lstatSync(stale).isFile()) continue;
      unlinkSync(stale);
      removed.push(stale);
    } catch {
      // Gone meanwhile, or not ours to remove: left as it is.
    }
  }
  return removed;
}

/** Removes `tmp` if the process is told to stop, then lets the signal end it; returns the function that stops watching. */
function removeOnSignal(tmp: string): () => void {
  const handlers = new Map<NodeJS.Signals, () => void>();
  const stop = () => {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    handlers.clear();
  };
  for (const signal of SIGNALS) {
    const handler = () => {
      rmSync(tmp, { force: true });
      stop();
      // With no listener left, the signal's default action ends the process, as it would have without us.
      process.kill(process.pid, signal);
    };
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  return stop;
}

/** Writes the archive stream to `file` (owner-only), through a temp file that never outlives the export. */
export async function writeExportFile(file: string, stream: AsyncIterable<Uint8Array>): Promise<{ bytes: number; sha256: string }> {
  removeStaleExportTemps(file);
  const tmp = path.join(path.dirname(file), `${tempPrefix(file)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const stopWatching = removeOnSignal(tmp);
  try {
    return await writeStreamAtomic(file, stream, { mode: PRIVATE_FILE_MODE, tmp });
  } finally {
    stopWatching();
  }
}
