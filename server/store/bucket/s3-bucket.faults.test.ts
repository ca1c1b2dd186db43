/**
 * S3Bucket when the service misbehaves, through the fault proxy: transient
 * failures are retried and the result is right; lasting ones end in an error
 * naming the operation, the object and the answer, never in a hang, and never
 * with a partial file left at the destination.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { OperationFailedError, StorageUnavailableError } from "../../errors";
import { FAULTS, startS3FaultProxy, type S3FaultProxy } from "../../../test/support/s3-fault-proxy";
import { startS3Server, type S3TestServer } from "../../../test/support/s3-server";
import { parseBucketUrl } from "./bucket-url";
import { S3Bucket, type S3BucketOptions } from "./s3-bucket";

let s3: S3TestServer;
let proxy: S3FaultProxy;
let tmp: string;
const open: S3Bucket[] = [];
let prefixCount = 0;

beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3?.stop();
});
beforeEach(async () => {
  for (const [name, value] of Object.entries(s3.env)) vi.stubEnv(name, value);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-bucket-faults-"));
  proxy = await startS3FaultProxy(s3.endpoint);
});
afterEach(async () => {
  for (const bucket of open.splice(0)) bucket.close();
  await proxy.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  vi.unstubAllEnvs();
});

/** A bucket reached through the proxy, and one reached directly (to set up and check what is really stored). */
function buckets(options: S3BucketOptions = {}): { faulty: S3Bucket; direct: S3Bucket; prefix: string } {
  const prefix = `f${++prefixCount}`;
  const faulty = new S3Bucket(parseBucketUrl(s3.url(prefix, proxy.endpoint)), { ...options, settings: { maxAttempts: 3, timeoutMs: 2_000, ...options.settings } });
  const direct = new S3Bucket(parseBucketUrl(s3.url(prefix)));
  open.push(faulty, direct);
  return { faulty, direct, prefix };
}

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const gets = () => proxy.requests.filter((r) => r.method === "GET");

describe("transient failures are retried", () => {
  it("retries a PUT answered 503 SlowDown twice, and stores the object", async () => {
    const { faulty, direct } = buckets();
    proxy.inject({ fault: FAULTS.slowDown, method: "PUT", times: 2 });
    expect(await faulty.putBuffer("k", Buffer.from("content"), { overwrite: true })).toBe(true);
    expect(proxy.faultsServed()).toBe(2);
    expect(proxy.requests.filter((r) => r.method === "PUT").map((r) => r.status)).toEqual([503, 503, 200]);
    expect((await direct.getBuffer("k"))?.toString()).toBe("content");
  });

  it("retries a GET answered 503 SlowDown twice, and downloads the right bytes", async () => {
    const { faulty, direct } = buckets();
    const data = randomBytes(100_000);
    await direct.putBuffer("k", data);
    proxy.inject({ fault: FAULTS.slowDown, method: "GET", times: 2 });
    const dest = path.join(tmp, "out");
    expect(await faulty.download("k", dest)).toBe(data.length);
    expect(sha256(fs.readFileSync(dest))).toBe(sha256(data));
    expect(gets().map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it("retries a PUT whose connection was reset before any answer", async () => {
    const { faulty, direct } = buckets();
    proxy.inject({ fault: FAULTS.reset, method: "PUT" });
    expect(await faulty.putBuffer("k", Buffer.from("after a reset"), { overwrite: true })).toBe(true);
    expect(proxy.faultsServed()).toBe(1);
    expect((await direct.getBuffer("k"))?.toString()).toBe("after a reset");
  });

  it("resumes a download whose connection was reset part-way, from where it stopped", async () => {
    const { faulty, direct } = buckets();
    const data = randomBytes(3 * 1024 * 1024);
    await direct.putBuffer("k", data);
    proxy.inject({ fault: { kind: "reset-mid-body", afterBytes: 1024 * 1024 }, method: "GET" });
    const dest = path.join(tmp, "out");
    expect(await faulty.download("k", dest)).toBe(data.length);
    expect(sha256(fs.readFileSync(dest))).toBe(sha256(data));
    const ranges = gets().map((r) => r.headers.range ?? null);
    expect(ranges).toHaveLength(2);
    expect(ranges[0]).toBeNull();
    // The second request asks only for what was missing (what arrived before the reset: some of the first MiB).
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? "")?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(1024 * 1024);
  });

  it.each([
    ["answers a range request with something else than the rest (a 200)", { kind: "reply", status: 200, body: "not the object" } as const],
    ["says the object changed since (412 on If-Match)", { kind: "error", status: 412, code: "PreconditionFailed", message: "At least one of the pre-conditions you specified did not hold" } as const],
  ])("starts a cut-off download over when the service %s", async (_case, answer) => {
    const { faulty, direct } = buckets();
    const data = randomBytes(3 * 1024 * 1024);
    await direct.putBuffer("k", data);
    proxy.inject({ fault: { kind: "reset-mid-body", afterBytes: 1024 * 1024 }, method: "GET" });
    proxy.inject({ fault: answer, method: "GET", header: "range" });
    const dest = path.join(tmp, "out");
    expect(await faulty.download("k", dest)).toBe(data.length);
    expect(sha256(fs.readFileSync(dest))).toBe(sha256(data));
    expect(gets().map((r) => [r.fault, r.headers.range === undefined ? "whole" : "rest", r.headers["if-match"] === undefined ? "-" : "if-match"])).toEqual([
      ["reset-mid-body", "whole", "-"],
      [answer.kind, "rest", "if-match"],
      [null, "whole", "-"],
    ]);
  });

  it("retries a small read cut off part-way", async () => {
    const { faulty, direct } = buckets();
    const data = randomBytes(512 * 1024);
    await direct.putBuffer("k", data);
    proxy.inject({ fault: { kind: "reset-mid-body", afterBytes: 1000 }, method: "GET" });
    expect(sha256((await faulty.getBuffer("k")) ?? Buffer.alloc(0))).toBe(sha256(data));
    expect(gets()).toHaveLength(2);
  });
});

describe("lasting failures end in a clear error", () => {
  it("gives up on a GET answered 500 after maxAttempts, naming operation, object and answer, and leaves no file", async () => {
    const { faulty, direct, prefix } = buckets();
    await direct.putBuffer("objects/ab/abc", Buffer.from("x"));
    proxy.inject({ fault: FAULTS.internalError, method: "GET", times: Infinity });
    const dest = path.join(tmp, "out");
    const error = await faulty.download("objects/ab/abc", dest).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as Error).message).toBe(`S3 GET s3://${s3.bucket}/${prefix}/objects/ab/abc failed after 3 attempts: 500 InternalError`);
    expect(gets()).toHaveLength(3);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it("gives up on a PUT answered 503 SlowDown after maxAttempts", async () => {
    const { faulty, direct, prefix } = buckets();
    proxy.inject({ fault: FAULTS.slowDown, method: "PUT", times: Infinity });
    await expect(faulty.putBuffer("k", Buffer.from("x"), { overwrite: true })).rejects.toThrow(`S3 PUT s3://${s3.bucket}/${prefix}/k failed after 3 attempts: 503 SlowDown`);
    expect(await direct.head("k")).toBeNull();
  });

  it("does not retry a refusal: 403 fails at once, as an operation failure", async () => {
    const { faulty, direct } = buckets();
    await direct.putBuffer("k", Buffer.from("x"));
    proxy.inject({ fault: FAULTS.accessDenied, method: "GET", times: Infinity });
    const error = await faulty.getBuffer("k").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect(error).not.toBeInstanceOf(StorageUnavailableError);
    expect((error as Error).message).toMatch(/ failed: 403 AccessDenied$/);
    expect(gets()).toHaveLength(1);
  });

  it("times out a service that does not answer, instead of hanging, and leaves no file", async () => {
    const { faulty, direct, prefix } = buckets({ settings: { maxAttempts: 2, timeoutMs: 300 } });
    await direct.putBuffer("k", Buffer.from("x"));
    proxy.inject({ fault: FAULTS.stall, method: "GET", times: Infinity });
    const dest = path.join(tmp, "out");
    const error = await faulty.download("k", dest).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as Error).message).toBe(`S3 GET s3://${s3.bucket}/${prefix}/k failed after 2 attempts: no answer for 300 ms (timed out)`);
    expect(gets()).toHaveLength(2);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it("times out a PUT that gets no answer", async () => {
    const { faulty, prefix } = buckets({ settings: { maxAttempts: 2, timeoutMs: 300 } });
    proxy.inject({ fault: FAULTS.stall, method: "PUT", times: Infinity });
    await expect(faulty.putBuffer("k", Buffer.from("x"), { overwrite: true })).rejects.toThrow(`S3 PUT s3://${s3.bucket}/${prefix}/k failed after 2 attempts: no answer for 300 ms (timed out)`);
  });

  it("leaves no partial file when every attempt of a download is cut off part-way", async () => {
    const { faulty, direct, prefix } = buckets();
    await direct.putBuffer("k", randomBytes(2 * 1024 * 1024));
    proxy.inject({ fault: { kind: "reset-mid-body", afterBytes: 256 * 1024 }, method: "GET", times: Infinity });
    const dest = path.join(tmp, "out");
    const error = await faulty.download("k", dest).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as Error).message).toMatch(new RegExp(`^S3 GET s3://${s3.bucket}/${prefix}/k failed after 3 attempts: ECONNRESET`));
    expect(fs.existsSync(dest)).toBe(false);
    expect(fs.readdirSync(tmp)).toEqual([]);
  });

  it("says the credentials cannot write when checkWritable's PUT is refused", async () => {
    const { faulty, prefix } = buckets();
    proxy.inject({ fault: FAULTS.accessDenied, method: "PUT", times: Infinity });
    const error = await faulty.checkWritable().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect((error as Error).message).toBe(`credentials cannot write to s3://${s3.bucket}/${prefix}: AccessDenied (403)`);
  });

  it("says the service is unavailable when checkWritable cannot reach it", async () => {
    const { faulty, prefix } = buckets();
    proxy.inject({ fault: FAULTS.slowDown, times: Infinity });
    const error = await faulty.checkWritable().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageUnavailableError);
    expect((error as Error).message).toBe(`cannot write to s3://${s3.bucket}/${prefix}: SlowDown (503)`);
  });
});
