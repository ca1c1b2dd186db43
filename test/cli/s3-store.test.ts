/**
 * Objects in an S3-compatible bucket (s3rver on 127.0.0.1, driven through the
 * real AWS SDK), through the CLI as a process: the data directory keeps a
 * cache, and the bucket alone is enough to rebuild, verify, restore, export
 * and roll back; a bucket that cannot be written leaves nothing recorded;
 * retention deletes from the bucket.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, jsonOf, makeWorkspaceDirs, readTree, runCli, treeDifferences, writeTree, type CliErrorJson, type CliOptions, type WorkspaceDirs } from "../support/workspace";
import { loseMetadataDatabase } from "../support/metadata-store";
import { corruptStoredObjectFile } from "../support/stored-objects";
import { useS3Server, type S3TestServer } from "../support/s3-server";
import { onS3Pass } from "../support/object-store-location";
import { FAULTS, startS3FaultProxy, type S3FaultProxy } from "../support/s3-fault-proxy";
import { S3Bucket } from "../../server/store/bucket/s3-bucket";
import type { CheckpointCreated } from "../../server/checkpoints/commit";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

let s3: S3TestServer;
useS3Server((server) => (s3 = server));

let prefixes = 0;
/** A bucket prefix of its own for each data directory (the way separate deployments share one bucket). */
function bucketFor(label: string, endpoint?: string): { SAFETYNET_OBJECT_STORE: string } & Record<string, string> {
  return { ...s3.env, SAFETYNET_OBJECT_STORE: s3.url(`${label}-${++prefixes}`, endpoint) };
}

function on(env: Record<string, string>) {
  return {
    json: <T = Record<string, unknown>>(ws: WorkspaceDirs, args: string[], status = 0, options: CliOptions = {}) => cliJson<T>(ws, args, status, { ...options, env: { ...env, ...options.env } }),
    run: (ws: WorkspaceDirs, args: string[], options: CliOptions = {}) => runCli(ws, args, { ...options, env: { ...env, ...options.env } }),
  };
}

/** Keys (relative to the data directory's prefix) under `under` in the bucket, with their sizes. */
async function listed(env: { SAFETYNET_OBJECT_STORE: string }, under: string): Promise<{ key: string; size: number }[]> {
  const bucket = S3Bucket.fromSetting(env.SAFETYNET_OBJECT_STORE);
  try {
    const out: { key: string; size: number }[] = [];
    for await (const object of bucket.list(under)) out.push({ key: object.key, size: object.size });
    return out;
  } finally {
    bucket.close();
  }
}

async function keysOf(env: { SAFETYNET_OBJECT_STORE: string }, under: string): Promise<string[]> {
  return (await listed(env, under)).map((o) => o.key);
}

function objectFiles(dataDir: string): string[] {
  const dir = path.join(dataDir, "store", "objects");
  return fs.existsSync(dir) ? fs.readdirSync(dir).flatMap((fanout) => fs.readdirSync(path.join(dir, fanout))) : [];
}

async function twoCheckpoints(label: string, env: Record<string, string>) {
  const cli = on(env);
  const ws = makeWorkspaceDirs(label);
  writeTree(ws.root, { "a.txt": "a1\n", "src/b.ts": "export const b = 1;\n", "docs/big.md": "text ".repeat(50_000) });
  fs.writeFileSync(path.join(ws.root, "docs", "blob.bin"), randomBytes(40_000));
  await cli.json(ws, ["component", "add", "web", "--root", ws.root]);
  const first = await cli.json<CheckpointCreated>(ws, ["checkpoint", "create", "web", "--reason", "first"]);
  const firstTree = readTree(ws.root);
  fs.writeFileSync(path.join(ws.root, "a.txt"), "a2\n");
  fs.rmSync(path.join(ws.root, "src"), { recursive: true });
  fs.writeFileSync(path.join(ws.root, "new.txt"), "new\n");
  const second = await cli.json<CheckpointCreated>(ws, ["checkpoint", "create", "web", "--reason", "second"]);
  return { ws, cli, first, second, firstTree };
}

describe("objects in a bucket", () => {
  it("puts every object and snapshot record in the bucket before a checkpoint is recorded, and rolls back with an empty cache", async () => {
    const env = bucketFor("roundtrip");
    const { ws, cli, first, second, firstTree } = await twoCheckpoints("s3-roundtrip", env);
    const records = await keysOf(env, "snapshots/");
    expect(records.sort()).toEqual([`snapshots/${first.id}.json`, `snapshots/${second.id}.json`].sort());
    const objects = await keysOf(env, "objects/");
    // Everything the data directory holds is in the bucket too (nothing left staged).
    expect(objectFiles(ws.dataDir).every((name) => objects.some((key) => key.endsWith(`/${name}`)))).toBe(true);
    expect(fs.readdirSync(path.join(ws.dataDir, "store", "outbox")).filter((n) => n !== "records")).toEqual([]);
    expect(fs.readFileSync(path.join(ws.dataDir, "store", "bucket"), "utf8")).toMatch(/^s3:\/\//);

    // The cache lost: the rollback downloads what it needs, checked against its name.
    fs.rmSync(path.join(ws.dataDir, "store", "objects"), { recursive: true });
    await cli.json(ws, ["rollback", first.id, "--yes"]);
    expect(treeDifferences(firstTree, readTree(ws.root))).toEqual([]);
    expect(await cli.json(ws, ["checkpoint", "verify", first.id])).toMatchObject({ state: "verified" });
  });

  it("survives losing the host: a new data directory on the same bucket rebuilds the database, verifies, restores, exports and rolls back", async () => {
    const env = bucketFor("lost-host");
    const { ws, cli, first, second, firstTree } = await twoCheckpoints("s3-lost-host", env);
    await loseMetadataDatabase(ws.dataDir);
    fs.rmSync(ws.dataDir, { recursive: true });

    const rebuilt = await cli.json<{ checkpoints: number; components: { name: string }[] }>(ws, ["rebuild-db"]);
    expect(rebuilt).toMatchObject({ checkpoints: 2, components: [{ name: "web" }] });
    expect((await cli.json<{ items: { id: string }[] }>(ws, ["checkpoint", "list", "web"])).items.map((c) => c.id)).toEqual([second.id, first.id]);
    expect(await cli.json(ws, ["verify", "--all"])).toMatchObject({ outcome: "succeeded", checkpoints: 2, corrupt: 0, missing: 0, failures: [] });

    const into = path.join(ws.base, "restored");
    await cli.json(ws, ["checkpoint", "restore", first.id, "--to", into]);
    expect(treeDifferences(firstTree, readTree(into))).toEqual([]);
    const archive = path.join(ws.base, "first.tar.gz");
    await cli.json(ws, ["checkpoint", "export", first.id, "--format", "tar.gz", "-o", archive]);
    expect(fs.statSync(archive).size).toBeGreaterThan(0);

    await cli.json(ws, ["rollback", first.id, "--yes"]);
    expect(treeDifferences(firstTree, readTree(ws.root))).toEqual([]);
  });

  it("names the object and the bucket when an object there is corrupt, and never restores it", async () => {
    const env = bucketFor("corrupt");
    const { ws, cli, first } = await twoCheckpoints("s3-corrupt", env);
    const big = (await listed(env, "objects/")).find((o) => o.size > 10_000)?.key as string;
    const bucket = S3Bucket.fromSetting(env.SAFETYNET_OBJECT_STORE);
    // Same length, other bytes: what bit rot in the service would leave.
    await bucket.putBuffer(big, Buffer.alloc((await bucket.head(big))?.size ?? 0, 7), { overwrite: true });
    bucket.close();
    fs.rmSync(path.join(ws.dataDir, "store", "objects"), { recursive: true });
    const verified = await cli.json<{ state: string; problems: { sha256: string; state: string }[] }>(ws, ["checkpoint", "verify", first.id], 4);
    expect(verified.state).toBe("corrupt");
    expect(big).toContain(verified.problems[0]?.sha256 as string);
    // The rollback needs the damaged file's content back.
    fs.rmSync(path.join(ws.root, "docs", "blob.bin"));
    const refused = await cli.run(ws, ["rollback", first.id, "--yes", "--json"]);
    expect(refused.status).not.toBe(0);
    expect(jsonOf<CliErrorJson>(refused).error.message).toMatch(/corrupt/);
  });

  it("replaces a damaged cached copy with the bucket's: restore, export and a file's diff read the checkpoint's content, and nothing is recorded against it", async () => {
    const env = bucketFor("cached-damage");
    const { ws, cli, first, second, firstTree } = await twoCheckpoints("s3-cached-damage", env);
    const shaOf = (rel: string) => createHash("sha256").update(fs.readFileSync(path.join(ws.root, rel))).digest("hex");
    // A compressed object (its stream fails to inflate) and a raw one (its bytes hash to another name).
    const damaged = { "docs/big.md": shaOf("docs/big.md"), "docs/blob.bin": shaOf("docs/blob.bin") };
    const damageCache = (...shas: string[]) => {
      for (const sha of shas) corruptStoredObjectFile(ws.dataDir, sha);
    };

    damageCache(...Object.values(damaged));
    const into = path.join(ws.base, "restored");
    await cli.json(ws, ["checkpoint", "restore", first.id, "--to", into]);
    expect(treeDifferences(firstTree, readTree(into))).toEqual([]);

    // An archive streams: the one that meets the damage is broken off, says why, and the next one is whole.
    for (const sha of Object.values(damaged)) {
      damageCache(sha);
      const archive = path.join(ws.base, `first-${sha.slice(0, 8)}.tar.gz`);
      const broken = await cli.run(ws, ["checkpoint", "export", first.id, "--format", "tar.gz", "-o", archive, "--json"]);
      expect(broken.status).not.toBe(0);
      expect(jsonOf<CliErrorJson>(broken).error.message).toMatch(/cached copy of docs\/(big\.md|blob\.bin)'s content was damaged .* replaced by the bucket's intact copy/);
      await cli.json(ws, ["checkpoint", "export", first.id, "--format", "tar.gz", "-o", archive]);
      const unpacked = path.join(ws.base, `unpacked-${sha.slice(0, 8)}`);
      fs.mkdirSync(unpacked);
      execFileSync("tar", ["-xzf", archive, "-C", unpacked]);
      for (const [rel, sha] of Object.entries(damaged)) expect(createHash("sha256").update(fs.readFileSync(path.join(unpacked, `web-${first.id}`, rel))).digest("hex")).toBe(sha);
    }

    // A text diff reads both sides' content: the older one from a damaged cached copy.
    damageCache(shaOf("a.txt"));
    fs.writeFileSync(path.join(ws.root, "a.txt"), "a3\n");
    const third = await cli.json<CheckpointCreated>(ws, ["checkpoint", "create", "web", "--reason", "third"]);
    const text = await cli.run(ws, ["checkpoint", "diff", second.id, "--against", third.id, "--patch"]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^[+-]a2$/m);
    expect(text.stdout).toMatch(/^[+-]a3$/m);

    for (const checkpoint of [first, second]) {
      const shown = await cli.json<{ verifyState: string; damagedFiles: unknown[] }>(ws, ["checkpoint", "show", checkpoint.id]);
      expect(shown.damagedFiles).toEqual([]);
      expect(shown.verifyState).not.toMatch(/corrupt|missing/);
    }
    expect(await cli.json(ws, ["checkpoint", "verify", first.id])).toMatchObject({ state: "verified", problems: [] });
  });

  it("refuses a checkpoint the bucket cannot take, records nothing, and uploads it all with the next one", async () => {
    const proxy: S3FaultProxy = await startS3FaultProxy(s3.endpoint);
    try {
      const env = { ...bucketFor("refused", proxy.endpoint), SAFETYNET_S3_MAX_ATTEMPTS: "2" };
      const cli = on(env);
      const ws = makeWorkspaceDirs("s3-refused");
      writeTree(ws.root, { "a.txt": "a1\n" });
      await cli.json(ws, ["component", "add", "web", "--root", ws.root]);
      await cli.json(ws, ["checkpoint", "create", "web"]);
      fs.writeFileSync(path.join(ws.root, "a.txt"), "a2\n");

      proxy.inject({ fault: FAULTS.slowDown, times: Infinity, method: "PUT" });
      const refused = await cli.run(ws, ["checkpoint", "create", "web", "--json"]);
      expect(refused.status).not.toBe(0);
      expect(jsonOf<CliErrorJson>(refused).error.message).toMatch(/503|SlowDown|unavailable/i);
      expect((await cli.json<{ items: unknown[] }>(ws, ["checkpoint", "list", "web"])).items).toHaveLength(1);

      proxy.clear();
      const next = await cli.json<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
      expect(next.changes).toMatchObject({ modified: 1 });
      const objects = await keysOf(env, "objects/");
      expect(objectFiles(ws.dataDir).every((name) => objects.some((key) => key.endsWith(`/${name}`)))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it("deletes what retention collects from the bucket, and what is left still rolls back from an empty cache", async () => {
    const env = bucketFor("retention");
    const { ws, cli, first, second } = await twoCheckpoints("s3-retention", env);
    const before = await keysOf(env, "objects/");
    await cli.json(ws, ["checkpoint", "delete", first.id, "--yes"]);
    const run = await cli.json<{ objectsDeleted?: number }>(ws, ["retention", "run"], 0, { env: { SAFETYNET_RETENTION_GRACE_MS: "0" } });
    expect(JSON.stringify(run)).toMatch(/"objects/);
    const after = await keysOf(env, "objects/");
    expect(after.length).toBeLessThan(before.length);
    expect(await keysOf(env, "snapshots/")).toEqual([`snapshots/${second.id}.json`]);
    expect((await keysOf(env, "collections/")).length).toBeGreaterThan(0);

    fs.rmSync(path.join(ws.dataDir, "store", "objects"), { recursive: true });
    fs.writeFileSync(path.join(ws.root, "a.txt"), "changed after\n");
    await cli.json(ws, ["rollback", second.id, "--yes"]);
    expect(fs.readFileSync(path.join(ws.root, "a.txt"), "utf8")).toBe("a2\n");
  });

  it("keeps the cache under its bound, keeping the tree objects", async () => {
    const env = { ...bucketFor("bounded"), SAFETYNET_CACHE_MAX_BYTES: "20000" };
    const { ws, cli, first, firstTree } = await twoCheckpoints("s3-bounded", env);
    fs.rmSync(path.join(ws.dataDir, "store", "objects"), { recursive: true });
    await cli.json(ws, ["rollback", first.id, "--yes"]);
    expect(treeDifferences(firstTree, readTree(ws.root))).toEqual([]);
    const cached = objectFiles(ws.dataDir).map((name) => fs.statSync(path.join(ws.dataDir, "store", "objects", name.slice(0, 2), name)).size);
    expect(cached.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(20_000);
    // Opening the checkpoint again needs no download: its trees stayed.
    expect(await cli.json(ws, ["checkpoint", "diff", first.id, "--against", first.id])).toBeDefined();
  });

  it("refuses a bucket for a data directory whose objects are local, naming store migrate", async () => {
    const ws = makeWorkspaceDirs("s3-local-first");
    writeTree(ws.root, { "a.txt": "a\n" });
    // Local objects whatever the pass (the S3 pass would put them in its bucket).
    const local: CliOptions = { env: { SAFETYNET_OBJECT_STORE: "local" } };
    await cliJson(ws, ["component", "add", "web", "--root", ws.root], 0, local);
    await cliJson(ws, ["checkpoint", "create", "web"], 0, local);
    const refused = await runCli(ws, ["checkpoint", "list", "web", "--json"], { env: bucketFor("local-first") });
    expect(refused.status).not.toBe(0);
    expect(jsonOf<CliErrorJson>(refused).error.message).toMatch(/objects are stored in it .*safetynet store migrate --to s3:\/\//);
  });
});

// On the S3 pass a data directory's objects are in a bucket from the start: there is no local store to move.
describe.skipIf(onS3Pass())("store migrate", () => {
  it("copies a local store into a bucket, resumes after a failure, switches over, and comes back to local", async () => {
    const proxy = await startS3FaultProxy(s3.endpoint);
    try {
      const ws = makeWorkspaceDirs("s3-migrate");
      writeTree(ws.root, { "a.txt": "a1\n", "src/b.ts": "export const b = 1;\n", "docs/c.md": "c\n" });
      fs.writeFileSync(path.join(ws.root, "docs", "blob.bin"), randomBytes(30_000));
      await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
      const first = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
      const firstTree = readTree(ws.root);
      fs.writeFileSync(path.join(ws.root, "a.txt"), "a2\n");
      await cliJson(ws, ["checkpoint", "create", "web"]);
      const local = objectFiles(ws.dataDir).length;
      const through = s3.url(`migrate-${++prefixes}`, proxy.endpoint);

      // The upload of the last object fails (objects go in order): the run stops, nothing is switched, and what it
      // copied is remembered.
      const last = objectFiles(ws.dataDir)
        .map((name) => name.replace(/\.z$/, ""))
        .sort()
        .at(-1) as string;
      proxy.inject({ fault: FAULTS.internalError, times: Infinity, method: "PUT", path: new RegExp(`/objects/${last.slice(0, 2)}/${last}`) });
      const failed = await runCli(ws, ["store", "migrate", "--to", through, "--json"], { env: { ...s3.env, SAFETYNET_S3_MAX_ATTEMPTS: "1" } });
      expect(failed.status).not.toBe(0);
      expect(fs.existsSync(path.join(ws.dataDir, "store", "bucket"))).toBe(false);
      proxy.clear();

      const moved = await cliJson<{ switched: boolean; objects: number; copied: number; records: number }>(ws, ["store", "migrate", "--to", through], 0, { env: s3.env });
      expect(moved).toMatchObject({ switched: true, objects: local, records: 2 });
      expect(moved.copied).toBe(1);
      expect((await keysOf({ SAFETYNET_OBJECT_STORE: through }, "objects/")).length).toBeGreaterThanOrEqual(local);

      // Every later process uses the bucket without being told: a new checkpoint is uploaded, and a rollback
      // with the cache gone downloads.
      fs.writeFileSync(path.join(ws.root, "a.txt"), "a3\n");
      const third = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"], 0, { env: s3.env });
      expect(await keysOf({ SAFETYNET_OBJECT_STORE: through }, "snapshots/")).toContain(`snapshots/${third.id}.json`);
      fs.rmSync(path.join(ws.dataDir, "store", "objects"), { recursive: true });
      await cliJson(ws, ["rollback", first.id, "--yes"], 0, { env: s3.env });
      expect(treeDifferences(firstTree, readTree(ws.root))).toEqual([]);

      // And back: every object is here again, and the bucket is no longer needed.
      const back = await cliJson<{ switched: boolean; to: string }>(ws, ["store", "migrate", "--to", "local"], 0, { env: s3.env });
      expect(back).toMatchObject({ switched: true, to: "local" });
      expect(fs.existsSync(path.join(ws.dataDir, "store", "bucket"))).toBe(false);
      await proxy.close();
      expect(await cliJson(ws, ["verify", "--all"])).toMatchObject({ outcome: "succeeded", corrupt: 0, missing: 0 });
    } finally {
      await proxy.close().catch(() => undefined);
    }
  });

  it("refuses to switch when an object here is damaged, naming it", async () => {
    const ws = makeWorkspaceDirs("s3-migrate-damaged");
    writeTree(ws.root, { "a.txt": "a1\n" });
    fs.writeFileSync(path.join(ws.root, "blob.bin"), randomBytes(20_000));
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
    await cliJson(ws, ["checkpoint", "create", "web"]);
    const blob = objectFiles(ws.dataDir).find((name) => fs.statSync(path.join(ws.dataDir, "store", "objects", name.slice(0, 2), name)).size >= 20_000) as string;
    const file = path.join(ws.dataDir, "store", "objects", blob.slice(0, 2), blob);
    fs.chmodSync(file, 0o600);
    fs.writeFileSync(file, randomBytes(20_000));
    const refused = await runCli(ws, ["store", "migrate", "--to", bucketFor("migrate-damaged").SAFETYNET_OBJECT_STORE, "--json"], { env: s3.env });
    expect(refused.status).toBe(4);
    expect(jsonOf<CliErrorJson>(refused).error.message).toContain(`object ${blob} is corrupt in this data directory: nothing was switched`);
    expect(fs.existsSync(path.join(ws.dataDir, "store", "bucket"))).toBe(false);
  });
});
