/**
 * Several server instances on one PostgreSQL metadata database (and one data
 * directory): what one records the other serves, component locks hold across
 * them (PostgreSQL advisory locks: two rollbacks of one component race, one wins,
 * the other gets 409 naming the holder in the other instance), and the agent's
 * migration story runs across both over HTTP.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAppDatabase, databaseContents, DESTRUCTIVE_MIGRATION_SQL, runSql, type AppDatabase } from "../support/app-database";
import { createTestDatabase, urlWithSchema } from "../support/postgres";
import { Api, expectError, hashTree, makeComponent, type ApiResponse } from "./api";
import { startServer, type RunningServer } from "./server";

const APP_ENV = "APP_DATABASE_URL";
let metadata: { url: string; drop(): Promise<void> };
let app: AppDatabase;
let shared: string;
let a: RunningServer;
let b: RunningServer;
let apiA: Api;
let apiB: Api;

beforeAll(async () => {
  [metadata, app] = await Promise.all([createTestDatabase("instances"), createAppDatabase("instances_app")]);
  shared = mkdtempSync(path.join(os.tmpdir(), "safetynet-instances-"));
  const dirs = { dataDir: path.join(shared, "data"), workspace: path.join(shared, "workspace") };
  const env = { SAFETYNET_DATABASE_URL: urlWithSchema(metadata.url, "safetynet"), [APP_ENV]: app.url };
  a = await startServer({ name: "instance-a", dirs, env });
  b = await startServer({ name: "instance-b", dirs, env });
  apiA = new Api(a.baseUrl, a.adminToken);
  apiB = new Api(b.baseUrl, b.adminToken);
}, 240_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  rmSync(shared, { recursive: true, force: true });
  await Promise.all([metadata?.drop(), app?.drop()]);
});

describe("two server instances on one PostgreSQL metadata database", () => {
  it("share one admin and every record: what one instance records, the other serves", async () => {
    // The second instance found the first one's admin token (in the shared data directory) valid in the shared database.
    expect(b.adminToken).toBe(a.adminToken);
    const { name } = await makeComponent(apiA, a.workspace, { "a.txt": "one\n" });
    const created = await apiA.call<{ id: string }>("checkpoint.create", { component: name, reason: "on instance A" });
    const seen = await apiB.get<{ id: string; reason: string }>("checkpoint.get", { id: created.id });
    expect(seen).toMatchObject({ id: created.id, reason: "on instance A" });
    const history = await apiB.get<{ items: { kind: string; checkpointId: string | null }[] }>("history.list", { component: name });
    expect(history.items.map((e) => e.kind)).toEqual(["checkpoint.create", "component.upsert"]);
  });

  it("lock a component across instances: two racing rollbacks, one on each, one wins and the other gets 409 naming the holder", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 400; i++) files[`dir${i % 10}/file${i}.txt`] = `original ${i}\n`.repeat(50);
    const { name, root } = await makeComponent(apiA, a.workspace, files);
    const original = hashTree(root);
    const checkpoint = await apiA.call<{ id: string }>("checkpoint.create", { component: name });
    for (const rel of Object.keys(original)) writeFileSync(path.join(root, rel), `broken ${rel}\n`);

    const [planA, planB] = await Promise.all([
      apiA.call<{ confirmToken: string }>("rollback.plan", { checkpointId: checkpoint.id }),
      apiB.call<{ confirmToken: string }>("rollback.plan", { checkpointId: checkpoint.id }),
    ]);
    const race: ApiResponse<{ outcome: string }>[] = await Promise.all([
      apiA.mutation<{ outcome: string }>("rollback.execute", { checkpointId: checkpoint.id, confirmToken: planA.confirmToken }),
      apiB.mutation<{ outcome: string }>("rollback.execute", { checkpointId: checkpoint.id, confirmToken: planB.confirmToken }),
    ]);
    expect(race.map((r) => r.status).sort(), JSON.stringify(race.map((r) => r.error?.message))).toEqual([200, 409]);
    const loser = expectError(race.find((r) => r.status === 409) as ApiResponse, 409);
    expect(loser.message).toMatch(new RegExp(`^component "${name}" is locked by another operation in progress: rollback \\(pid \\d+ on [^,]+, since [^)]+\\); try again when it finishes$`));
    expect(loser.data.details).toMatchObject({ holder: { operation: "rollback" } });
    expect(hashTree(root)).toEqual(original);
    const history = await apiB.get<{ items: { outcome: string }[] }>("history.list", { component: name, kind: "rollback" });
    expect(history.items.map((e) => e.outcome).sort()).toEqual(["failed", "succeeded"]);
  });

  it("run the agent's migration story: checkpoint with the database on one instance, roll back on the other; schema, rows and files back", async () => {
    const { name, root } = await makeComponent(apiA, a.workspace, { "prisma/schema.prisma": "model User { id Int @id\n email String }\n", "src/users.ts": "export const v = 1;\n" });
    const refused = await apiA.mutation("component.upsert", { name, root, dbTargets: ["postgres:postgresql://app:secret@db/app"] });
    expect(expectError(refused, 400)).toMatchObject({ data: { field: "dbTargets.0" } });
    const component = await apiA.call<{ dbTargets: string[] }>("component.upsert", { name, root, dbTargets: [`postgres:${APP_ENV}?schema=public`] });
    expect(component.dbTargets).toEqual([`postgres:${APP_ENV}?schema=public`]);
    const filesBefore = hashTree(root);
    const databaseBefore = await databaseContents(app.url, ["public"]);

    const created = await apiA.call<{ id: string; databases: { target: string; tables: number; rows: number }[] }>("checkpoint.create", { component: name, includeDb: true });
    expect(created.databases).toEqual([expect.objectContaining({ target: `postgres:${APP_ENV}?schema=public`, tables: 2, rows: 1200 })]);

    await runSql(app.url, DESTRUCTIVE_MIGRATION_SQL);
    writeFileSync(path.join(root, "src/users.ts"), "export const v = 2;\n");

    const diff = await apiB.get<{ modified: { path: string }[]; databases: { tablesAdded: string[]; tablesChanged: { table: string }[] }[] }>("checkpoint.diff", { id: created.id });
    expect(diff.modified.map((e) => e.path)).toEqual(["src/users.ts"]);
    expect(diff.databases[0]).toMatchObject({ tablesAdded: ["public.settings"], tablesChanged: [{ table: "public.orders" }, { table: "public.users" }] });
    const plan = await apiB.call<{ confirmToken: string; databases: { target: string; action: string }[] }>("rollback.plan", { checkpointId: created.id });
    expect(plan.databases).toEqual([expect.objectContaining({ target: `postgres:${APP_ENV}?schema=public`, action: "replace" })]);
    const done = await apiB.call<{ outcome: string; restoredDatabases: string[] }>("rollback.execute", { checkpointId: created.id, confirmToken: plan.confirmToken });
    expect(done).toMatchObject({ outcome: "succeeded", restoredDatabases: [`postgres:${APP_ENV}?schema=public`] });

    expect(await databaseContents(app.url, ["public"])).toBe(databaseBefore);
    expect(hashTree(root)).toEqual(filesBefore);
    const detail = await apiA.get<{ databases: { target: string }[]; verifyState: string }>("checkpoint.get", { id: created.id });
    expect(detail.databases.map((d) => d.target)).toEqual([`postgres:${APP_ENV}?schema=public`]);
    expect(await apiA.call("checkpoint.verify", { id: created.id })).toMatchObject({ state: "verified" });
    const metrics = await fetch(`${b.baseUrl}/api/metrics`, { headers: { authorization: `Bearer ${b.adminToken}` } }).then((r) => r.text());
    expect(metrics).toMatch(/safetynet_database_restores_total\{engine="postgres"\} 1/);
  });
});
