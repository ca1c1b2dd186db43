/**
 * The object store in front of a bucket (s3rver through the real AWS SDK): what
 * is staged and uploaded, what readers download and check, what a sweep on
 * another host makes this host's cache forget, and what the cache's bound keeps.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IntegrityError } from "../errors";
import { isCheckpointStructure } from "../checkpoints/tree-format";
import { useS3Server, type S3TestServer } from "../../test/support/s3-server";
import { BucketTier, objectKey } from "./bucket-tier";
import { parseBucketUrl } from "./bucket/bucket-url";
import { S3Bucket } from "./bucket/s3-bucket";
import { ObjectStore } from "./object-store";
import { migrateToBucket } from "./migrate";
import { cleanUpAfterEach, openWorkspace } from "../../test/support/workspace";
import { onS3Pass } from "../../test/support/object-store-location";

cleanUpAfterEach();

const sha = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

let s3: S3TestServer;
useS3Server((server) => (s3 = server));

let work: string;
let prefix: string;
let prefixes = 0;
const buckets: S3Bucket[] = [];
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-tier-"));
  prefix = `tier-${process.pid}-${++prefixes}`;
});
afterEach(() => {
  for (const bucket of buckets.splice(0)) bucket.close();
  fs.rmSync(work, { recursive: true, force: true });
});

/** A store in its own folder on the test's bucket prefix (two of them: two hosts). */
function storeOn(name: string): ObjectStore {
  const bucket = new S3Bucket(parseBucketUrl(s3.url(prefix)));
  buckets.push(bucket);
  const store = new ObjectStore(path.join(work, name));
  store.init();
  store.attachBucket(new BucketTier(bucket, store.dir));
  return store;
}

function file(name: string, content: Buffer | string): string {
  const p = path.join(work, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  return p;
}

async function inBucket(sha256: string): Promise<boolean> {
  const bucket = new S3Bucket(parseBucketUrl(s3.url(prefix)));
  try {
    return (await bucket.head(objectKey(sha256, false))) !== null || (await bucket.head(objectKey(sha256, true))) !== null;
  } finally {
    bucket.close();
  }
}

describe("an object store in front of a bucket", () => {
  it("stages what it writes and uploads it on flush, leaving nothing staged", async () => {
    const store = storeOn("a");
    const content = randomBytes(10_000);
    const put = await store.putFile(file("f.bin", content));
    expect(store.bucket?.pending().objects).toBe(1);
    expect(await inBucket(put.sha256)).toBe(false);
    await store.flushRemote();
    expect(await inBucket(put.sha256)).toBe(true);
    expect(store.bucket?.pending()).toEqual({ objects: 0, records: 0 });
  });

  it("downloads a missing object for a reader, checked against its name, and refuses a damaged one naming its key", async () => {
    const writer = storeOn("a");
    const content = randomBytes(20_000);
    const { sha256 } = await writer.putFile(file("f.bin", content));
    await writer.flushRemote();

    const reader = storeOn("b");
    const dest = path.join(work, "out.bin");
    await reader.materialize(sha256, dest, 0o644);
    expect(fs.readFileSync(dest).equals(content)).toBe(true);
    expect(reader.has(sha256)).toBe(true);

    const bucket = new S3Bucket(parseBucketUrl(s3.url(prefix)));
    buckets.push(bucket);
    await bucket.putBuffer(objectKey(sha256, false), randomBytes(20_000), { overwrite: true });
    const third = storeOn("c");
    const error = await third.materialize(sha256, path.join(work, "out2.bin"), 0o644).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as IntegrityError).details).toMatchObject({ sha256, state: "corrupt" });
    expect((error as IntegrityError).details.path).toBe(`s3://${s3.bucket}/${prefix}/objects/${sha256.slice(0, 2)}/${sha256}`);
    expect(fs.existsSync(path.join(work, "out2.bin"))).toBe(false);
    expect(third.has(sha256)).toBe(false);
  });

  it("hands a reader that needs a file a name of its own, which a trim of the cache cannot take away", async () => {
    const store = storeOn("a");
    const content = randomBytes(5_000);
    const { sha256 } = await store.putFile(file("f.bin", content));
    await store.flushRemote();
    const read = await store.withObjectFile(sha256, async (name) => {
      store.deleteObject(sha256);
      return fs.readFileSync(name);
    });
    expect(read.equals(content)).toBe(true);
    // And the next reader downloads it again.
    expect((await store.openContent(sha256)).size).toBe(5_000);
  });

  it("forgets what a sweep on another host deleted from the bucket before it trusts its cache again", async () => {
    const mine = storeOn("a");
    const theirs = storeOn("b");
    const content = randomBytes(8_000);
    const { sha256 } = await mine.putFile(file("f.bin", content));
    await mine.flushRemote();
    await theirs.ensureLocal([sha256]);

    expect(await theirs.collect([sha256])).toEqual([sha256]);
    expect(await inBucket(sha256)).toBe(false);
    expect(mine.has(sha256)).toBe(true);
    const before = mine.collectionGeneration();
    await mine.syncCollections();
    expect(mine.has(sha256)).toBe(false);
    expect(mine.collectionGeneration()).toBe(before + 1);
    // Written again, it is staged and uploaded again.
    await mine.putFile(file("again.bin", content));
    await mine.flushRemote();
    expect(await inBucket(sha256)).toBe(true);
  });

  it("trims the cache to its bound, least recently used first, keeping tree objects and staged objects", async () => {
    const store = storeOn("a");
    const tree = Buffer.from(`{"tree":1,"files":1,"dirs":0,"symlinks":0,"bytes":1,"children":[${" ".repeat(30_000)}]}\n`);
    const treeSha = store.putBuffer(tree).sha256;
    const uploaded: string[] = [];
    for (let i = 0; i < 4; i++) uploaded.push((await store.putFile(file(`u${i}.bin`, randomBytes(10_000)))).sha256);
    await store.flushRemote();
    const staged = (await store.putFile(file("staged.bin", randomBytes(10_000)))).sha256;
    // The oldest used first.
    for (const [i, object] of uploaded.entries()) {
      const located = store.locate(object)?.path as string;
      fs.utimesSync(located, new Date(2020, 0, 1 + i), new Date(2020, 0, 1 + i));
    }
    store.setCacheBound({ maxBytes: 30_000, keep: isCheckpointStructure });
    const removed = store.trimCache({ force: true });
    expect(store.has(treeSha)).toBe(true);
    expect(store.has(staged)).toBe(true);
    // Down to 90 % of the bound: the three used longest ago go, the newest stays.
    expect(uploaded.map((object) => store.has(object))).toEqual([false, false, false, true]);
    expect(removed.objects).toBe(3);
    expect(sha(tree)).toBe(treeSha);
  });

  // On the S3 pass a workspace's objects are in a bucket from the start: there is no local store to move.
  it.skipIf(onS3Pass())("takes the bucket's collection generation when a data directory moves its objects there, so it hears of the next sweep on another host", async () => {
    const ws = openWorkspace({ label: "tier-migrate-generation" });
    const local = ws.core.store;
    // Sweeps while the objects were local moved the local generation well past the bucket's.
    for (let i = 0; i < 3; i++) await local.collect([(await local.putFile(file(`gone${i}.bin`, randomBytes(100)))).sha256]);
    expect(local.collectionGeneration()).toBe(3);
    const kept = await local.putFile(file("kept.bin", randomBytes(6_000)));
    await migrateToBucket(local, ws.core.locks, s3.url(prefix));
    expect(local.collectionGeneration()).toBe(0);

    const other = storeOn("other");
    await other.collect([kept.sha256]);
    await local.syncCollections();
    expect(local.has(kept.sha256)).toBe(false);
  });
});
