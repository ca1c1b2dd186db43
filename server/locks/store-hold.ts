/**
 * The object store's shared / exclusive hold (restic's non-exclusive vs
 * exclusive repository lock). Every component mutation (a checkpoint, a rollback
 * and its safety checkpoint, a recovery) holds the store shared while it runs,
 * because it may reuse an existing object (dedup) that no committed checkpoint
 * references yet; the retention sweep deletes objects only while it holds the
 * store exclusively, i.e. while no such operation is in progress.
 *
 *   store-gate    held by the sweep for its whole run; a new shared holder passes
 *                 through it (takes it for an instant), so a waiting sweep is not
 *                 starved by new work
 *   store-users   shared by every holder; exclusive for the sweep
 *   retention     one retention run at a time
 *
 * Keys of the lock space (lock-space.ts): a holder that dies releases them.
 */
import { ConflictError } from "../errors";
import { trySessionWith, type LockSession, type LockSpace } from "./lock-space";

export type ReleaseLock = () => Promise<void>;

const POLL_MS = 20;
/** How long the sweep retries the gate that an operation on its way in holds for an instant. */
const GATE_PASS_THROUGH_WAIT_MS = 1_000;
/** How long a component mutation waits for a sweep to finish collecting before giving up with CONFLICT. */
export const STORE_SHARED_WAIT_MS = 10 * 60_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A shared hold on the object store for an operation that writes or reuses
 * objects. Never conflicts with another shared holder; waits (up to `timeoutMs`)
 * while an exclusive holder is collecting. Taken in `session` when given (released
 * when the session ends), else in a session of its own.
 */
export async function holdStoreShared(locks: LockSpace, options: { timeoutMs?: number; session?: LockSession } = {}): Promise<ReleaseLock> {
  const deadline = Date.now() + (options.timeoutMs ?? STORE_SHARED_WAIT_MS);
  const session = options.session ?? (await locks.session());
  const own = !options.session;
  try {
    for (;;) {
      // The gate is passed through in the holder's own session: an operation never waits for a second
      // session while it holds one, so any number of concurrent operations share a bounded pool of
      // sessions (PostgreSQL connections) without deadlocking on it.
      if (await session.tryExclusive("store-gate")) {
        let shared: boolean;
        try {
          shared = await session.tryShared("store-users");
        } finally {
          await session.release("store-gate");
        }
        if (shared) return own ? () => session.end() : () => session.release("store-users");
      }
      if (Date.now() > deadline) throw new ConflictError("the object store is being garbage-collected by a retention sweep; try again when it finishes", { lock: "the object store" });
      await sleep(POLL_MS);
    }
  } catch (error) {
    if (own) await session.end().catch(() => undefined);
    throw error;
  }
}

/**
 * The exclusive hold: takes the gate (fails fast with CONFLICT when another
 * exclusive holder has it), then waits until every shared holder has finished,
 * at most `drainTimeoutMs` (then CONFLICT, gate released). New shared holders
 * wait until it is released.
 */
export async function holdStoreExclusive(locks: LockSpace, options: { drainTimeoutMs: number }): Promise<ReleaseLock> {
  const session = await locks.session();
  try {
    // A shared holder takes the gate for an instant on its way in (a round trip with PostgreSQL's
    // advisory locks); another sweep holds it for its whole run. Only the latter is a conflict.
    const gateDeadline = Date.now() + GATE_PASS_THROUGH_WAIT_MS;
    while (!(await session.tryExclusive("store-gate"))) {
      if (Date.now() > gateDeadline) {
        throw new ConflictError("the object store collection gate is locked by another operation in progress; try again when it finishes", { lock: "the object store collection gate" });
      }
      await sleep(POLL_MS);
    }
    const deadline = Date.now() + options.drainTimeoutMs;
    while (!(await session.tryExclusive("store-users"))) {
      if (Date.now() > deadline) {
        throw new ConflictError(`operations still writing to the object store after ${options.drainTimeoutMs} ms; objects were not collected, try again later`, {
          lock: "the object store",
        });
      }
      await sleep(POLL_MS);
    }
    return () => session.end();
  } catch (error) {
    await session.end().catch(() => undefined);
    throw error;
  }
}

/** Is some operation holding the store shared right now? (Takes nothing it keeps.) */
export async function storeInUse(locks: LockSpace): Promise<boolean> {
  const probe = await trySessionWith(locks, "store-users", "exclusive");
  if (!probe) return true;
  await probe.end();
  return false;
}

/** One retention run at a time: fails fast with CONFLICT while another runs. */
export async function lockRetention(locks: LockSpace): Promise<ReleaseLock> {
  const session = await trySessionWith(locks, "retention", "exclusive");
  if (!session) throw new ConflictError("the object store is locked by another operation in progress; try again when it finishes", { lock: "the object store" });
  return () => session.end();
}
