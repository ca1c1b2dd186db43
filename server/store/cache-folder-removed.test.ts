/**
 * A bucket's cache (objects/ of the data directory) removed by hand while a
 * process that opened the store goes on running (a server): the next write or
 * download makes objects/ again, whichever fan-out folder it needs, used
 * before in this process or not.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Bucket, BucketObjectInfo } from "./bucket/bucket";
import { BucketTier, objectKey } from "./bucket-tier";
import { ObjectStore, sha256Hex } from "./object-store";

/** A bucket in memory: enough of one for the store's uploads and downloads. */
function memoryBucket(): Bucket & { keys: Map<string, Buffer> } {
  const keys = new Map<string, Buffer>();
  return {
    keys,
    location: "memory://cache-test",
    putFile: async (key, file) => (keys.has(key) ? false : (keys.set(key, fs.readFileSync(file)), true)),
    putBuffer: async (key, body, options) => (keys.has(key) && !options?.overwrite ? false : (keys.set(key, body), true)),
    download: async (key, dest) => {
      const body = keys.get(key);
      if (!body) return null;
      fs.writeFileSync(dest, body, { flag: "wx", mode: 0o600 });
      return body.length;
    },
    getBuffer: async (key) => keys.get(key) ?? null,
    head: async (key) => (keys.has(key) ? { size: (keys.get(key) as Buffer).length, lastModified: new Date() } : null),
    list: async function* (prefix): AsyncIterable<BucketObjectInfo> {
      for (const [key, body] of keys) if (key.startsWith(prefix)) yield { key, size: body.length, lastModified: new Date() };
    },
    deleteMany: async (list) => void list.forEach((key) => keys.delete(key)),
    checkWritable: async () => undefined,
    close: () => undefined,
  };
}

let work: string;
let store: ObjectStore;
let bucket: ReturnType<typeof memoryBucket>;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-cache-removed-"));
  store = new ObjectStore(path.join(work, "store"));
  store.init();
  bucket = memoryBucket();
  store.attachBucket(new BucketTier(bucket, store.dir));
});
afterEach(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

const objectsDir = () => path.join(store.dir, "objects");

/** Content whose sha256 starts with `fanout`, so each case meets a fan-out folder this process never made. */
function contentIn(fanout: string, label: string): Buffer {
  for (let i = 0; ; i++) {
    const content = Buffer.from(`${label} ${i}\n`);
    if (sha256Hex(content).startsWith(fanout)) return content;
  }
}

describe("a bucket's cache folder removed while the store is open", () => {
  it("stores a buffer again, in a fan-out folder not made before", async () => {
    fs.rmSync(objectsDir(), { recursive: true });
    const content = contentIn("e9", "tree");
    const put = store.putBuffer(content);
    expect(put.written).toBe(true);
    expect(store.readBuffer(put.sha256, { verify: true }).equals(content)).toBe(true);
    await store.flushRemote();
    expect(bucket.keys.has(objectKey(put.sha256, false))).toBe(true);
  });

  it("stores a file again, in a fan-out folder not made before", async () => {
    fs.rmSync(objectsDir(), { recursive: true });
    const content = contentIn("a7", "file");
    const file = path.join(work, "a.txt");
    fs.writeFileSync(file, content);
    const put = await store.putFile(file);
    expect(put.sha256).toBe(sha256Hex(content));
    expect(store.readBuffer(put.sha256, { verify: true }).equals(content)).toBe(true);
  });

  it("downloads from the bucket again, into a fan-out folder not made before", async () => {
    const content = contentIn("3c", "remote");
    const sha256 = sha256Hex(content);
    bucket.keys.set(objectKey(sha256, false), content);
    fs.rmSync(objectsDir(), { recursive: true });
    await store.ensureLocal([sha256]);
    expect(store.readBuffer(sha256, { verify: true }).equals(content)).toBe(true);
  });
});
