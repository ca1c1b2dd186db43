/**
 * The object store's shared / exclusive hold (restic's non-exclusive vs
 * exclusive repository lock). Every component mutation (a checkpoint, a rollback
 * and its safety checkpoint, a recovery) holds the store shared while it runs,
 * because it may reuse an existing object (dedup) that no committed checkpoint
 * references yet; the retention sweep deletes objects only while it holds the
 * store exclusively, i.e. while no such operation is in progress.
 *
 *   locks/store-gate.lock    held by the sweep for its whole run; a new shared
 *                            holder passes through it (takes it for an instant),
 *                            so a waiting sweep is not starved by new work
 *   locks/store-users.lock   shared by every holder; exclusive for the sweep
 *   locks/retention.lock     one retention run at a time
 *
 * All are OS locks (os-lock.ts): a holder that dies releases them with its process.
 */
import path from "node:path";
import { ConflictError } from "../errors";
import { OsLock } from "./os-lock";

export type ReleaseLock = () => Promise<void>;

const POLL_MS = 20;
/** How long a component mutation waits for a sweep to finish collecting before giving up with CONFLICT. */
export const STORE_SHARED_WAIT_MS = 10 * 60_000;

const gateFile = (locksDir: string) => path.join(locksDir, "store-gate.lock");
const usersFile = (locksDir: string) => path.join(locksDir, "store-users.lock");

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function releaser(...locks: OsLock[]): ReleaseLock {
  return async () => {
    for (const lock of locks) lock.release();
  };
}

/**
 * A shared hold on the object store for an operation that writes or reuses
 * objects. Never conflicts with another shared holder; waits (up to `timeoutMs`)
 * while an exclusive holder is collecting.
 */
export async function holdStoreShared(locksDir: string, options: { timeoutMs?: number } = {}): Promise<ReleaseLock> {
  const deadline = Date.now() + (options.timeoutMs ?? STORE_SHARED_WAIT_MS);
  for (;;) {
    const gate = OsLock.tryExclusive(gateFile(locksDir));
    if (gate) {
      let shared: OsLock | null;
      try {
        shared = OsLock.tryShared(usersFile(locksDir));
      } finally {
        gate.release();
      }
      if (shared) return releaser(shared);
    }
    if (Date.now() > deadline) throw new ConflictError("the object store is being garbage-collected by a retention sweep; try again when it finishes", { lock: "the object store" });
    await sleep(POLL_MS);
  }
}

/**
 * The exclusive hold: takes the gate (fails fast with CONFLICT when another
 * exclusive holder has it), then waits until every shared holder has finished,
 * at most `drainTimeoutMs` (then CONFLICT, gate released). New shared holders
 * wait until it is released.
 */
export async function holdStoreExclusive(locksDir: string, options: { drainTimeoutMs: number }): Promise<ReleaseLock> {
  const gate = OsLock.tryExclusive(gateFile(locksDir));
  if (!gate) throw new ConflictError("the object store collection gate is locked by another operation in progress; try again when it finishes", { lock: "the object store collection gate" });
  const deadline = Date.now() + options.drainTimeoutMs;
  for (;;) {
    let users: OsLock | null;
    try {
      users = OsLock.tryExclusive(usersFile(locksDir));
    } catch (error) {
      gate.release();
      throw error;
    }
    if (users) return releaser(users, gate);
    if (Date.now() > deadline) {
      gate.release();
      throw new ConflictError(`operations still writing to the object store after ${options.drainTimeoutMs} ms; objects were not collected, try again later`, {
        lock: "the object store",
      });
    }
    await sleep(POLL_MS);
  }
}

/** Is some operation holding the store shared right now? (Takes nothing.) */
export function storeInUse(locksDir: string): boolean {
  const probe = OsLock.tryExclusive(usersFile(locksDir));
  if (!probe) return true;
  probe.release();
  return false;
}

/** One retention run at a time: fails fast with CONFLICT while another runs. */
export async function lockRetention(locksDir: string): Promise<ReleaseLock> {
  const lock = OsLock.tryExclusive(path.join(locksDir, "retention.lock"));
  if (!lock) throw new ConflictError("the object store is locked by another operation in progress; try again when it finishes", { lock: "the object store" });
  return releaser(lock);
}
