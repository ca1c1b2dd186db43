import { mkdirSync, mkdtempSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConflictError } from "./errors";
import { countStoreUsers, holdStoreExclusive, holdStoreShared, lockComponent } from "./locks";

let locks: string;
beforeEach(() => {
  locks = path.join(mkdtempSync(path.join(tmpdir(), "sn-locks-")), "locks");
});
afterEach(() => {
  rmSync(path.dirname(locks), { recursive: true, force: true });
});

const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));

describe("component locks", () => {
  it("refuses a second holder of the same component with CONFLICT", async () => {
    const release = await lockComponent(locks, "cmp_1", "app");
    await expect(lockComponent(locks, "cmp_1", "app")).rejects.toBeInstanceOf(ConflictError);
    const other = await lockComponent(locks, "cmp_2", "web");
    await other();
    await release();
    await (await lockComponent(locks, "cmp_1", "app"))();
  });

  it("hold the object store shared while held", async () => {
    const release = await lockComponent(locks, "cmp_1", "app");
    expect(countStoreUsers(locks)).toBe(1);
    await release();
    expect(countStoreUsers(locks)).toBe(0);
  });
});

describe("the object store's shared / exclusive hold", () => {
  it("lets shared holders run together", async () => {
    const a = await holdStoreShared(locks);
    const b = await holdStoreShared(locks);
    expect(countStoreUsers(locks)).toBe(2);
    await a();
    await b();
  });

  it("makes the exclusive holder wait until every shared holder has finished", async () => {
    const shared = await holdStoreShared(locks);
    let exclusive = false;
    const taking = holdStoreExclusive(locks, { drainTimeoutMs: 5_000 }).then((release) => {
      exclusive = true;
      return release;
    });
    await tick(100);
    expect(exclusive).toBe(false);
    await shared();
    const release = await taking;
    expect(exclusive).toBe(true);
    await release();
  });

  it("makes a new shared holder (a create) wait while the exclusive hold is taken", async () => {
    const release = await holdStoreExclusive(locks, { drainTimeoutMs: 1_000 });
    let shared = false;
    const taking = lockComponent(locks, "cmp_1", "app").then((r) => {
      shared = true;
      return r;
    });
    await tick(100);
    expect(shared).toBe(false);
    expect(countStoreUsers(locks)).toBe(0);
    await release();
    await (await taking)();
    expect(shared).toBe(true);
  });

  it("gives up with CONFLICT when shared holders do not drain in time, and lets them go on", async () => {
    const shared = await holdStoreShared(locks);
    await expect(holdStoreExclusive(locks, { drainTimeoutMs: 50 })).rejects.toBeInstanceOf(ConflictError);
    const another = await holdStoreShared(locks, { timeoutMs: 100 });
    await another();
    await shared();
  });

  it("refuses a second exclusive holder, and a shared holder that waited too long", async () => {
    const release = await holdStoreExclusive(locks, { drainTimeoutMs: 100 });
    await expect(holdStoreExclusive(locks, { drainTimeoutMs: 100 })).rejects.toBeInstanceOf(ConflictError);
    await expect(holdStoreShared(locks, { timeoutMs: 50 })).rejects.toBeInstanceOf(ConflictError);
    await release();
  });

  it("ignores and removes the marker of a crashed holder", async () => {
    const marker = path.join(locks, "store-users", "12345-dead.lock");
    mkdirSync(marker, { recursive: true });
    const old = (Date.now() - 120_000) / 1000;
    utimesSync(marker, old, old);
    const release = await holdStoreExclusive(locks, { drainTimeoutMs: 100 });
    await release();
    expect(countStoreUsers(locks)).toBe(0);
  });
});
