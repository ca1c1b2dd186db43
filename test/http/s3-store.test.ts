/**
 * The server with its objects in an S3-compatible bucket (s3rver on 127.0.0.1,
 * through the real AWS SDK): refused at start, with the bucket's reason, when
 * its credentials cannot write there; otherwise checkpoints and rollbacks
 * through tRPC keep their objects and snapshot records in the bucket, and a
 * rollback with an empty cache downloads what it restores.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, hashTree, makeComponent } from "./api";
import { startServer } from "./server";
import { startS3Server, type S3TestServer } from "../support/s3-server";
import { FAULTS, startS3FaultProxy } from "../support/s3-fault-proxy";
import { S3Bucket } from "../../server/store/bucket/s3-bucket";

let s3: S3TestServer;
beforeAll(async () => {
  s3 = await startS3Server();
  Object.assign(process.env, s3.env);
});
afterAll(async () => {
  await s3?.stop();
});

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
});
