import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ConflictError } from "../errors";
import { applyPostgresMigrations, postgresMigrationsDir } from "../db/migrate";
import { postgresStore } from "../db/metadata-store";
import { packageRoot } from "../config";
import { dropSchema, TEST_POSTGRES_URL, uniqueName, urlWithSchema, withPostgres } from "../../test/support/postgres";
import { AdvisoryLockSpace, advisoryLockId } from "./advisory-lock-space";
import { currentHolder } from "./holder";
import { componentKey, componentLockHolder, holdStoreExclusive, holdStoreShared, isComponentLocked, lockComponent, lockRetention, osLockSpace, storeInUse, type LockKey, type LockSpace } from "./index";

const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));
const app = { id: "cmp_1", name: "app" };

function waitForHeld(child: ChildProcess): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    child.stdout?.once("data", () => resolve(child));
    child.once("exit", (code) => reject(new Error(`holder exited early (${code})`)));
  });
}

/**
 * The same behaviour from both lock spaces: OS locks on files in the data
 * directory (SQLite metadata), and PostgreSQL advisory locks (a metadata store
 * shared by several instances, possibly on several hosts).
 */
interface SpaceUnderTest {
  name: string;
  space(): LockSpace;
  /** Another process that takes `key` exclusively the way the product does, then waits to be killed. */
  holderProcess(key: LockKey): Promise<ChildProcess>;
}

let locksDir: string;
const osSpace: SpaceUnderTest = {
  name: "OS locks (SQLite metadata store)",
  space: () => osLockSpace(locksDir),
  holderProcess(key) {
    const lockFile = key.startsWith("component:") ? path.join(locksDir, "components", `${key.slice(10)}.lock`) : path.join(locksDir, `${key}.lock`);
    // The same OS lock: SQLite's locking protocol on the lock file.
    const script = `
    const Database = require(${JSON.stringify(createRequire(import.meta.url).resolve("better-sqlite3"))});
    require("node:fs").mkdirSync(${JSON.stringify(path.dirname(lockFile))}, { recursive: true });
    const db = new Database(${JSON.stringify(lockFile)}, { timeout: 0 });
    db.exec("BEGIN EXCLUSIVE");
    process.stdout.write("held\\n");
    setInterval(() => {}, 1000);`;
    return waitForHeld(spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] }));
  },
};

const schema = uniqueName("locks");
const openedSpaces: LockSpace[] = [];
const advisorySpace: SpaceUnderTest = {
  name: "PostgreSQL advisory locks (shared metadata store)",
  space() {
    const store = postgresStore(urlWithSchema(TEST_POSTGRES_URL, schema));
    const space = new AdvisoryLockSpace(store, Promise.resolve());
    openedSpaces.push(space);
    return space;
  },
  holderProcess(key) {
    const script = `
    const pg = require(${JSON.stringify(createRequire(import.meta.url).resolve("pg"))});
    const client = new pg.Client({ connectionString: ${JSON.stringify(TEST_POSTGRES_URL)} });
    client.connect().then(() => client.query("SELECT pg_advisory_lock($1::bigint)", [${JSON.stringify(String(advisoryLockId(schema, key)))}])).then(() => {
      process.stdout.write("held\\n");
      setInterval(() => {}, 1000);
    });`;
    return waitForHeld(spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] }));
  },
};

beforeAll(async () => {
  await withPostgres((client) => applyPostgresMigrations(client as unknown as pg.PoolClient, postgresMigrationsDir(packageRoot()), schema));
});
afterAll(async () => {
  await Promise.all(openedSpaces.map((s) => s.close()));
  await dropSchema(schema);
});
beforeEach(() => {
  locksDir = path.join(mkdtempSync(path.join(tmpdir(), "sn-locks-")), "locks");
});
afterEach(() => {
  rmSync(path.dirname(locksDir), { recursive: true, force: true });
});

describe.each([osSpace, advisorySpace])("$name", (under) => {
  let locks: LockSpace;
  beforeEach(() => {
    locks = under.space();
  });

  describe("component locks", () => {
    it("refuses a second holder of the same component with CONFLICT naming the holder", async () => {
      const release = await lockComponent(locks, app, "rollback");
      const refusal = await lockComponent(locks, app, "checkpoint create").catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(ConflictError);
      expect((refusal as ConflictError).message).toMatch(/^component "app" is locked by another operation in progress: rollback \(pid \d+ on .+, since .+\); try again when it finishes$/);
      expect((refusal as ConflictError).details.holder).toMatchObject({ pid: process.pid, operation: "rollback" });
      const other = await lockComponent(locks, { id: "cmp_2", name: "web" }, "rollback");
      await other();
      await release();
      expect(await componentLockHolder(locks, app.id)).toBeNull();
      await (await lockComponent(locks, app, "rollback"))();
    });

    it("names the holder even when refused between its taking the lock and writing who it is", async () => {
      const holderSession = await locks.session();
      const key = componentKey(app.id);
      expect(await holderSession.tryExclusive(key)).toBe(true);
      const describing = tick(150).then(() => holderSession.describeHolder(key, currentHolder("rollback")));
      const refusal = await lockComponent(locks, app, "checkpoint create").catch((e: unknown) => e);
      await describing;
      expect((refusal as ConflictError).message).toMatch(/^component "app" is locked by another operation in progress: rollback \(pid \d+ on .+, since .+\); try again when it finishes$/);
      expect((refusal as ConflictError).details.holder).toMatchObject({ operation: "rollback" });
      await holderSession.end();
    });

    it("waits for a holder with waitMs, and takes the lock as soon as it is released", async () => {
      const release = await lockComponent(locks, app, "rollback");
      const waiting = lockComponent(locks, app, "recover", { waitMs: 5_000 });
      await tick(100);
      await release();
      await (await waiting)();
    });

    it("is taken over as soon as its holder process dies (SIGKILL): no stale period, nothing to refresh", async () => {
      const holder = await under.holderProcess(`component:${app.id}`);
      expect(await isComponentLocked(locks, app.id)).toBe(true);
      await expect(lockComponent(locks, app, "rollback")).rejects.toBeInstanceOf(ConflictError);
      holder.kill("SIGKILL");
      await new Promise((resolve) => holder.once("exit", resolve));
      // The kernel drops an OS lock with the process; PostgreSQL ends the session when it sees the connection close.
      const release = await lockComponent(locks, app, "rollback", { waitMs: 10_000 });
      await release();
    });

    it("lets 100 operations lock their components at once, more than the sessions a process keeps, without waiting on one another", async () => {
      const components = Array.from({ length: 100 }, (_, i) => ({ id: `cmp_many_${i}`, name: `many-${i}` }));
      await Promise.all(
        components.map(async (component) => {
          const release = await lockComponent(locks, component, "checkpoint create");
          await release();
        }),
      );
      expect(await storeInUse(locks)).toBe(false);
    });

    it("holds the object store shared while held", async () => {
      const release = await lockComponent(locks, app, "rollback");
      expect(await storeInUse(locks)).toBe(true);
      await release();
      expect(await storeInUse(locks)).toBe(false);
    });
  });

  describe("the object store's shared / exclusive hold", () => {
    it("lets shared holders run together", async () => {
      const a = await holdStoreShared(locks);
      const b = await holdStoreShared(locks);
      await a();
      expect(await storeInUse(locks)).toBe(true);
      await b();
      expect(await storeInUse(locks)).toBe(false);
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
      const taking = lockComponent(locks, app, "checkpoint create").then((r) => {
        shared = true;
        return r;
      });
      await tick(100);
      expect(shared).toBe(false);
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

    it("does not wait for a shared holder whose process died", async () => {
      const holder = await under.holderProcess("store-users");
      holder.kill("SIGKILL");
      await new Promise((resolve) => holder.once("exit", resolve));
      const release = await holdStoreExclusive(locks, { drainTimeoutMs: 100 });
      await release();
    });

    it("runs one retention at a time", async () => {
      const release = await lockRetention(locks);
      await expect(lockRetention(locks)).rejects.toBeInstanceOf(ConflictError);
      await release();
      await (await lockRetention(locks))();
    });
  });
});

describe("PostgreSQL advisory locks of a process that just died", () => {
  /** Holds `component`'s lock in a session of this test, described as held by process `pid` of this host. */
  async function holdAs(pid: number): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await client.connect();
    await client.query("SELECT pg_advisory_lock($1::bigint)", [String(advisoryLockId(schema, `component:${app.id}`))]);
    await client.query(
      `INSERT INTO "${schema}"."LockHolder" ("lockKey", "backendPid", pid, host, "processStartedAt", operation, since) VALUES ($1, pg_backend_pid(), $2, $3, '', 'rollback', now())
       ON CONFLICT ("lockKey") DO UPDATE SET "backendPid" = pg_backend_pid(), pid = $2, host = $3`,
      [`component:${app.id}`, pid, hostname()],
    );
    return client;
  }

  it("waits the moment PostgreSQL takes to end the dead holder's session, instead of refusing", async () => {
    const dead = spawn(process.execPath, ["-e", ""]);
    await new Promise((resolve) => dead.once("exit", resolve));
    const session = await holdAs(dead.pid as number);
    setTimeout(() => void session.end(), 300);
    const release = await lockComponent(advisorySpace.space(), app, "recover");
    await release();
  });

  it("refuses at once while the holder process lives", async () => {
    const session = await holdAs(process.ppid);
    try {
      const refusal = await lockComponent(advisorySpace.space(), app, "recover").catch((e: unknown) => e);
      expect(refusal).toBeInstanceOf(ConflictError);
      expect((refusal as Error).message).toMatch(new RegExp(`: rollback \\(pid ${process.ppid} on `));
    } finally {
      await session.end();
    }
  });
});
