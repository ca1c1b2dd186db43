/**
 * Where locks live. Every lock Safety Net takes (a component's, the object
 * store's shared / exclusive hold, the retention run's) is a named key in a lock
 * space, taken by a session that holds it until it releases it or ends:
 *
 *   OS locks (os-lock-space.ts)             lock files in the data directory, held by the
 *                                           kernel for the process (the SQLite metadata store)
 *   PostgreSQL advisory locks               held by a database session for the operation, so
 *     (advisory-lock-space.ts)              instances on several hosts sharing one metadata
 *                                           database exclude each other
 *
 * Either way a holder that dies releases its locks with its process (or its
 * connection), and nothing needs refreshing. Locks never wait: a caller that
 * wants to wait polls (component-lock.ts, store-hold.ts).
 */
import type { LockHolder } from "./holder";

/** component:<component id> | the store's gate and users | one retention run at a time. */
export type LockKey = `component:${string}` | "store-gate" | "store-users" | "retention";

export function componentKey(componentId: string): LockKey {
  return `component:${componentId}`;
}

export interface LockSession {
  /** Takes `key` exclusively without waiting; false while anyone else (another session of this process too) holds it in any mode. */
  tryExclusive(key: LockKey): Promise<boolean>;
  /** Takes `key` shared without waiting; false while an exclusive holder has it. */
  tryShared(key: LockKey): Promise<boolean>;
  /** Records who holds `key` (held exclusively by this session), so a refusal can name the holder. */
  describeHolder(key: LockKey, holder: LockHolder): Promise<void>;
  /** Releases `key` (its holder description first). */
  release(key: LockKey): Promise<void>;
  /** Releases whatever the session still holds and ends it. */
  end(): Promise<void>;
}

export interface LockSpace {
  readonly kind: "os" | "advisory";
  session(): Promise<LockSession>;
  /** The holder of `key` as it described itself, or null (free, or not described yet). */
  holder(key: LockKey): Promise<LockHolder | null>;
  /** Frees what the space keeps open (connections). */
  close(): Promise<void>;
}

/** Takes `key` in a session of its own: the session, or null when the key is held. */
export async function trySessionWith(space: LockSpace, key: LockKey, mode: "exclusive" | "shared"): Promise<LockSession | null> {
  const session = await space.session();
  try {
    if (await (mode === "exclusive" ? session.tryExclusive(key) : session.tryShared(key))) return session;
  } catch (error) {
    await session.end().catch(() => undefined);
    throw error;
  }
  await session.end();
  return null;
}
