/**
 * The one configured S3Client: the SDK's standard retries (exponential backoff
 * with jitter, for 5xx, throttling, resets and time-outs), an inactivity limit on
 * every connection, checksums only where S3 requires them, and Content-MD5 on
 * DeleteObjects. Credentials come from the SDK's own chain (environment,
 * profiles, ...): nothing of ours.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { nonNegativeNumberFromEnv } from "../../env-number";
import type { BucketUrl } from "./bucket-url";

export interface S3Settings {
  /** Attempts per request, the first included (SAFETYNET_S3_MAX_ATTEMPTS, default 5). */
  maxAttempts: number;
  /**
   * How long a connection may stay silent, connecting or mid-transfer, before the
   * attempt fails as timed out (SAFETYNET_S3_TIMEOUT_MS, default 30 s). An idle
   * limit rather than a limit on the whole request: a 16 MiB part on a slow link
   * may take longer than that and still be healthy.
   */
  timeoutMs: number;
}

export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_TIMEOUT_MS = 30_000;

export function s3SettingsFromEnv(): S3Settings {
  return {
    maxAttempts: Math.max(1, Math.floor(nonNegativeNumberFromEnv("SAFETYNET_S3_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))),
    // 0 would mean "wait forever" to the SDK: a hung service must fail instead.
    timeoutMs: nonNegativeNumberFromEnv("SAFETYNET_S3_TIMEOUT_MS", DEFAULT_TIMEOUT_MS) || DEFAULT_TIMEOUT_MS,
  };
}

/**
 * The SDK now sends a CRC32 header on DeleteObjects even with checksums "when
 * required"; several S3-compatible services (older MinIO, Ceph RGW and others)
 * insist on Content-MD5 there and refuse the batch. S3 itself accepts either, so
 * this request carries Content-MD5 only.
 */
function useContentMd5(request: { headers: Record<string, string>; body?: unknown }): void {
  for (const header of Object.keys(request.headers)) {
    const lower = header.toLowerCase();
    if (lower.startsWith("x-amz-checksum-") || lower.startsWith("x-amz-sdk-checksum-") || lower === "content-md5") delete request.headers[header];
  }
  const body = request.body;
  if (typeof body === "string" || body instanceof Uint8Array) request.headers["content-md5"] = createHash("md5").update(body).digest("base64");
}

export function createS3Client(url: BucketUrl, settings: S3Settings): S3Client {
  // The SDK prints a notice that its releases after January 2027 will need Node 22 on
  // every process start (on stderr, also under --json). The versions are pinned here;
  // moving to Node 22 is a decision for the project, not a message for each operator.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const client = new S3Client({
    ...(url.region !== undefined ? { region: url.region } : {}),
    ...(url.endpoint !== undefined ? { endpoint: url.endpoint } : {}),
    forcePathStyle: url.forcePathStyle,
    // Flexible checksums (CRC32 trailers, aws-chunked bodies) are not understood by
    // every S3-compatible service; content integrity is the store's sha256 anyway.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: settings.maxAttempts,
    retryMode: "standard",
    requestHandler: new NodeHttpHandler({
      connectionTimeout: settings.timeoutMs,
      socketTimeout: settings.timeoutMs,
      httpAgent: new http.Agent({ keepAlive: true, maxSockets: 32 }),
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 32 }),
    }),
  });
  // Low priority in the build step: after the SDK's checksum middleware has added its headers.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "DeleteObjectsCommand") useContentMd5(args.request as { headers: Record<string, string>; body?: unknown });
      return next(args);
    },
    { step: "build", priority: "low", name: "safetynetDeleteObjectsContentMd5" },
  );
  return client;
}
