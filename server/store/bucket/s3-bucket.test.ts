/**
 * S3Bucket against s3rver through the real SDK: what the store relies on
 * (round trips under a prefix, write-once, listing, batch deletes, downloads
 * that never replace a file, the write probe), with the fault proxy in the path
 * where the test needs to see what was sent.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { InvalidInputError, OperationFailedError } from "../../errors";
import { startS3FaultProxy, FAULTS, type S3FaultProxy } from "../../../test/support/s3-fault-proxy";
import { startS3Server, type S3TestServer } from "../../../test/support/s3-server";
import { parseBucketUrl } from "./bucket-url";
import { DEFAULT_MULTIPART_THRESHOLD, DEFAULT_PART_SIZE, S3Bucket, type S3BucketOptions } from "./s3-bucket";

let s3: S3TestServer;
let tmp: string;
const open: S3Bucket[] = [];
const proxies: S3FaultProxy[] = [];
let prefixCount = 0;

beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3?.stop();
});
beforeEach(() => {
  for (const [name, value] of Object.entries(s3.env)) vi.stubEnv(name, value);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-bucket-"));
});
afterEach(async () => {
  for (const bucket of open.splice(0)) bucket.close();
  for (const proxy of proxies.splice(0)) await proxy.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  vi.unstubAllEnvs();
});

/** A bucket under a prefix of its own (tests do not see each other's keys). */
function bucketAt(prefix = `t${++prefixCount}`, options: S3BucketOptions = {}, endpoint?: string): S3Bucket {
  const bucket = new S3Bucket(parseBucketUrl(s3.url(prefix, endpoint)), options);
  open.push(bucket);
  return bucket;
}

async function proxied(options: { honourIfNoneMatch?: boolean } = {}): Promise<S3FaultProxy> {
  const proxy = await startS3FaultProxy(s3.endpoint, options);
  proxies.push(proxy);
  return proxy;
}

async function keysOf(bucket: S3Bucket, prefix = ""): Promise<string[]> {
  const keys: string[] = [];
  for await (const object of bucket.list(prefix)) keys.push(object.key);
  return keys;
}

describe("S3Bucket round trips", () => {
  it("puts, heads, reads, lists and deletes objects under its prefix", async () => {
    const bucket = bucketAt("round/trip");
    expect(bucket.location).toBe(`s3://${s3.bucket}/round/trip`);
    const file = path.join(tmp, "a.txt");
    fs.writeFileSync(file, "alpha");
    expect(await bucket.putFile("objects/aa/a1", file)).toBe(true);
    expect(await bucket.putBuffer("objects/bb/b1", Buffer.from("beta!"))).toBe(true);

    expect(await bucket.head("objects/aa/a1")).toEqual({ size: 5, lastModified: expect.any(Date) });
    expect((await bucket.getBuffer("objects/bb/b1"))?.toString()).toBe("beta!");
    const dest = path.join(tmp, "out");
    expect(await bucket.download("objects/aa/a1", dest)).toBe(5);
    expect(fs.readFileSync(dest, "utf8")).toBe("alpha");
    expect(fs.statSync(dest).mode & 0o777).toBe(0o600);

    const listed = [];
    for await (const object of bucket.list("objects/")) listed.push(object);
    expect(listed.map((o) => [o.key, o.size])).toEqual([
      ["objects/aa/a1", 5],
      ["objects/bb/b1", 5],
    ]);
    expect(listed[0]?.lastModified).toBeInstanceOf(Date);
    expect(await keysOf(bucket, "objects/aa/")).toEqual(["objects/aa/a1"]);

    // The prefix is really there in the bucket: another view of it sees the keys below it.
    expect(await keysOf(bucketAt("round"), "trip/")).toEqual(["trip/objects/aa/a1", "trip/objects/bb/b1"]);

    await bucket.deleteMany(["objects/aa/a1", "objects/bb/b1", "objects/cc/never-there"]);
    expect(await keysOf(bucket)).toEqual([]);
    expect(await bucket.head("objects/aa/a1")).toBeNull();
  });

  it("answers null for a key that is not there, and creates no file for it", async () => {
    const bucket = bucketAt();
    const dest = path.join(tmp, "missing");
    expect(await bucket.head("nothing")).toBeNull();
    expect(await bucket.getBuffer("nothing")).toBeNull();
    expect(await bucket.download("nothing", dest)).toBeNull();
    expect(fs.existsSync(dest)).toBe(false);
  });

  it("stores and downloads an empty object", async () => {
    const bucket = bucketAt();
    expect(await bucket.putBuffer("empty", Buffer.alloc(0))).toBe(true);
    expect(await bucket.getBuffer("empty")).toEqual(Buffer.alloc(0));
    const dest = path.join(tmp, "empty");
    expect(await bucket.download("empty", dest)).toBe(0);
    expect(fs.statSync(dest).size).toBe(0);
  });

  it("refuses to download over an existing file and leaves it as it was", async () => {
    const bucket = bucketAt();
    await bucket.putBuffer("k", Buffer.from("from the bucket"));
    const dest = path.join(tmp, "taken");
    fs.writeFileSync(dest, "mine");
    await expect(bucket.download("k", dest)).rejects.toThrow(/already exists/);
    expect(fs.readFileSync(dest, "utf8")).toBe("mine");
  });

  it("refuses to read an object larger than the caller allows into memory", async () => {
    const bucket = bucketAt();
    await bucket.putBuffer("big", Buffer.alloc(2048, 7));
    const error = await bucket.getBuffer("big", 1024).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect((error as Error).message).toMatch(/big is 2048 bytes, more than the 1024 that may be read into memory/);
    expect(await bucket.getBuffer("big", 2048)).toEqual(Buffer.alloc(2048, 7));
  });

  it("refuses keys that would escape or blur the prefix", async () => {
    const bucket = bucketAt();
    await expect(bucket.putBuffer("/abs", Buffer.from("x"))).rejects.toBeInstanceOf(InvalidInputError);
    await expect(bucket.head("a//b")).rejects.toBeInstanceOf(InvalidInputError);
    await expect(bucket.getBuffer("")).rejects.toBeInstanceOf(InvalidInputError);
  });

  it("names a missing bucket in its errors (a HEAD cannot tell it from a missing key: checkWritable can)", async () => {
    const bucket = new S3Bucket(parseBucketUrl(s3.url("p").replace(`s3://${s3.bucket}`, "s3://no-such-bucket")), { settings: { maxAttempts: 1 } });
    open.push(bucket);
    expect(await bucket.head("k")).toBeNull();
    await expect(bucket.putBuffer("k", Buffer.from("x"), { overwrite: true })).rejects.toThrow(/^S3 PUT s3:\/\/no-such-bucket\/p\/k failed: 404 NoSuchBucket$/);
    await expect(bucket.getBuffer("k")).rejects.toThrow(/^S3 GET s3:\/\/no-such-bucket\/p\/k failed: 404 NoSuchBucket$/);
    await expect(bucket.checkWritable()).rejects.toThrow("cannot write to s3://no-such-bucket/p: NoSuchBucket (404)");
  });
});

describe("configuration the SDK finds missing", () => {
  /** No credentials or region anywhere the SDK looks (and no instance metadata: nothing leaves the machine). */
  function bareEnvironment(): void {
    for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"]) {
      vi.stubEnv(name, undefined);
    }
    vi.stubEnv("AWS_EC2_METADATA_DISABLED", "true");
    vi.stubEnv("AWS_CONFIG_FILE", path.join(tmp, "no-config"));
    vi.stubEnv("AWS_SHARED_CREDENTIALS_FILE", path.join(tmp, "no-credentials"));
  }

  it("says how to give credentials when there are none", async () => {
    bareEnvironment();
    const bucket = bucketAt("nocreds", { settings: { maxAttempts: 1 } });
    await expect(bucket.head("k")).rejects.toThrow(`no AWS credentials for s3://${s3.bucket}/nocreds/k: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE`);
  });

  it("asks for a region when neither the setting nor the environment gives one (AWS, no endpoint)", async () => {
    bareEnvironment();
    vi.stubEnv("AWS_ACCESS_KEY_ID", "S3RVER");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "S3RVER");
    const bucket = new S3Bucket(parseBucketUrl("s3://some-bucket/p"), { settings: { maxAttempts: 1 } });
    open.push(bucket);
    const error = await bucket.head("k").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe("invalid SAFETYNET_OBJECT_STORE: no region for s3://some-bucket/p/k: add ?region=<region> to it or set AWS_REGION");
  });
});

describe("write-once", () => {
  it("keeps the first content of a key: a second put resolves false and changes nothing", async () => {
    const bucket = bucketAt();
    expect(await bucket.putBuffer("objects/k", Buffer.from("first"))).toBe(true);
    expect(await bucket.putBuffer("objects/k", Buffer.from("second"))).toBe(false);
    const file = path.join(tmp, "third");
    fs.writeFileSync(file, "third");
    expect(await bucket.putFile("objects/k", file)).toBe(false);
    expect((await bucket.getBuffer("objects/k"))?.toString()).toBe("first");
  });

  it("overwrites a mutable key when asked to", async () => {
    const bucket = bucketAt();
    await bucket.putBuffer("records/r", Buffer.from("v1"));
    expect(await bucket.putBuffer("records/r", Buffer.from("v2"), { overwrite: true })).toBe(true);
    expect((await bucket.getBuffer("records/r"))?.toString()).toBe("v2");
  });

  it("finds out once that s3rver ignores If-None-Match, then asks before each write", async () => {
    const proxy = await proxied();
    const bucket = bucketAt(undefined, {}, proxy.endpoint);
    expect(await bucket.putBuffer("a", Buffer.from("a"))).toBe(true);
    expect(await bucket.putBuffer("b", Buffer.from("b"))).toBe(true);
    expect(await bucket.putBuffer("a", Buffer.from("changed"))).toBe(false);
    const sent = proxy.requests.map((r) => `${r.method} ${r.url.split("?")[0]?.replace(/.*\//, "")}${r.headers["if-none-match"] ? " if-none-match" : ""}`);
    // The probe: an unconditional put, the same put with the condition (s3rver overwrote it), its delete.
    expect(sent.slice(0, 3).map((s) => s.replace(/probes\/|[0-9a-f-]{36}/g, "probe"))).toEqual(["PUT probe", "PUT probe if-none-match", "DELETE probe"]);
    expect(sent.slice(3)).toEqual(["HEAD a", "PUT a", "HEAD b", "PUT b", "HEAD a"]);
    expect((await bucket.getBuffer("a"))?.toString()).toBe("a");
  });

  it("uses a conditional put where the service honours it: no HEAD, and 412 means already there", async () => {
    const proxy = await proxied({ honourIfNoneMatch: true });
    const bucket = bucketAt(undefined, {}, proxy.endpoint);
    expect(await bucket.putBuffer("a", Buffer.from("a"))).toBe(true);
    expect(await bucket.putBuffer("a", Buffer.from("changed"))).toBe(false);
    const after = proxy.requests.slice(3).map((r) => `${r.method} ${r.headers["if-none-match"] ?? ""}`);
    expect(after).toEqual(["PUT *", "PUT *"]);
    expect((await bucket.getBuffer("a"))?.toString()).toBe("a");
  });

  it("falls back to HEAD-then-PUT where the service refuses the If-None-Match header", async () => {
    const proxy = await proxied();
    proxy.inject({ fault: FAULTS.notImplemented, method: "PUT", header: "if-none-match", times: Infinity });
    const bucket = bucketAt(undefined, { settings: { maxAttempts: 1 } }, proxy.endpoint);
    expect(await bucket.putBuffer("a", Buffer.from("a"))).toBe(true);
    expect(await bucket.putBuffer("a", Buffer.from("changed"))).toBe(false);
    expect(proxy.faultsServed()).toBe(1);
    expect((await bucket.getBuffer("a"))?.toString()).toBe("a");
  });
});

describe("files above the multipart threshold", () => {
  it("go up in parts, come back whole, and are not sent again when the key exists", async () => {
    const proxy = await proxied();
    const MiB = 1024 * 1024;
    const bucket = bucketAt(undefined, { multipartThreshold: 5 * MiB, partSize: 5 * MiB }, proxy.endpoint);
    const file = path.join(tmp, "large");
    const data = randomBytes(12 * MiB);
    fs.writeFileSync(file, data);
    expect(await bucket.putFile("objects/large", file)).toBe(true);
    const parts = () => proxy.requests.filter((r) => r.method === "PUT" && r.url.includes("partNumber=")).length;
    expect(parts()).toBe(3);
    const dest = path.join(tmp, "back");
    expect(await bucket.download("objects/large", dest)).toBe(data.length);
    expect(createHash("sha256").update(fs.readFileSync(dest)).digest("hex")).toBe(createHash("sha256").update(data).digest("hex"));

    fs.writeFileSync(file, Buffer.alloc(6 * MiB, 1));
    expect(await bucket.putFile("objects/large", file)).toBe(false);
    expect(parts()).toBe(3);
    expect((await bucket.head("objects/large"))?.size).toBe(data.length);
  });
});

describe("multipart uploads", () => {
  it("sends a file of the multipart threshold or more in parts of DEFAULT_PART_SIZE, and it reads back whole", async () => {
    const proxy = await proxied();
    const bucket = bucketAt(undefined, {}, proxy.endpoint);
    const file = path.join(tmp, "large.bin");
    // Above the threshold, and not a whole number of parts: the last part is the rest.
    const size = DEFAULT_MULTIPART_THRESHOLD + DEFAULT_PART_SIZE / 2;
    const content = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4096) content.writeUInt32BE(i, i);
    fs.writeFileSync(file, content);
    expect(await bucket.putFile("large", file)).toBe(true);

    const parts = proxy.requests.filter((r) => r.method === "PUT" && /[?&]partNumber=/.test(r.url));
    const sizes = parts.map((r) => Number(r.headers["x-amz-decoded-content-length"] ?? r.headers["content-length"]));
    expect(DEFAULT_PART_SIZE).toBe(8 * 1024 * 1024);
    expect(sizes.sort((a, b) => b - a)).toEqual([...Array(Math.floor(size / DEFAULT_PART_SIZE)).fill(DEFAULT_PART_SIZE), size % DEFAULT_PART_SIZE]);
    const dest = path.join(tmp, "large.out");
    expect(await bucket.download("large", dest)).toBe(size);
    expect(createHash("sha256").update(fs.readFileSync(dest)).digest("hex")).toBe(createHash("sha256").update(content).digest("hex"));
  });
});

describe("listing and batch deletes", () => {
  it("lists every key across pages", async () => {
    const bucket = bucketAt(undefined, { listPageSize: 7 });
    const keys = Array.from({ length: 30 }, (_, i) => `objects/${String(i).padStart(2, "0")}`);
    for (const key of keys) await bucket.putBuffer(key, Buffer.from(key), { overwrite: true });
    await bucket.putBuffer("other/x", Buffer.from("x"), { overwrite: true });
    expect(await keysOf(bucket, "objects/")).toEqual(keys);
    expect((await keysOf(bucket)).length).toBe(31);
  });

  it("deletes more than 1000 keys in batches of at most 1000, with Content-MD5", async () => {
    const proxy = await proxied();
    const bucket = bucketAt(undefined, {}, proxy.endpoint);
    const keys = Array.from({ length: 2100 }, (_, i) => `gc/${i}`);
    // A few of them exist, in every batch; the others are missing, which is fine.
    const stored = ["gc/0", "gc/999", "gc/1000", "gc/2099"];
    for (const key of stored) await bucket.putBuffer(key, Buffer.from("x"), { overwrite: true });
    expect(await keysOf(bucket, "gc/")).toHaveLength(stored.length);
    await bucket.deleteMany(keys);
    const batches = proxy.requests.filter((r) => r.method === "POST" && r.url.includes("?delete") && r.status === 200);
    expect(batches.map((r) => (r.body?.match(/<Key>/g) ?? []).length)).toEqual([1000, 1000, 100]);
    for (const batch of batches) {
      // The MD5 that S3-compatible services insist on, and no CRC32 header they may not know.
      expect(batch.headers["content-md5"]).toBe(createHash("md5").update(batch.body ?? "").digest("base64"));
      expect(Object.keys(batch.headers).filter((h) => h.startsWith("x-amz-checksum-"))).toEqual([]);
    }
    expect(await keysOf(bucket, "gc/")).toEqual([]);
  });

  it("names the keys a batch delete could not remove", async () => {
    const proxy = await proxied();
    const bucket = bucketAt("denied", {}, proxy.endpoint);
    // S3's answer when some keys of a batch are refused: 200, with an <Error> for each.
    const result = `<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Error><Key>denied/b</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>`;
    proxy.inject({ fault: { kind: "reply", status: 200, body: result }, method: "POST", path: /\?delete/ });
    const error = await bucket.deleteMany(["a", "b", "c"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect((error as Error).message).toBe(`S3 DELETE in s3://${s3.bucket}/denied failed for 1 of 3 keys: b (AccessDenied)`);
    expect((error as OperationFailedError).details.keys).toEqual(["b"]);
  });

  it("reports a refused batch delete as a whole", async () => {
    const proxy = await proxied();
    const bucket = bucketAt("refused", {}, proxy.endpoint);
    proxy.inject({ fault: FAULTS.accessDenied, method: "POST", path: /\?delete/ });
    await expect(bucket.deleteMany(["a", "b"])).rejects.toThrow(`S3 DELETE s3://${s3.bucket}/refused failed: 403 AccessDenied`);
  });
});

describe("checkWritable", () => {
  it("passes where the credentials can write, read and delete, and leaves no probe behind", async () => {
    const bucket = bucketAt("writable");
    await bucket.checkWritable();
    expect(await keysOf(bucket)).toEqual([]);
  });

  it("says the credentials cannot write when a PUT is refused", async () => {
    const proxy = await proxied();
    proxy.inject({ fault: FAULTS.accessDenied, method: "PUT", times: Infinity });
    const bucket = bucketAt("ro", {}, proxy.endpoint);
    await expect(bucket.checkWritable()).rejects.toThrow(`credentials cannot write to s3://${s3.bucket}/ro: AccessDenied (403)`);
  });

  it("says the credentials cannot read when a GET is refused, and still removes the probe", async () => {
    const proxy = await proxied();
    proxy.inject({ fault: FAULTS.accessDenied, method: "GET", path: /probes\//, times: Infinity });
    const bucket = bucketAt("wo", {}, proxy.endpoint);
    await expect(bucket.checkWritable()).rejects.toThrow(`credentials cannot read from s3://${s3.bucket}/wo: AccessDenied (403)`);
    expect(await keysOf(bucketAt("wo"))).toEqual([]);
  });

  it("says the credentials cannot delete when a DELETE is refused", async () => {
    const proxy = await proxied();
    proxy.inject({ fault: FAULTS.accessDenied, method: "DELETE", times: Infinity });
    const bucket = bucketAt("nodelete", {}, proxy.endpoint);
    await expect(bucket.checkWritable()).rejects.toThrow(`credentials cannot delete in s3://${s3.bucket}/nodelete: AccessDenied (403)`);
  });
});
