/**
 * The processes a command starts end with it, through the CLI as a process: a
 * CLI killed outright (SIGKILL: no handler of ours runs) while pg_dump is
 * snapshotting a PostgreSQL target takes that pg_dump with it, rather than
 * leaving it to write a snapshot nobody will record. (`safetynet serve` and its
 * web server: test/http/serve-lifetime.test.ts.)
 */
import type { ChildProcess } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runSql } from "../support/app-database";
import { createTestDatabase, TEST_POSTGRES_URL } from "../support/postgres";
import { descendantsOf, isRunning, waitFor, type ProcessInfo } from "../support/processes";
import { startStallingProxy, type StallingProxy } from "../support/stalling-proxy";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, makeWorkspaceDirs, runCli, writeTree } from "../support/workspace";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

const ENV = "SLOW_APP_DATABASE_URL";
let app: { name: string; url: string; drop(): Promise<void> };
let proxy: StallingProxy | undefined;
beforeAll(async () => {
  app = await createTestDatabase("cli_lifetime");
  await runSql(app.url, "CREATE TABLE t (id int PRIMARY KEY, body text); INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 1000) g;");
});
afterEach(async () => {
  // Also ends a pg_dump a failed test left waiting on it.
  await proxy?.close();
  proxy = undefined;
});
afterAll(async () => {
  await app?.drop();
});

describe("a CLI killed (SIGKILL) while pg_dump snapshots a PostgreSQL target", () => {
  it("takes the pg_dump with it, and records no checkpoint", async () => {
    const server = new URL(TEST_POSTGRES_URL);
    // pg_dump's connection logs in, then never gets an answer: it stays in the middle of its dump for as long as the proxy runs.
    proxy = await startStallingProxy({ host: server.hostname, port: Number(server.port || 5432) }, "pg_dump");
    const url = new URL(app.url);
    url.port = String(proxy.port);
    url.searchParams.set("sslmode", "disable");
    const ws = makeWorkspaceDirs("cli-lifetime-dump");
    const env = { env: { [ENV]: url.toString() } };
    writeTree(ws.root, { "a.txt": "a\n" });
    await cliJson(ws, ["component", "add", "app", "--root", ws.root, "--db", `postgres:${ENV}?schema=public`], 0, env);

    let cli: ChildProcess | undefined;
    const run = runCli(ws, ["checkpoint", "create", "app", "--db", "--json"], { ...env, onSpawn: (child) => (cli = child) });
    const pid = (cli as unknown as ChildProcess).pid as number;
    let dumps: ProcessInfo[] = [];
    const stalledProxy = proxy;
    const dumping = await waitFor(() => (dumps = descendantsOf(pid).filter((p) => p.name === "pg_dump")).length > 0 && stalledProxy.stalled() === 1, 60_000);
    if (!dumping) throw new Error(`no pg_dump below the CLI waiting on its dump: ${JSON.stringify(await run)}`);

    cli?.kill("SIGKILL");
    expect((await run).signal).toBe("SIGKILL");
    // Polled: the kernel ends it as the CLI goes; a generous bound only stops the wait on a leftover.
    await waitFor(() => dumps.every((p) => !isRunning(p.pid)), 30_000);
    expect(dumps.filter((p) => isRunning(p.pid)).map((p) => `${p.pid} ${p.command}`)).toEqual([]);
    expect((await cliJson<{ items: unknown[] }>(ws, ["checkpoint", "list", "app"], 0, env)).items).toEqual([]);
  }, 180_000);
});
