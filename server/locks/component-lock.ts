/**
 * One mutating operation per component at a time, across every process on the
 * data directory (the CLI, the server, the cron sweep). A held lock makes the
 * next caller fail fast with ConflictError (exit 3 / HTTP 409) naming the
 * holder; a holder that died released its lock with its process, so the next
 * caller takes it over at once.
 *
 *   locks/components/<component id>.lock          the OS lock (see os-lock.ts)
 *   locks/components/<component id>.holder.json   who holds it (see holder.ts)
 */
import path from "node:path";
import { ConflictError } from "../errors";
import { OsLock } from "./os-lock";
import { clearHolder, currentHolder, describeHolder, readHolder, writeHolder, type LockHolder } from "./holder";
import { holdStoreShared } from "./store-hold";

export type ReleaseLock = () => Promise<void>;

export interface ComponentRef {
  id: string;
  name: string;
}

export interface LockOptions {
  /** Keep trying this long while the lock is held (default 0: fail fast with ConflictError). */
  waitMs?: number;
}

const POLL_MS = 25;

function lockFile(locksDir: string, componentId: string): string {
  return path.join(locksDir, "components", `${componentId}.lock`);
}

function holderFile(locksDir: string, componentId: string): string {
  return path.join(locksDir, "components", `${componentId}.holder.json`);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The process holding the component's lock as it described itself, or null (free, or the holder has not written it yet). */
export function componentLockHolder(locksDir: string, componentId: string): LockHolder | null {
  return readHolder(holderFile(locksDir, componentId));
}

function conflict(locksDir: string, component: ComponentRef): ConflictError {
  const holder = componentLockHolder(locksDir, component.id);
  const by = holder ? `: ${describeHolder(holder)}` : "";
  return new ConflictError(`component "${component.name}" is locked by another operation in progress${by}; try again when it finishes`, {
    lock: `component "${component.name}"`,
    ...(holder ? { holder } : {}),
  });
}

/** Takes the component's lock without waiting; null when held. */
function tryLock(locksDir: string, component: ComponentRef, operation: string): (() => void) | null {
  const lock = OsLock.tryExclusive(lockFile(locksDir, component.id));
  if (!lock) return null;
  const holder = holderFile(locksDir, component.id);
  try {
    writeHolder(holder, currentHolder(operation));
  } catch (error) {
    lock.release();
    throw error;
  }
  return () => {
    // The holder file goes first: once the lock is free, nobody may read a stale name from it.
    clearHolder(holder);
    lock.release();
  };
}

/** Is the component locked right now (by anyone, this process included)? */
export function isComponentLocked(locksDir: string, componentId: string): boolean {
  const lock = OsLock.tryExclusive(lockFile(locksDir, componentId));
  if (!lock) return true;
  lock.release();
  return false;
}

/**
 * Takes the component lock (fails fast when held, unless `waitMs`), then a shared
 * hold on the object store (waits while a retention sweep collects objects).
 */
export async function lockComponent(locksDir: string, component: ComponentRef, operation: string, options: LockOptions = {}): Promise<ReleaseLock> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  let releaseComponent = tryLock(locksDir, component, operation);
  while (!releaseComponent) {
    if (Date.now() >= deadline) throw conflict(locksDir, component);
    await sleep(POLL_MS);
    releaseComponent = tryLock(locksDir, component, operation);
  }
  let releaseStore: ReleaseLock;
  try {
    releaseStore = await holdStoreShared(locksDir);
  } catch (error) {
    releaseComponent();
    throw error;
  }
  const release = releaseComponent;
  return async () => {
    await releaseStore();
    release();
  };
}

/** Runs fn while holding the component lock; the lock is released on every path out of fn. */
export async function withComponentLock<T>(locksDir: string, component: ComponentRef, operation: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const release = await lockComponent(locksDir, component, operation, options);
  try {
    return await fn();
  } finally {
    await release();
  }
}
