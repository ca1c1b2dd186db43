/**
 * A large object goes up in parts and comes down as a stream, with memory that
 * does not grow with its size. 256 MiB by default; SAFETYNET_TEST_S3_LARGE_MB=1024
 * runs the same specification on 1 GiB (and prints the figures either way).
 * s3rver runs in its own process, so this process's RSS is the client's (and
 * the in-process fault proxy's, which only counts requests here and streams).
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { startS3FaultProxy, type S3FaultProxy } from "../../../test/support/s3-fault-proxy";
import { startS3Server, type S3TestServer } from "../../../test/support/s3-server";
import { parseBucketUrl } from "./bucket-url";
import { DEFAULT_PART_SIZE, S3Bucket } from "./s3-bucket";

const MiB = 1024 * 1024;
const SIZE = Math.max(256, Number(process.env.SAFETYNET_TEST_S3_LARGE_MB) || 256) * MiB;
/** About (queueSize + 1) parts in flight plus the SDK and the garbage not yet collected: about 100 MiB measured, at 256 MiB and at 1 GiB alike. */
const MAX_GROWTH = 160 * MiB;

let s3: S3TestServer;
let proxy: S3FaultProxy;
let tmp: string;

beforeAll(async () => {
  s3 = await startS3Server();
  proxy = await startS3FaultProxy(s3.endpoint);
  for (const [name, value] of Object.entries(s3.env)) vi.stubEnv(name, value);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-bucket-large-"));
});
afterAll(async () => {
  await proxy?.close();
  await s3?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  vi.unstubAllEnvs();
});

/** Writes `size` bytes: one random MiB repeated, each copy stamped with its index (a part sent twice or out of order changes the hash). */
function writeLargeFile(file: string, size: number): string {
  const block = randomBytes(MiB);
  const hash = createHash("sha256");
  const fd = fs.openSync(file, "w");
  try {
    for (let offset = 0, index = 0; offset < size; offset += MiB, index++) {
      block.writeUInt32BE(index, 0);
      const piece = block.subarray(0, Math.min(MiB, size - offset));
      fs.writeSync(fd, piece);
      hash.update(piece);
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest("hex");
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of fs.createReadStream(file, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

it("uploads a large file in parts and downloads it as a stream, with memory far below its size", { timeout: 600_000 }, async () => {
  const source = path.join(tmp, "large.bin");
  const expected = writeLargeFile(source, SIZE);
  const bucket = new S3Bucket(parseBucketUrl(s3.url("large", proxy.endpoint)));
  try {
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
    let uploadPeak: number;
    try {
      expect(await bucket.putFile("objects/large", source)).toBe(true);
      uploadPeak = peak;
      const dest = path.join(tmp, "downloaded.bin");
      expect(await bucket.download("objects/large", dest)).toBe(SIZE);
      expect(await sha256OfFile(dest)).toBe(expected);
    } finally {
      clearInterval(sampler);
    }
    const parts = proxy.requests.filter((r) => r.method === "PUT" && r.url.includes("partNumber=")).length;
    expect(parts).toBe(Math.ceil(SIZE / DEFAULT_PART_SIZE));
    const growth = peak - baseline;
    console.log(
      `S3 ${SIZE / MiB} MiB object: ${parts} parts; RSS before ${(baseline / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB ` +
        `(upload ${(uploadPeak / MiB).toFixed(0)} MiB; growth ${(growth / MiB).toFixed(0)} MiB; maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB)`,
    );
    // A client that held the object in memory, on the way up or down, would grow by its size.
    expect(growth).toBeLessThan(MAX_GROWTH);
  } finally {
    bucket.close();
  }
});
