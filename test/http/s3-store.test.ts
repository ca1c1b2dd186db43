/**
 * The server with its objects in an S3-compatible bucket (s3rver on 127.0.0.1,
 * through the real AWS SDK): refused at start, with the bucket's reason, when
 * its credentials cannot write there; otherwise checkpoints and rollbacks
 * through tRPC keep their objects and snapshot records in the bucket, and a
 * rollback with an empty cache downloads what it restores.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { Api, expectError, hashTree, makeComponent } from "./api";
import { runCli, startServer } from "./server";
import { metadataUrlFor, onPostgresPass } from "../support/metadata-store";
import { withPostgres } from "../support/postgres";
import { useS3Server, type S3TestServer } from "../support/s3-server";
import { FAULTS, startS3FaultProxy } from "../support/s3-fault-proxy";
import { S3Bucket } from "../../server/store/bucket/s3-bucket";

let s3: S3TestServer;
useS3Server((server) => (s3 = server));

async function keys(setting: string, under: string): Promise<string[]> {
  const bucket = S3Bucket.fromSetting(setting);
  try {
    const out: string[] = [];
    for await (const object of bucket.list(under)) out.push(object.key);
    return out;
  } finally {
    bucket.close();
  }
}

describe("a server whose objects live in a bucket", () => {
  it("refuses to start when its credentials cannot write to the bucket, saying why", async () => {
    const proxy = await startS3FaultProxy(s3.endpoint);
    try {
      proxy.inject({ fault: FAULTS.accessDenied, times: Infinity, method: "PUT" });
      const setting = s3.url("refused-at-start", proxy.endpoint);
      await expect(startServer({ name: "s3-refused", env: { ...s3.env, SAFETYNET_OBJECT_STORE: setting } })).rejects.toThrow(
        /exited with 1 before it was ready[\s\S]*cannot start: the object store s3:\/\/\S+ is not usable: [\s\S]*AccessDenied/,
      );
    } finally {
      await proxy.close();
    }
  });

  it("checkpoints and rolls back through tRPC with the objects in the bucket, downloading into an empty cache", async () => {
    const setting = s3.url("server-roundtrip");
    const server = await startServer({ name: "s3-roundtrip", env: { ...s3.env, SAFETYNET_OBJECT_STORE: setting } });
    try {
      const admin = new Api(server.baseUrl, server.adminToken);
      const component = await makeComponent(admin, server.workspace, { "a.txt": "one\n", "src/b.ts": "export const b = 1;\n" });
      const before = hashTree(component.root);
      const checkpoint = await admin.call<{ id: string }>("checkpoint.create", { component: component.name, reason: "before the agent" });
      expect(await keys(setting, "snapshots/")).toEqual([`snapshots/${checkpoint.id}.json`]);

      writeFileSync(path.join(component.root, "a.txt"), "agent was here\n");
      rmSync(path.join(component.root, "src"), { recursive: true });
      rmSync(path.join(server.dataDir, "store", "objects"), { recursive: true });
      const plan = await admin.call<{ confirmToken: string }>("rollback.plan", { checkpointId: checkpoint.id });
      const result = await admin.call<{ outcome: string; safetyCheckpointId: string }>("rollback.execute", { checkpointId: checkpoint.id, confirmToken: plan.confirmToken });
      expect(result.outcome).toBe("succeeded");
      expect(hashTree(component.root)).toEqual(before);
      expect(readFileSync(path.join(component.root, "a.txt"), "utf8")).toBe("one\n");
      // The safety checkpoint is in the bucket too.
      expect((await keys(setting, "snapshots/")).sort()).toEqual([`snapshots/${checkpoint.id}.json`, `snapshots/${result.safetyCheckpointId}.json`].sort());
    } finally {
      await server.stop();
    }
  });

  it("answers 503 naming the service when the bucket keeps failing, records nothing, and 422 naming a corrupt object; a slow bucket times out instead of hanging", async () => {
    const proxy = await startS3FaultProxy(s3.endpoint);
    const setting = s3.url("server-faults", proxy.endpoint);
    const server = await startServer({
      name: "s3-faults",
      env: { ...s3.env, SAFETYNET_OBJECT_STORE: setting, SAFETYNET_S3_MAX_ATTEMPTS: "2", SAFETYNET_S3_TIMEOUT_MS: "1500" },
    });
    try {
      const admin = new Api(server.baseUrl, server.adminToken);
      const component = await makeComponent(admin, server.workspace, { "a.txt": "one\n", "blob.bin": randomBytes(30_000) });
      const first = await admin.call<{ id: string }>("checkpoint.create", { component: component.name });

      // 503 on every upload: the checkpoint is refused with the service's answer, and nothing is recorded.
      writeFileSync(path.join(component.root, "a.txt"), "two\n");
      proxy.inject({ fault: FAULTS.slowDown, times: Infinity, method: "PUT" });
      const refused = expectError(await admin.mutation("checkpoint.create", { component: component.name }), 503);
      expect(refused.message).toMatch(/SlowDown|503/);
      proxy.clear();
      expect((await admin.get<{ items: { id: string }[] }>("checkpoint.list", { component: component.name })).items.map((c) => c.id)).toEqual([first.id]);

      // A bucket that stops answering: the rollback fails within the time-out, it does not hang.
      rmSync(path.join(component.root, "blob.bin"));
      rmSync(path.join(server.dataDir, "store", "objects"), { recursive: true });
      proxy.inject({ fault: FAULTS.stall, times: Infinity, method: "GET" });
      const startedAt = Date.now();
      const stalled = await admin.mutation("rollback.plan", { checkpointId: first.id });
      const plan = stalled.status === 200 ? (stalled.data as { confirmToken: string }) : null;
      const timedOut = plan ? await admin.mutation("rollback.execute", { checkpointId: first.id, confirmToken: plan.confirmToken }) : stalled;
      expect(timedOut.status).toBe(503);
      expect(Date.now() - startedAt).toBeLessThan(60_000);
      proxy.clear();

      // The bucket's copy of the file damaged: 422 naming the object, and the workspace left alone.
      const bucket = S3Bucket.fromSetting(setting);
      const damagedKeys: string[] = [];
      try {
        // The file's content: random, so stored as it is, 30,000 bytes.
        for await (const object of bucket.list("objects/")) if (object.size === 30_000) damagedKeys.push(object.key);
        for (const key of damagedKeys) await bucket.putBuffer(key, randomBytes(30_000), { overwrite: true });
      } finally {
        bucket.close();
      }
      expect(damagedKeys).toHaveLength(1);
      const again = await admin.mutation<{ confirmToken: string }>("rollback.plan", { checkpointId: first.id });
      const damaged = again.status === 200 ? await admin.mutation("rollback.execute", { checkpointId: first.id, confirmToken: again.data.confirmToken }) : again;
      const error = expectError(damaged, 422);
      expect(error.message).toMatch(/needed are damaged: blob\.bin \(corrupt\); the workspace was not changed/);
      expect(readFileSync(path.join(component.root, "a.txt"), "utf8")).toBe("two\n");
    } finally {
      await server.stop();
      await proxy.close();
    }
  });

  it.skipIf(!onPostgresPass())("keeps working when PostgreSQL drops every connection under load: nothing half recorded, every checkpoint verifies", async () => {
    const setting = s3.url("pg-restart");
    // Its connections carry a name of their own, so only they are dropped (other specs share the database).
    const application = `sn-restart-${process.pid}`;
    const server = await startServer({
      name: "s3-pg-restart",
      env: ({ dataDir }) => ({ ...s3.env, SAFETYNET_OBJECT_STORE: setting, SAFETYNET_DATABASE_URL: `${metadataUrlFor(dataDir) as string}&application_name=${application}` }),
    });
    try {
      const admin = new Api(server.baseUrl, server.adminToken);
      const components = await Promise.all([0, 1, 2].map((i) => makeComponent(admin, server.workspace, { "a.txt": `${i}\n`, "b/c.txt": "c\n" })));
      const statuses: number[] = [];
      let running = true;
      const agents = components.map(async (component, i) => {
        for (let step = 0; running; step++) {
          writeFileSync(path.join(component.root, "a.txt"), `${i}:${step}\n`);
          statuses.push((await admin.mutation("checkpoint.create", { component: component.name })).status);
        }
      });
      let dropped = 0;
      for (let restart = 0; restart < 3; restart++) {
        await new Promise((r) => setTimeout(r, 1500));
        const result = await withPostgres((client) => client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [application]), process.env.SAFETYNET_TEST_METADATA_URL);
        dropped += result.rowCount ?? 0;
      }
      expect(dropped).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 1000));
      running = false;
      await Promise.all(agents);
      // Each answer is a checkpoint or a clean refusal; never a hang.
      expect(statuses.every((status) => status === 200 || status === 500 || status === 503 || status === 409)).toBe(true);
      expect(statuses.filter((status) => status === 200).length).toBeGreaterThan(3);

      // Working again, with nothing half recorded: every record in the bucket names a checkpoint the database has.
      const after = await admin.call<{ id: string }>("checkpoint.create", { component: (components[0] as { name: string }).name });
      expect(after.id).toMatch(/^cp_/);
      const ids = new Set<string>();
      for (const component of components) for (const item of (await admin.get<{ items: { id: string }[] }>("checkpoint.list", { component: component.name, limit: 200 })).items) ids.add(item.id);
      const records = (await keys(setting, "snapshots/")).map((key) => key.slice("snapshots/".length, -".json".length));
      expect(records.filter((id) => !ids.has(id))).toEqual([]);
      const verified = runCli(server.dataDir, ["verify", "--all", "--json"], { ...s3.env, SAFETYNET_NO_SERVER: "1", SAFETYNET_DATABASE_URL: metadataUrlFor(server.dataDir) as string });
      expect(verified.status, verified.stderr).toBe(0);
      expect(JSON.parse(verified.stdout)).toMatchObject({ outcome: "succeeded", corrupt: 0, missing: 0 });
    } finally {
      await server.stop();
    }
  });
});
