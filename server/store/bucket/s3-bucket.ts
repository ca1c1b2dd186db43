/**
 * Bucket on an S3-compatible service (AWS S3, MinIO, Ceph RGW, R2, ...) through
 * the AWS SDK. Write-once by a conditional put where the service honours one,
 * else by HEAD then PUT (detected once per client: content addressing makes a
 * lost race between two writers of the same key harmless); files of 16 MiB or
 * more by HEAD then parts. Large objects go up in parts and come down as a
 * stream, so memory stays bounded whatever their size.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { describeFsError, InvalidInputError, OperationFailedError, SafetyNetError, StorageUnavailableError } from "../../errors";
import { openNewFile, removeQuietly } from "../atomic-write";
import type { Bucket, BucketObjectInfo } from "./bucket";
import { bucketLocation, parseBucketUrl, type BucketUrl } from "./bucket-url";
import { createS3Client, s3SettingsFromEnv, type S3Settings } from "./s3-client";
import { describeS3Answer, describeS3Error, isTransientS3Error, s3ErrorCode, s3Status, TruncatedBodyError } from "./s3-errors";

const MiB = 1024 * 1024;

export interface S3BucketOptions {
  /** Attempts and the inactivity limit; default from SAFETYNET_S3_MAX_ATTEMPTS and SAFETYNET_S3_TIMEOUT_MS. */
  settings?: Partial<S3Settings>;
  /** Files of this size or more go up in parts (default 16 MiB); smaller ones in one PUT from memory. */
  multipartThreshold?: number;
  /** Size of each part (default 8 MiB, at least S3's 5 MiB; grown for files that would need more than 10,000 parts). */
  partSize?: number;
  /** Parts in flight at once (default 2): memory is about (queueSize + 1) × partSize. */
  queueSize?: number;
  /** Keys per ListObjectsV2 page (1–1000, default 1000). */
  listPageSize?: number;
}

export const DEFAULT_MULTIPART_THRESHOLD = 16 * MiB;
/**
 * 8 MiB, as the AWS CLI's default chunk size: the upload holds a few parts in memory at
 * once (about 75 MB of buffers at 8 MiB, 117 MB at 16 MiB, measured with a 1 GiB file),
 * which decides whether a server checkpointing a large file stays under 300 MB RSS.
 */
export const DEFAULT_PART_SIZE = 8 * MiB;
/** getBuffer's default cap: manifests, trees and records, never file contents. */
export const DEFAULT_MAX_BUFFER_BYTES = 64 * MiB;
const MIN_PART_SIZE = 5 * MiB;
const MAX_PARTS = 10_000;
const MAX_KEY_BYTES = 1024;
const DELETE_BATCH = 1000;

/** Where the bytes of a GET go: a file (download) or memory (getBuffer). A retried body resumes at `received`. */
interface BodySink {
  received: number;
  write(chunk: Buffer): Promise<void>;
  /** Forgets what was received: the next answer starts from byte 0. */
  reset(): Promise<void>;
}

function contentRangeStart(header: string | undefined): { start: number; total: number } | null {
  const match = /^bytes (\d+)-\d+\/(\d+)$/.exec(header ?? "");
  return match ? { start: Number(match[1]), total: Number(match[2]) } : null;
}

function isMissing(error: unknown): boolean {
  const code = s3ErrorCode(error);
  return s3Status(error) === 404 && (code === "NoSuchKey" || code === "NotFound");
}

/** `Code (status)`, the form checkWritable's messages use: "AccessDenied (403)". */
function codeAndStatus(error: unknown, timeoutMs: number): string {
  const status = s3Status(error);
  return status === undefined ? describeS3Answer(error, timeoutMs) : `${s3ErrorCode(error)} (${status})`;
}

/** Full jitter over an exponential ceiling (100 ms, 200 ms, ... at most 20 s), as the SDK does between its own attempts. */
function backoff(attempt: number): Promise<void> {
  return sleep(Math.random() * Math.min(20_000, 100 * 2 ** attempt));
}

export class S3Bucket implements Bucket {
  readonly location: string;
  private readonly client: S3Client;
  private readonly settings: S3Settings;
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly listPageSize: number;
  /** Whether the service refuses a put with If-None-Match: * on an existing key; found out once, on first need. */
  private conditionalWrites: Promise<boolean> | null = null;

  constructor(
    private readonly url: BucketUrl,
    options: S3BucketOptions = {},
  ) {
    this.location = bucketLocation(url);
    this.settings = { ...s3SettingsFromEnv(), ...options.settings };
    this.multipartThreshold = options.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD;
    this.partSize = Math.max(MIN_PART_SIZE, options.partSize ?? DEFAULT_PART_SIZE);
    this.queueSize = Math.max(1, options.queueSize ?? 2);
    this.listPageSize = Math.min(1000, Math.max(1, options.listPageSize ?? 1000));
    this.client = createS3Client(url, this.settings);
  }

  /** Opens the bucket a SAFETYNET_OBJECT_STORE value names (InvalidInputError when it is not one). */
  static fromSetting(value: string, options?: S3BucketOptions): S3Bucket {
    return new S3Bucket(parseBucketUrl(value), options);
  }

  private objectKey(key: string): string {
    if (key === "" || key.startsWith("/") || key.includes("//")) throw new InvalidInputError(`not an object key: "${key}"`, { key });
    const full = this.url.prefix === "" ? key : `${this.url.prefix}/${key}`;
    if (Buffer.byteLength(full) > MAX_KEY_BYTES) throw new InvalidInputError(`object key longer than S3's ${MAX_KEY_BYTES} bytes: ${full}`, { key: full });
    return full;
  }

  private target(key: string): string {
    return `${this.location}/${key}`;
  }

  private failure(error: unknown, operation: string, key: string | null, attempts?: number): SafetyNetError {
    return describeS3Error(error, { operation, target: key === null ? this.location : this.target(key), timeoutMs: this.settings.timeoutMs, ...(attempts !== undefined ? { attempts } : {}) });
  }

  async putBuffer(key: string, body: Buffer, options: { overwrite?: boolean } = {}): Promise<boolean> {
    const objectKey = this.objectKey(key);
    if (options.overwrite) {
      await this.put(key, objectKey, body, false);
      return true;
    }
    if (await this.supportsConditionalWrites()) return this.put(key, objectKey, body, true);
    if (await this.head(key)) return false;
    await this.put(key, objectKey, body, false);
    return true;
  }

  /** One PUT; with `ifNoneMatch`, false when the key exists (412). */
  private async put(key: string, objectKey: string, body: Buffer, ifNoneMatch: boolean): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: this.url.bucket, Key: objectKey, Body: body, ContentLength: body.length, ...(ifNoneMatch ? { IfNoneMatch: "*" } : {}) }));
        return true;
      } catch (error) {
        if (ifNoneMatch && s3Status(error) === 412) return false;
        // S3 answers 409 to a conditional put racing another write of the same key, and asks for a retry.
        if (ifNoneMatch && s3Status(error) === 409 && attempt < this.settings.maxAttempts) {
          await backoff(attempt);
          continue;
        }
        throw this.failure(error, "PUT", key);
      }
    }
  }

  async putFile(key: string, file: string): Promise<boolean> {
    const objectKey = this.objectKey(key);
    let size: number;
    try {
      size = (await fsp.stat(file)).size;
    } catch (error) {
      throw describeFsError(error, file);
    }
    // Below the threshold the body is held in memory: a Buffer can be sent again by the SDK's retries, a stream cannot.
    if (size < this.multipartThreshold) {
      let body: Buffer;
      try {
        body = await fsp.readFile(file);
      } catch (error) {
        throw describeFsError(error, file);
      }
      return this.putBuffer(key, body);
    }
    // HEAD, then parts without a condition: no part is sent for a key that is there, and services
    // differ more on If-None-Match at multipart completion than on a plain PUT. A writer racing
    // in between stores the same content (keys name content), so losing that race costs nothing.
    if (await this.head(key)) return false;
    const stream = fs.createReadStream(file, { highWaterMark: MiB });
    let readError: unknown = null;
    stream.on("error", (error) => (readError = error));
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.url.bucket, Key: objectKey, Body: stream },
      partSize: Math.max(this.partSize, Math.ceil(size / MAX_PARTS / MiB) * MiB),
      queueSize: this.queueSize,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
      return true;
    } catch (error) {
      if (readError !== null) throw describeFsError(readError, file);
      throw this.failure(error, "PUT (multipart)", key);
    } finally {
      stream.destroy();
    }
  }

  async download(key: string, dest: string): Promise<number | null> {
    const objectKey = this.objectKey(key);
    let handle: fsp.FileHandle;
    try {
      handle = await openNewFile(dest, 0o600);
    } catch (error) {
      // Never touch what was there: the caller named a file that must not exist yet.
      if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new OperationFailedError(`cannot download ${this.target(key)} to ${dest}: the file already exists`, { path: dest, key });
      throw describeFsError(error, dest);
    }
    let kept = false;
    try {
      const sink: BodySink = {
        received: 0,
        async write(chunk) {
          let written = 0;
          while (written < chunk.length) written += (await handle.write(chunk, written, chunk.length - written, sink.received + written)).bytesWritten;
          sink.received += chunk.length;
        },
        async reset() {
          await handle.truncate(0);
          sink.received = 0;
        },
      };
      const size = await this.fetch(key, objectKey, sink, null, dest);
      if (size === null) return null;
      await handle.datasync();
      kept = true;
      return size;
    } catch (error) {
      throw error instanceof SafetyNetError ? error : describeFsError(error, dest);
    } finally {
      await handle.close().catch(() => undefined);
      if (!kept) await removeQuietly(dest);
    }
  }

  async getBuffer(key: string, maxBytes = DEFAULT_MAX_BUFFER_BYTES): Promise<Buffer | null> {
    const objectKey = this.objectKey(key);
    let chunks: Buffer[] = [];
    const sink: BodySink = {
      received: 0,
      async write(chunk) {
        chunks.push(chunk);
        sink.received += chunk.length;
      },
      async reset() {
        chunks = [];
        sink.received = 0;
      },
    };
    const size = await this.fetch(key, objectKey, sink, maxBytes, null);
    return size === null ? null : Buffer.concat(chunks, size);
  }

  private tooLarge(key: string, size: number, maxBytes: number): OperationFailedError {
    return new OperationFailedError(`${this.target(key)} is ${size} bytes, more than the ${maxBytes} that may be read into memory`, { key, size, maxBytes });
  }

  /**
   * GETs `key` into `sink`, checking the length against Content-Length. The SDK
   * retries a request until its answer begins; a body cut off after that (a
   * reset, a stall past the timeout, a short answer) is asked for again here,
   * from the byte where it stopped when the service honours ranges and the object
   * is still the same (If-Match on its ETag), else from the start. Null when the
   * key does not exist.
   */
  private async fetch(key: string, objectKey: string, sink: BodySink, maxBytes: number | null, dest: string | null): Promise<number | null> {
    let expected: number | undefined;
    let etag: string | undefined;
    for (let attempt = 1; ; attempt++) {
      const resume = sink.received > 0 && expected !== undefined && etag !== undefined;
      if (!resume && sink.received > 0) await sink.reset();
      let body: Readable | undefined;
      try {
        const response = await this.client.send(new GetObjectCommand({ Bucket: this.url.bucket, Key: objectKey, ...(resume ? { Range: `bytes=${sink.received}-`, IfMatch: etag } : {}) }));
        body = response.Body as Readable | undefined;
        if (resume) {
          const range = contentRangeStart(response.ContentRange);
          if (response.$metadata.httpStatusCode !== 206 || range?.start !== sink.received || range.total !== expected) {
            // Not the rest of the same object: start over.
            body?.destroy();
            etag = undefined;
            await sink.reset();
            continue;
          }
        } else {
          expected = response.ContentLength;
          etag = response.ETag;
          if (maxBytes !== null && expected !== undefined && expected > maxBytes) {
            body?.destroy();
            throw this.tooLarge(key, expected, maxBytes);
          }
        }
      } catch (error) {
        if (error instanceof SafetyNetError) throw error;
        if (isMissing(error)) return null;
        if (resume && s3Status(error) === 412) {
          // Replaced since the first answer: what was received belongs to another version.
          etag = undefined;
          await sink.reset();
          continue;
        }
        throw this.failure(error, "GET", key);
      }
      try {
        if (body) {
          await pipeline(body, async (source: AsyncIterable<Buffer>) => {
            for await (const chunk of source) {
              if (maxBytes !== null && sink.received + chunk.length > maxBytes) throw this.tooLarge(key, sink.received + chunk.length, maxBytes);
              try {
                await sink.write(chunk);
              } catch (error) {
                throw describeFsError(error, dest ?? "memory");
              }
            }
          });
        }
        if (expected !== undefined && sink.received !== expected) throw new TruncatedBodyError(sink.received, expected);
        return sink.received;
      } catch (error) {
        if (error instanceof SafetyNetError) throw error;
        if (!isTransientS3Error(error) || attempt >= this.settings.maxAttempts) throw this.failure(error, "GET", key, attempt);
        await backoff(attempt);
      }
    }
  }

  async head(key: string): Promise<{ size: number; lastModified: Date } | null> {
    const objectKey = this.objectKey(key);
    try {
      const response = await this.client.send(new HeadObjectCommand({ Bucket: this.url.bucket, Key: objectKey }));
      return { size: response.ContentLength ?? 0, lastModified: response.LastModified ?? new Date(0) };
    } catch (error) {
      if (isMissing(error)) return null;
      throw this.failure(error, "HEAD", key);
    }
  }

  /** Keys starting with `prefix` as a string (`objects/a` also lists `objects/ab/…`): S3's own prefix semantics. */
  async *list(prefix: string): AsyncIterable<BucketObjectInfo> {
    const base = this.url.prefix === "" ? "" : `${this.url.prefix}/`;
    let continuationToken: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.url.bucket, Prefix: base + prefix, MaxKeys: this.listPageSize, ...(continuationToken !== undefined ? { ContinuationToken: continuationToken } : {}) }),
        );
      } catch (error) {
        throw this.failure(error, "LIST", prefix === "" ? null : prefix);
      }
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined || !object.Key.startsWith(base)) continue;
        yield { key: object.Key.slice(base.length), size: object.Size ?? 0, lastModified: object.LastModified ?? new Date(0) };
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    const failed: { key: string; code: string }[] = [];
    const base = this.url.prefix === "" ? "" : `${this.url.prefix}/`;
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH);
      let response;
      try {
        response = await this.client.send(
          new DeleteObjectsCommand({ Bucket: this.url.bucket, Delete: { Objects: batch.map((key) => ({ Key: this.objectKey(key) })), Quiet: true } }),
        );
      } catch (error) {
        throw this.failure(error, "DELETE", batch.length === 1 ? (batch[0] as string) : null);
      }
      for (const problem of response.Errors ?? []) {
        // Deleting what is not there is success (S3 itself never reports it; some compatible services do).
        if (problem.Code === "NoSuchKey") continue;
        const key = problem.Key?.startsWith(base) ? problem.Key.slice(base.length) : (problem.Key ?? "?");
        failed.push({ key, code: problem.Code ?? "Error" });
      }
    }
    if (failed.length > 0) {
      const named = failed.slice(0, 10).map((f) => `${f.key} (${f.code})`).join(", ");
      const more = failed.length > 10 ? ` and ${failed.length - 10} more` : "";
      throw new OperationFailedError(`S3 DELETE in ${this.location} failed for ${failed.length} of ${keys.length} keys: ${named}${more}`, { keys: failed.map((f) => f.key), failures: failed });
    }
  }

  /** Found out once per client; a failure to find out is not remembered (the next call asks again). */
  private supportsConditionalWrites(): Promise<boolean> {
    if (this.conditionalWrites === null) {
      const detection = this.detectConditionalWrites();
      this.conditionalWrites = detection;
      detection.catch(() => {
        if (this.conditionalWrites === detection) this.conditionalWrites = null;
      });
    }
    return this.conditionalWrites;
  }

  /**
   * Puts a probe object, then puts it again with If-None-Match: *. A service that
   * honours the condition answers 412; one that ignores it overwrites (200: s3rver
   * does, and so do older releases of several S3-compatible services); one that
   * does not know it refuses the header (400, 501). The probe is removed after.
   */
  private async detectConditionalWrites(existingProbe?: { key: string; body: Buffer }): Promise<boolean> {
    const probe = existingProbe ?? { key: `probes/${randomUUID()}`, body: Buffer.from("safetynet conditional-write probe\n") };
    const objectKey = this.objectKey(probe.key);
    const send = (ifNoneMatch: boolean) =>
      this.client.send(new PutObjectCommand({ Bucket: this.url.bucket, Key: objectKey, Body: probe.body, ContentLength: probe.body.length, ...(ifNoneMatch ? { IfNoneMatch: "*" } : {}) }));
    try {
      if (!existingProbe) await send(false);
    } catch (error) {
      throw this.failure(error, "PUT (write-once probe)", probe.key);
    }
    try {
      await send(true);
      return false;
    } catch (error) {
      const status = s3Status(error);
      if (status === 412) return true;
      if (status === 400 || status === 501) return false;
      throw this.failure(error, "PUT (write-once probe)", probe.key);
    } finally {
      if (!existingProbe) await this.client.send(new DeleteObjectCommand({ Bucket: this.url.bucket, Key: objectKey })).catch(() => undefined);
    }
  }

  async checkWritable(): Promise<void> {
    const key = `probes/${randomUUID()}`;
    const objectKey = this.objectKey(key);
    const body = Buffer.from(`safetynet write probe ${new Date().toISOString()}\n`);
    const refused = (what: string, error: unknown): SafetyNetError => {
      const status = s3Status(error);
      const who = status === 401 || status === 403 ? "credentials cannot" : "cannot";
      const message = `${who} ${what} ${this.location}: ${codeAndStatus(error, this.settings.timeoutMs)}`;
      const details = { location: this.location, key, status: status ?? null, code: s3ErrorCode(error) };
      return isTransientS3Error(error) ? new StorageUnavailableError(message, details, { cause: error }) : new OperationFailedError(message, details, { cause: error });
    };
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.url.bucket, Key: objectKey, Body: body, ContentLength: body.length }));
    } catch (error) {
      throw refused("write to", error);
    }
    let failure: unknown = null;
    try {
      if (this.conditionalWrites === null) this.conditionalWrites = Promise.resolve(await this.detectConditionalWrites({ key, body }));
      let read: Buffer | null;
      try {
        read = await this.getBuffer(key, body.length);
      } catch (error) {
        throw refused("read from", error instanceof SafetyNetError && error.cause !== undefined ? error.cause : error);
      }
      if (read === null || !read.equals(body)) {
        throw new OperationFailedError(`${this.location} does not keep what is written: the probe ${key} read back ${read === null ? "as missing" : "with other bytes"}`, { location: this.location, key });
      }
    } catch (error) {
      failure = error;
    }
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.url.bucket, Key: objectKey }));
    } catch (error) {
      failure ??= refused("delete in", error);
    }
    if (failure !== null) throw failure;
  }

  close(): void {
    this.client.destroy();
  }
}
