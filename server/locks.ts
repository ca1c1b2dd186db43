/**
 * Per-component (and store-wide) mutation locks shared by every process on the
 * data directory: the CLI, the server and the cron sweep. A held lock makes the
 * second caller fail fast with ConflictError (exit 3 / HTTP 409). Locks of a
 * crashed process go stale after a few seconds and are taken over.
 */
import { closeSync, mkdirSync, openSync } from "node:fs";
import path from "node:path";
import lockfile from "proper-lockfile";
import { ConflictError } from "./errors";

export type ReleaseLock = () => Promise<void>;

const STALE_MS = 10_000;

async function acquire(lockTarget: string, what: string): Promise<ReleaseLock> {
  mkdirSync(path.dirname(lockTarget), { recursive: true });
  closeSync(openSync(lockTarget, "a"));
  try {
    const release = await lockfile.lock(lockTarget, { stale: STALE_MS, update: STALE_MS / 4, retries: 0, realpath: false });
    return async () => {
      try {
        await release();
      } catch {
        // Already released or compromised: nothing left to undo.
      }
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOCKED") {
      throw new ConflictError(`${what} is locked by another operation in progress; try again when it finishes`, { lock: what });
    }
    throw error;
  }
}

export function lockComponent(locksDir: string, componentId: string, componentName: string): Promise<ReleaseLock> {
  return acquire(path.join(locksDir, `component-${componentId}`), `component "${componentName}"`);
}

export function lockStore(locksDir: string): Promise<ReleaseLock> {
  return acquire(path.join(locksDir, "store"), "the object store");
}

/** Runs fn while holding the component lock. */
export async function withComponentLock<T>(locksDir: string, component: { id: string; name: string }, fn: () => Promise<T>): Promise<T> {
  const release = await lockComponent(locksDir, component.id, component.name);
  try {
    return await fn();
  } finally {
    await release();
  }
}
