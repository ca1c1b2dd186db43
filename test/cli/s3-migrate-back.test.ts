/**
 * `store migrate --to local`, then back to the same prefix: the bucket still holds
 * what it held when the data directory left it. Records of checkpoints removed in
 * between must not stay there: the bucket alone must rebuild what the data
 * directory knows, and a sweep must not bring a removed checkpoint's record back.
 */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, makeWorkspaceDirs, writeTree } from "../support/workspace";
import { useS3Server, type S3TestServer } from "../support/s3-server";
import { S3Bucket } from "../../server/store/bucket/s3-bucket";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import { onS3Pass } from "../support/object-store-location";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

let s3: S3TestServer;
useS3Server((server) => (s3 = server));

async function recordsIn(url: string): Promise<string[]> {
  const bucket = S3Bucket.fromSetting(url);
  try {
    const keys: string[] = [];
    for await (const object of bucket.list("snapshots/")) keys.push(object.key);
    return keys.sort();
  } finally {
    bucket.close();
  }
}

// On the S3 pass a data directory's objects are in a bucket from the start: there is no local store to move.
describe.skipIf(onS3Pass())("store migrate back to a prefix the data directory used before", () => {
  it("removes there the records of checkpoints removed while the objects were local, and a sweep brings none back", async () => {
    const url = s3.url("migrate-back");
    const inBucket = { ...s3.env, SAFETYNET_OBJECT_STORE: url, SAFETYNET_RETENTION_GRACE_MS: "0" };
    const local = { ...s3.env, SAFETYNET_RETENTION_GRACE_MS: "0" };
    const ws = makeWorkspaceDirs("s3-migrate-back");
    writeTree(ws.root, { "a.txt": "a1\n" });
    await cliJson(ws, ["component", "add", "web", "--root", ws.root], 0, { env: inBucket });
    const first = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"], 0, { env: inBucket });
    fs.writeFileSync(path.join(ws.root, "a.txt"), "a2\n");
    const second = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"], 0, { env: inBucket });

    await cliJson(ws, ["store", "migrate", "--to", "local"], 0, { env: s3.env });
    await cliJson(ws, ["checkpoint", "delete", first.id, "--yes"], 0, { env: local });
    await cliJson(ws, ["retention", "run"], 0, { env: local });
    await cliJson(ws, ["store", "migrate", "--to", url], 0, { env: s3.env });
    expect(await recordsIn(url)).toEqual([`snapshots/${second.id}.json`]);

    // A sweep syncs the records with the bucket's: the deleted checkpoint's stays gone.
    await cliJson(ws, ["retention", "run"], 0, { env: inBucket });
    expect(fs.readdirSync(path.join(ws.dataDir, "store", "snapshots")).filter((name) => name.endsWith(".json"))).toEqual([`${second.id}.json`]);
    expect((await cliJson<{ items: { id: string }[] }>(ws, ["checkpoint", "list", "web"], 0, { env: inBucket })).items.map((c) => c.id)).toEqual([second.id]);
  });
});
