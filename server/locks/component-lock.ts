/**
 * One mutating operation per component at a time, across every process on the
 * data directory (the CLI, the server, the cron sweep) and, with PostgreSQL as the
 * metadata store, across every instance sharing it. A held lock makes the next
 * caller fail fast with ConflictError (exit 3 / HTTP 409) naming the holder; a
 * holder that died released its lock with its process, so the next caller takes
 * it over at once. Where the locks live is the lock space's business (lock-space.ts).
 */
import os from "node:os";
import { ConflictError } from "../errors";
import { currentHolder, describeHolder, type LockHolder } from "./holder";
import { componentKey, type LockSession, type LockSpace } from "./lock-space";
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
/**
 * How long a lock whose holder process is known to be dead (on this host) may take
 * to be released. An OS lock goes with the process at once; a PostgreSQL session
 * ends a moment after its client's connection closes, and the next command (the
 * recovery of that very crash) must not mistake that moment for a live holder.
 */
const DEAD_HOLDER_GRACE_MS = 5_000;
/**
 * A holder takes the lock, then writes who it is: a caller refused in between
 * would see no name. The refusal waits this long for the name to appear, so the
 * 409 / exit 3 says who holds the component.
 */
const HOLDER_DESCRIPTION_WAIT_MS = 1_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The process holding the component's lock as it described itself, or null (free, or the holder has not written it yet). */
export function componentLockHolder(locks: LockSpace, componentId: string): Promise<LockHolder | null> {
  return locks.holder(componentKey(componentId));
}

async function describedHolder(locks: LockSpace, component: ComponentRef): Promise<LockHolder | null> {
  const deadline = Date.now() + HOLDER_DESCRIPTION_WAIT_MS;
  for (;;) {
    const holder = await componentLockHolder(locks, component.id).catch(() => null);
    if (holder || Date.now() >= deadline) return holder;
    await sleep(POLL_MS);
  }
}

/** The refusal, naming `known` (the holder just read) or, when none was read, the holder once it has written its name. */
async function conflict(locks: LockSpace, component: ComponentRef, known: LockHolder | null = null): Promise<ConflictError> {
  const holder = known ?? (await describedHolder(locks, component));
  const by = holder ? `: ${describeHolder(holder)}` : "";
  return new ConflictError(`component "${component.name}" is locked by another operation in progress${by}; try again when it finishes`, {
    lock: `component "${component.name}"`,
    ...(holder ? { holder } : {}),
  });
}

/** Takes the component's lock without waiting, in a session of its own; null when held. */
async function tryLock(locks: LockSpace, component: ComponentRef, operation: string): Promise<LockSession | null> {
  const session = await locks.session();
  const key = componentKey(component.id);
  try {
    if (!(await session.tryExclusive(key))) {
      await session.end();
      return null;
    }
    await session.describeHolder(key, currentHolder(operation));
    return session;
  } catch (error) {
    await session.end().catch(() => undefined);
    throw error;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether a lock's described holder is a process of this host that no longer runs. */
function isDeadProcess(holder: LockHolder): boolean {
  return holder.host === os.hostname() && holder.pid !== process.pid && !processAlive(holder.pid);
}

/** Is the component locked right now (by anyone, this process included)? */
export async function isComponentLocked(locks: LockSpace, componentId: string): Promise<boolean> {
  const session = await locks.session();
  try {
    return !(await session.tryExclusive(componentKey(componentId)));
  } finally {
    await session.end();
  }
}

/**
 * Takes the component lock (fails fast when held, unless `waitMs`), then a shared
 * hold on the object store in the same session (waits while a retention sweep
 * collects objects).
 */
export async function lockComponent(locks: LockSpace, component: ComponentRef, operation: string, options: LockOptions = {}): Promise<ReleaseLock> {
  let deadline = Date.now() + (options.waitMs ?? 0);
  let graced = false;
  let session = await tryLock(locks, component, operation);
  while (!session) {
    if (Date.now() >= deadline) {
      const holder = await componentLockHolder(locks, component.id).catch(() => null);
      if (holder === null) {
        // Nobody named: the lock may have been released between the try and the look (a dead holder's
        // session ending, say), or its holder has not written its name yet. One more try, then refuse.
        session = await tryLock(locks, component, operation);
        if (session) break;
        throw await conflict(locks, component);
      }
      if (graced || locks.kind !== "advisory" || !isDeadProcess(holder)) throw await conflict(locks, component, holder);
      graced = true;
      deadline = Date.now() + DEAD_HOLDER_GRACE_MS;
    }
    await sleep(POLL_MS);
    session = await tryLock(locks, component, operation);
  }
  const held = session;
  try {
    await holdStoreShared(locks, { session: held });
  } catch (error) {
    await held.end();
    throw error;
  }
  // Ending the session releases the store hold, then the component lock (and its holder description).
  return () => held.end();
}

/** Runs fn while holding the component lock; the lock is released on every path out of fn. */
export async function withComponentLock<T>(locks: LockSpace, component: ComponentRef, operation: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const release = await lockComponent(locks, component, operation, options);
  try {
    return await fn();
  } finally {
    await release();
  }
}
