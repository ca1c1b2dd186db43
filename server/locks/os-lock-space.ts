/**
 * The lock space of a data directory whose metadata is in SQLite: one OS lock
 * file per key (os-lock.ts), and a holder file beside each component lock.
 *
 *   locks/components/<component id>.lock          a component's lock
 *   locks/components/<component id>.holder.json   who holds it (holder.ts)
 *   locks/store-gate.lock, store-users.lock       the object store's hold (store-hold.ts)
 *   locks/retention.lock                          one retention run at a time
 */
import path from "node:path";
import { clearHolder, readHolder, writeHolder, type LockHolder } from "./holder";
import type { LockKey, LockSession, LockSpace } from "./lock-space";
import { OsLock } from "./os-lock";

function lockFile(locksDir: string, key: LockKey): string {
  return key.startsWith("component:") ? path.join(locksDir, "components", `${key.slice("component:".length)}.lock`) : path.join(locksDir, `${key}.lock`);
}

function holderFile(locksDir: string, key: LockKey): string {
  return lockFile(locksDir, key).replace(/\.lock$/, ".holder.json");
}

class OsLockSession implements LockSession {
  private readonly held = new Map<LockKey, { lock: OsLock; described: boolean }>();

  constructor(private readonly locksDir: string) {}

  async tryExclusive(key: LockKey): Promise<boolean> {
    return this.take(key, OsLock.tryExclusive(lockFile(this.locksDir, key)));
  }

  async tryShared(key: LockKey): Promise<boolean> {
    return this.take(key, OsLock.tryShared(lockFile(this.locksDir, key)));
  }

  private take(key: LockKey, lock: OsLock | null): boolean {
    if (!lock) return false;
    this.held.set(key, { lock, described: false });
    return true;
  }

  async describeHolder(key: LockKey, holder: LockHolder): Promise<void> {
    const entry = this.held.get(key);
    if (!entry) return;
    writeHolder(holderFile(this.locksDir, key), holder);
    entry.described = true;
  }

  async release(key: LockKey): Promise<void> {
    const entry = this.held.get(key);
    if (!entry) return;
    this.held.delete(key);
    // The holder file goes first: once the lock is free, nobody may read a stale name from it.
    try {
      if (entry.described) clearHolder(holderFile(this.locksDir, key));
    } finally {
      entry.lock.release();
    }
  }

  async end(): Promise<void> {
    for (const key of [...this.held.keys()].reverse()) await this.release(key);
  }
}

export class OsLockSpace implements LockSpace {
  readonly kind = "os" as const;

  constructor(readonly locksDir: string) {}

  async session(): Promise<LockSession> {
    return new OsLockSession(this.locksDir);
  }

  async holder(key: LockKey): Promise<LockHolder | null> {
    return readHolder(holderFile(this.locksDir, key));
  }

  async close(): Promise<void> {
    // Nothing is kept open between sessions.
  }
}

export function osLockSpace(locksDir: string): OsLockSpace {
  return new OsLockSpace(locksDir);
}
