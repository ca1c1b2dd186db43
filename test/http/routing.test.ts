/**
 * Two hosts on one machine: two server instances on one PostgreSQL metadata
 * database and one bucket (s3rver), each with its own data directory (a cache of
 * the bucket) and disjoint SAFETYNET_ALLOWED_ROOTS. What must touch a component's files, asked of the
 * instance that cannot reach them, runs on the one that can, through the job
 * queue, and the caller gets the same answer: the plan, a confirm token bound to
 * it, the rollback's result (also when that instance is killed mid-rollback and
 * completes it from its journal after a restart), its errors; and 503 naming the
 * instance last seen when none that serves the component is live.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { onPostgresPass } from "../support/metadata-store";
import { createTestDatabase, urlWithSchema, withPostgres } from "../support/postgres";
import { waitFor } from "../support/processes";
import { Api, createToken, expectError, hashTree, uniqueName, writeTree, type CreatedToken } from "./api";
import { PACKAGE_ROOT, startServer, type RunningServer } from "./server";
import { startS3Server, type S3TestServer } from "../support/s3-server";
import { FAULTS, startS3FaultProxy } from "../support/s3-fault-proxy";
import { startCuttableProxy } from "../support/cuttable-proxy";
import { S3Bucket } from "../../server/store/bucket/s3-bucket";

const ON_POSTGRES = onPostgresPass();
/** The component the fault seam kills instance B in (its third file-system change under it). */
const DOOMED = "doomed";

let metadata: { url: string; drop(): Promise<void> };
let s3: S3TestServer;
let a: RunningServer;
let b: RunningServer;
let bRestarted: RunningServer | null = null;
let admin: Api;
let agent: CreatedToken;
let agentA: Api;
let agentB: Api;
let bId: string;

function routingEnv(url: string): Record<string, string> {
  // Fast heartbeats: an instance is stale 1.5 s after its last one. One bucket for both hosts' objects.
  return { SAFETYNET_DATABASE_URL: url, SAFETYNET_HEARTBEAT_MS: "500", ...s3.env, SAFETYNET_OBJECT_STORE: s3.url("routing") };
}

function faultSeamEnv(workspace: string): Record<string, string> {
  return {
    NODE_OPTIONS: `--import ${path.join(PACKAGE_ROOT, "test", "support", "fault-seam.mjs")}`,
    SAFETYNET_FAULT_AFTER: "3",
    SAFETYNET_FAULT_UNDER: path.join(workspace, DOOMED),
  };
}

async function routedJobs(operation: string): Promise<{ instanceId: string; state: string; actor: string }[]> {
  return withPostgres(async (client) => (await client.query(`SELECT "instanceId", state, actor FROM safetynet."RoutedJob" WHERE operation = $1 ORDER BY id`, [operation])).rows, metadata.url);
}

async function componentOnB(files: Record<string, string>, name = uniqueName("cmp")): Promise<{ name: string; root: string }> {
  const root = path.join(b.workspace, name);
  mkdirSync(root, { recursive: true });
  writeTree(root, files);
  // Asked of A, which cannot reach B's workspace: the root is checked (real path, allowed) on B.
  await admin.call("component.upsert", { name, root });
  return { name, root };
}

beforeAll(async () => {
  if (!ON_POSTGRES) return;
  metadata = await createTestDatabase("routing");
  s3 = await startS3Server();
  Object.assign(process.env, s3.env);
  const url = urlWithSchema(metadata.url, "safetynet");
  a = await startServer({ name: "route-a", env: routingEnv(url) });
  const adminToken = a.adminToken;
  b = await startServer({
    name: "route-b",
    env: (dirs) => ({ ...routingEnv(url), ...faultSeamEnv(dirs.workspace) }),
    // The second host signs in with the admin token the first one made (one metadata database, one set of tokens).
    beforeStart: ({ dataDir }) => {
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      writeFileSync(path.join(dataDir, "admin-token"), adminToken + "\n", { mode: 0o600 });
    },
  });
  admin = new Api(a.baseUrl, adminToken);
  agent = await createToken(admin, "agent");
  agentA = new Api(a.baseUrl, agent.token);
  agentB = new Api(b.baseUrl, agent.token);
  bId = readFileSync(path.join(b.dataDir, "instance-id"), "utf8").trim();
}, 240_000);

afterAll(async () => {
  if (!ON_POSTGRES) return;
  await bRestarted?.stop();
  await Promise.all([a?.stop(), b?.stop()]);
  await metadata?.drop();
  await s3?.stop();
});

if (!ON_POSTGRES) {
  describe("routing between instances", () => {
    it.skip("needs PostgreSQL metadata (SAFETYNET_TEST_METADATA=postgres): with SQLite there is one instance, and nothing to route", () => undefined);
  });
}

describe.runIf(ON_POSTGRES)("two instances with their own data directories and disjoint roots on one PostgreSQL metadata database", () => {
  it("lists both instances as live, each with its roots, and shows B serving a component rooted in B's workspace", async () => {
    const { name } = await componentOnB({ "a.txt": "one\n" });
    const instances = await admin.get<{ items: { id: string; state: string; roots: string[]; self: boolean }[] }>("instance.list");
    expect(instances.items.filter((i) => i.state === "live").map((i) => i.id).sort()).toEqual([readFileSync(path.join(a.dataDir, "instance-id"), "utf8").trim(), bId].sort());
    expect(instances.items.find((i) => i.id === bId)?.roots).toEqual([b.workspace]);
    const listed = await admin.get<{ items: { name: string; servedBy: { state: string; instances: { id: string }[] } }[] }>("component.list");
    expect(listed.items.find((c) => c.name === name)?.servedBy).toMatchObject({ state: "live", instances: [{ id: bId }] });
  });

  it("runs a rollback planned and executed through A of a component rooted on B on B: B's workspace restored, the caller recorded as actor", async () => {
    const files = { "src/app.ts": "export const v = 1;\n", "README.md": "original\n" };
    const { name, root } = await componentOnB(files);
    const original = hashTree(root);
    const checkpoint = await agentA.call<{ id: string; files: number }>("checkpoint.create", { component: name, reason: "before the agent" });
    expect(checkpoint.files).toBe(2);
    writeFileSync(path.join(root, "src/app.ts"), "export const v = 2;\n");
    writeFileSync(path.join(root, "new.txt"), "made by the agent\n");

    const diff = await agentA.get<{ modified: { path: string }[]; added: { path: string }[] }>("checkpoint.diff", { id: checkpoint.id });
    expect(diff.modified.map((e) => e.path)).toEqual(["src/app.ts"]);
    const plan = await agentA.call<{ restore: { path: string }[]; delete: { path: string }[]; confirmToken: string }>("rollback.plan", { checkpointId: checkpoint.id });
    expect(plan.restore.map((r) => r.path)).toEqual(["src/app.ts"]);
    expect(plan.delete.map((d) => d.path)).toEqual(["new.txt"]);
    const result = await agentA.call<{ outcome: string; restored: number; deleted: number; restoredPaths: string[] }>("rollback.execute", { checkpointId: checkpoint.id, confirmToken: plan.confirmToken });
    expect(result).toMatchObject({ outcome: "succeeded", restored: 1, deleted: 1, restoredPaths: ["src/app.ts"] });
    expect(hashTree(root)).toEqual(original);

    const history = await admin.get<{ items: { kind: string; actor: string; outcome: string }[] }>("history.list", { component: name, kind: "rollback" });
    expect(history.items).toEqual([expect.objectContaining({ kind: "rollback", actor: `token:${agent.name}`, outcome: "succeeded" })]);
    expect((await routedJobs("rollback.execute")).at(-1)).toEqual({ instanceId: bId, state: "succeeded", actor: `token:${agent.name}` });

    // B's checkpoints are in the bucket: A compares two of them from there (trees and contents downloaded into A's cache).
    const bucket = S3Bucket.fromSetting(s3.url("routing"));
    const records: string[] = [];
    for await (const object of bucket.list("snapshots/")) records.push(object.key);
    bucket.close();
    expect(records).toContain(`snapshots/${checkpoint.id}.json`);
    const safety = (await agentA.get<{ items: { id: string; kind: string }[] }>("checkpoint.list", { component: name })).items.find((c) => c.kind === "safety") as { id: string };
    const between = await agentA.get<{ added: { path: string }[]; modified: { path: string }[]; deleted: { path: string }[] }>("checkpoint.diff", { id: checkpoint.id, against: safety.id });
    expect([between.added.map((e) => e.path), between.modified.map((e) => e.path), between.deleted]).toEqual([["new.txt"], ["src/app.ts"], []]);
  });

  it("binds a confirm token from a plan through A to its caller: another caller is refused, the same caller may execute it through B", async () => {
    const { name, root } = await componentOnB({ "x.txt": "x1\n" });
    const checkpoint = await agentA.call<{ id: string }>("checkpoint.create", { component: name });
    writeFileSync(path.join(root, "x.txt"), "x2\n");
    const plan = await agentA.call<{ confirmToken: string }>("rollback.plan", { checkpointId: checkpoint.id });

    const other = new Api(a.baseUrl, (await createToken(admin, "agent")).token);
    const refused = expectError(await other.mutation("rollback.execute", { checkpointId: checkpoint.id, confirmToken: plan.confirmToken }), 400);
    expect(refused).toMatchObject({ data: { field: "confirmToken" } });
    expect(refused.message).toMatch(new RegExp(`^confirmToken refused: the token was issued to token:${agent.name}, not to token:`));
    expect(readFileSync(path.join(root, "x.txt"), "utf8")).toBe("x2\n");

    const done = await agentB.call<{ outcome: string }>("rollback.execute", { checkpointId: checkpoint.id, confirmToken: plan.confirmToken });
    expect(done.outcome).toBe("succeeded");
    expect(readFileSync(path.join(root, "x.txt"), "utf8")).toBe("x1\n");
  });

  it("reports through A the outcome B's journal recovery finds when B is killed mid-rollback and restarted", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 12; i++) files[`f${String(i).padStart(2, "0")}.txt`] = `original ${i}\n`;
    const { name, root } = await componentOnB(files, DOOMED);
    const original = hashTree(root);
    const checkpoint = await agentA.call<{ id: string }>("checkpoint.create", { component: name });
    for (const rel of Object.keys(files)) writeFileSync(path.join(root, rel), `broken ${rel}\n`);
    const plan = await agentA.call<{ confirmToken: string; restore: unknown[] }>("rollback.plan", { checkpointId: checkpoint.id });
    expect(plan.restore).toHaveLength(12);

    // B dies at its third change in the workspace (test/support/fault-seam.mjs); A's caller keeps waiting.
    const pending = agentA.mutation<{ outcome: string; rollbackId: string; recovered?: boolean }>("rollback.execute", { checkpointId: checkpoint.id, confirmToken: plan.confirmToken });
    const bDown = await waitFor(async () => !(await fetch(`${b.baseUrl}/api/health`).then((r) => r.ok, () => false)), 60_000, 100);
    expect(bDown, "the fault seam should have killed B mid-rollback").toBe(true);
    expect(hashTree(root)).not.toEqual(original);

    bRestarted = await startServer({ name: "route-b-again", dirs: { dataDir: b.dataDir, workspace: b.workspace }, env: routingEnv(urlWithSchema(metadata.url, "safetynet")) });
    expect(readFileSync(path.join(b.dataDir, "instance-id"), "utf8").trim()).toBe(bId);
    const answer = await pending;
    expect(answer.status, JSON.stringify(answer.error)).toBe(200);
    expect(answer.data).toMatchObject({ outcome: "recovered", recovered: true });
    expect(hashTree(root)).toEqual(original);

    const history = await admin.get<{ items: { kind: string; actor: string; outcome: string; details: Record<string, unknown> }[] }>("history.list", { component: name });
    const rollbackEvents = history.items.filter((e) => e.kind === "rollback");
    expect(rollbackEvents).toEqual([expect.objectContaining({ actor: `token:${agent.name}`, outcome: "failed", details: expect.objectContaining({ interrupted: true }) })]);
    expect(history.items.find((e) => e.kind === "recover")).toMatchObject({ outcome: "succeeded", details: { rollbackId: answer.data.rollbackId } });
  }, 240_000);

  it("answers 503 naming B as last seen, within the bound, while B is down", async () => {
    const serving = bRestarted ?? b;
    const { name } = await componentOnB({ "y.txt": "y\n" });
    const checkpoint = await agentA.call<{ id: string }>("checkpoint.create", { component: name });
    await serving.terminate();

    const t0 = Date.now();
    const refused = expectError(await agentA.mutation("rollback.plan", { checkpointId: checkpoint.id }), 503);
    const elapsedMs = Date.now() - t0;
    expect(refused.message).toMatch(new RegExp(`^no live instance serves component ${name} \\(last seen: ${bId} on \\S+ at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\)$`));
    expect(refused.data).toMatchObject({ code: "SERVICE_UNAVAILABLE", safetynetCode: "FAILED", details: { unavailable: true, component: name, lastSeen: { instanceId: bId } } });
    // The bound is 10 s to find a live instance; a generous margin for a loaded machine.
    expect(elapsedMs).toBeLessThan(20_000);
    expectError(await agentA.mutation("checkpoint.create", { component: name }), 503);
    // What needs only metadata is still answered.
    expect((await agentA.get<{ items: unknown[] }>("history.list", { component: name })).items.length).toBeGreaterThan(0);
    const listed = await admin.get<{ items: { name: string; servedBy: { state: string } }[] }>("component.list");
    expect(listed.items.find((c) => c.name === name)?.servedBy.state).toBe("stopped");
  });

  it("reports through A the outcome once C, which lost its network in the middle of a rollback, is back: the rollback completed from its journal", async () => {
    // A third host whose database and bucket are reached through proxies the test can cut; it stops for a while
    // at its third change in the workspace (test/support/fault-seam.mjs), when the network goes.
    const metadataUrl = new URL(urlWithSchema(metadata.url, "safetynet"));
    const database = await startCuttableProxy({ host: metadataUrl.hostname, port: Number(metadataUrl.port || 5432) });
    const bucketProxy = await startS3FaultProxy(s3.endpoint);
    metadataUrl.port = String(database.port);
    let c: RunningServer | null = null;
    try {
      c = await startServer({
        name: "route-c",
        env: (dirs) => ({
          ...routingEnv(metadataUrl.toString()),
          SAFETYNET_OBJECT_STORE: s3.url("routing", bucketProxy.endpoint),
          SAFETYNET_S3_TIMEOUT_MS: "2000",
          SAFETYNET_S3_MAX_ATTEMPTS: "2",
          NODE_OPTIONS: `--import ${path.join(PACKAGE_ROOT, "test", "support", "fault-seam.mjs")}`,
          SAFETYNET_FAULT_MODE: "stall",
          SAFETYNET_FAULT_PAUSE_MS: "4000",
          SAFETYNET_FAULT_AFTER: "3",
          SAFETYNET_FAULT_UNDER: path.join(dirs.workspace, "cut"),
        }),
        beforeStart: ({ dataDir }) => {
          mkdirSync(dataDir, { recursive: true, mode: 0o700 });
          writeFileSync(path.join(dataDir, "admin-token"), a.adminToken + "\n", { mode: 0o600 });
        },
      });
      const root = path.join(c.workspace, "cut");
      mkdirSync(root, { recursive: true });
      const files: Record<string, string> = {};
      for (let i = 0; i < 8; i++) files[`f${i}.txt`] = `original ${i}\n`;
      writeTree(root, files);
      const name = uniqueName("cut");
      await admin.call("component.upsert", { name, root });
      const original = hashTree(root);
      const checkpoint = await agentA.call<{ id: string }>("checkpoint.create", { component: name });
      for (const rel of Object.keys(files)) writeFileSync(path.join(root, rel), `broken ${rel}\n`);
      const plan = await agentA.call<{ confirmToken: string }>("rollback.plan", { checkpointId: checkpoint.id });

      const pending = agentA.mutation<{ outcome: string; recovered?: boolean }>("rollback.execute", { checkpointId: checkpoint.id, confirmToken: plan.confirmToken });
      const logFile = c.logFile;
      expect(await waitFor(() => readFileSync(logFile, "utf8").includes("safetynet-test-seam: paused"), 60_000, 50), "C should pause mid-rollback").toBe(true);
      database.cut();
      bucketProxy.inject({ fault: FAULTS.reset, times: Infinity });
      // C finishes writing the files meanwhile, but can record nothing; then the network comes back.
      await new Promise((r) => setTimeout(r, 6_000));
      database.restore();
      bucketProxy.clear();

      const answer = await pending;
      expect(answer.status, JSON.stringify(answer.error)).toBe(200);
      expect(answer.data.outcome).toMatch(/^(recovered|succeeded)$/);
      expect(hashTree(root)).toEqual(original);
      const history = await admin.get<{ items: { kind: string; outcome: string }[] }>("history.list", { component: name });
      expect(history.items.some((e) => (e.kind === "recover" || e.kind === "rollback") && e.outcome === "succeeded")).toBe(true);
      // And the component works on: a checkpoint through A runs on C.
      expect((await agentA.call<{ id: string }>("checkpoint.create", { component: name })).id).toMatch(/^cp_/);
    } finally {
      await c?.stop();
      await database.close();
      await bucketProxy.close();
    }
  }, 240_000);
});
