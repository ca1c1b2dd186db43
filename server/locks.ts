/**
 * Per-component (and store-wide) mutation locks shared by every process on the
 * data directory: the CLI, the server and the cron sweep. A held lock makes the
 * second caller fail fast with ConflictError (exit 3 / HTTP 409). Locks of a
 * crashed process go stale after a few seconds and are taken over.
 *
 * The object store also has a shared/exclusive hold (restic's non-exclusive vs
 * exclusive repository lock): every component mutation (create, a rollback and
 * its safety checkpoint, recover) holds the store shared while it runs, because
 * it may reuse an existing object (dedup) that is not yet referenced by any
 * committed checkpoint; the retention sweep deletes objects only while holding
 * it exclusively, i.e. while no such operation is in progress.
 */
import { randomUUID } from "node:crypto";
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import lockfile from "proper-lockfile";
import { ConflictError } from "./errors";

export type ReleaseLock = () => Promise<void>;

const STALE_MS = 10_000;
/**
 * How long a caller that must not give up at once (crash recovery) waits for a
 * held lock: long enough for the lock of a crashed (SIGKILLed) holder, which
 * nothing refreshes any more, to go stale and be taken over.
 */
export const LOCK_TAKEOVER_WAIT_MS = STALE_MS + 2_000;
const LOCK_POLL_MS = 200;

export interface LockOptions {
  /** Keep trying this long while the lock is held (default 0: fail fast with ConflictError). */
  waitMs?: number;
}

async function acquire(lockTarget: string, what: string, options: LockOptions = {}): Promise<ReleaseLock> {
  mkdirSync(path.dirname(lockTarget), { recursive: true });
  closeSync(openSync(lockTarget, "a"));
  const waitMs = options.waitMs ?? 0;
  const retries = waitMs > 0 ? { retries: Math.ceil(waitMs / LOCK_POLL_MS), factor: 1, minTimeout: LOCK_POLL_MS, maxTimeout: LOCK_POLL_MS } : 0;
  try {
    const release = await lockfile.lock(lockTarget, { stale: STALE_MS, update: STALE_MS / 4, retries, realpath: false });
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

/** Takes the component lock (fails fast when held, unless `waitMs`), then a shared hold on the object store (waits while a sweep collects). */
export async function lockComponent(locksDir: string, componentId: string, componentName: string, options: LockOptions = {}): Promise<ReleaseLock> {
  const releaseComponent = await acquire(path.join(locksDir, `component-${componentId}`), `component "${componentName}"`, options);
  let releaseStore: ReleaseLock;
  try {
    releaseStore = await holdStoreShared(locksDir);
  } catch (error) {
    await releaseComponent();
    throw error;
  }
  return async () => {
    await releaseStore();
    await releaseComponent();
  };
}

export function lockStore(locksDir: string): Promise<ReleaseLock> {
  return acquire(path.join(locksDir, "store"), "the object store");
}

/** Runs fn while holding the component lock. */
export async function withComponentLock<T>(locksDir: string, component: { id: string; name: string }, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const release = await lockComponent(locksDir, component.id, component.name, options);
  try {
    return await fn();
  } finally {
    await release();
  }
}

// ---------------------------------------------------------------------------
// Shared / exclusive hold on the object store.
//
//   locks/store-users/<pid>-<uuid>.lock   one directory per shared holder (mtime kept fresh)
//   locks/store-gate.lock                 the exclusive holder (a sweep collecting objects)
//
// A shared holder creates its marker, then looks at the gate; the exclusive holder
// takes the gate, then waits until no live marker is left. Both write before they
// read, so at least one of them sees the other: a holder that finds the gate taken
// withdraws its marker and waits for the gate to open again.

/** A shared marker whose mtime was not refreshed for this long belongs to a dead process. */
const STORE_USER_STALE_MS = 60_000;
const STORE_USER_UPDATE_MS = 5_000;
const STORE_POLL_MS = 20;
/** How long a component mutation waits for a sweep to finish collecting before giving up with CONFLICT. */
export const STORE_SHARED_WAIT_MS = 10 * 60_000;

function storeUsersDir(locksDir: string): string {
  return path.join(locksDir, "store-users");
}

function storeGateTarget(locksDir: string): string {
  return path.join(locksDir, "store-gate");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function storeGateHeld(locksDir: string): Promise<boolean> {
  return lockfile.check(storeGateTarget(locksDir), { stale: STALE_MS, realpath: false });
}

/** Live shared holders; markers of dead processes are removed on the way. */
export function countStoreUsers(locksDir: string): number {
  const dir = storeUsersDir(locksDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  let live = 0;
  for (const name of names) {
    if (!name.endsWith(".lock")) continue;
    const marker = path.join(dir, name);
    try {
      if (Date.now() - statSync(marker).mtimeMs < STORE_USER_STALE_MS) live++;
      else rmSync(marker, { recursive: true, force: true });
    } catch {
      // Released while we looked.
    }
  }
  return live;
}

/**
 * A shared hold on the object store for an operation that writes or reuses
 * objects. Never conflicts with another shared holder; waits (up to `timeoutMs`)
 * while an exclusive holder is collecting.
 */
export async function holdStoreShared(locksDir: string, options: { timeoutMs?: number } = {}): Promise<ReleaseLock> {
  const deadline = Date.now() + (options.timeoutMs ?? STORE_SHARED_WAIT_MS);
  const dir = storeUsersDir(locksDir);
  mkdirSync(dir, { recursive: true });
  for (;;) {
    const target = path.join(dir, `${process.pid}-${randomUUID()}`);
    const release = await lockfile.lock(target, {
      stale: STORE_USER_STALE_MS,
      update: STORE_USER_UPDATE_MS,
      retries: 0,
      realpath: false,
      // A marker removed as stale must not crash the process; the sweep's grace period still covers new objects.
      onCompromised: () => undefined,
    });
    const releaseMarker: ReleaseLock = async () => {
      try {
        await release();
      } catch {
        // Already released or compromised.
      }
    };
    if (!(await storeGateHeld(locksDir))) return releaseMarker;
    await releaseMarker();
    while (await storeGateHeld(locksDir)) {
      if (Date.now() > deadline) throw new ConflictError("the object store is being garbage-collected by a retention sweep; try again when it finishes", { lock: "the object store" });
      await sleep(STORE_POLL_MS);
    }
  }
}

/**
 * The exclusive hold: takes the gate (fails fast with CONFLICT when another
 * exclusive holder has it), then waits until every shared holder has finished,
 * at most `drainTimeoutMs` (then CONFLICT, gate released). New shared holders
 * wait until it is released.
 */
export async function holdStoreExclusive(locksDir: string, options: { drainTimeoutMs: number }): Promise<ReleaseLock> {
  const release = await acquire(storeGateTarget(locksDir), "the object store collection gate");
  const deadline = Date.now() + options.drainTimeoutMs;
  for (let users = countStoreUsers(locksDir); users > 0; users = countStoreUsers(locksDir)) {
    if (Date.now() > deadline) {
      await release();
      throw new ConflictError(`${users} operation(s) still writing to the object store after ${options.drainTimeoutMs} ms; objects were not collected, try again later`, {
        lock: "the object store",
        users,
      });
    }
    await sleep(STORE_POLL_MS);
  }
  return release;
}
