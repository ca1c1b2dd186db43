/**
 * An S3-compatible server for tests: s3rver on 127.0.0.1 at a free port, over a
 * fresh temporary directory, with one bucket, in a child process (see
 * s3rver-process.mjs). Nothing leaves the machine.
 *
 * s3rver checks signatures against the fixed credentials S3RVER / S3RVER; `env`
 * holds them (and turns the SDK's instance-metadata lookup off) for tests to put
 * in process.env, where the SDK's own credential chain finds them.
 */
import { spawn } from "node:child_process";
import { afterAll, beforeAll } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface S3TestServer {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  bucket: string;
  /** The SAFETYNET_OBJECT_STORE value for `prefix` in this bucket, through `endpoint` (default: this server; pass a fault proxy's to go through it). */
  url(prefix?: string, endpoint?: string): string;
  /** AWS_ACCESS_KEY_ID etc. that s3rver accepts. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

const CHILD = path.join(import.meta.dirname, "s3rver-process.mjs");

/** What s3rver accepts, and no instance-metadata lookup (nothing to find on 127.0.0.1). */
export const S3RVER_CREDENTIALS: Readonly<Record<string, string>> = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true" };

/** The SAFETYNET_OBJECT_STORE value for `prefix` in `bucket` on the s3rver at `endpoint`. */
export function bucketSetting(bucket: string, prefix: string, endpoint: string): string {
  return `s3://${bucket}${prefix === "" ? "" : `/${prefix}`}?endpoint=${encodeURIComponent(endpoint)}&region=us-east-1&forcePathStyle=true`;
}

export async function startS3Server(options: { bucket?: string } = {}): Promise<S3TestServer> {
  const bucket = options.bucket ?? "safetynet-test";
  const directory = mkdtempSync(path.join(os.tmpdir(), "safetynet-s3rver-"));
  const child = spawn(process.execPath, ["--openssl-legacy-provider", CHILD, directory, bucket], { stdio: ["ignore", "ignore", "pipe", "ipc"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      child.once("message", (message: { port?: unknown }) => (typeof message.port === "number" ? resolve(message.port) : reject(new Error(`s3rver sent ${JSON.stringify(message)}`))));
      child.once("exit", (code) => reject(new Error(`s3rver exited (${code}) before listening: ${stderr}`)));
      child.once("error", reject);
    });
  } catch (error) {
    child.kill("SIGKILL");
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    url: (prefix = "", through = endpoint) => bucketSetting(bucket, prefix, through),
    env: { ...S3RVER_CREDENTIALS },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.disconnect();
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * Starts s3rver before a spec file's tests and stops it after them; its
 * credentials go into process.env, where the AWS SDK's chain finds them for
 * the specs' own reads of the bucket. `onStart` receives it.
 */
export function useS3Server(onStart: (server: S3TestServer) => void): void {
  let server: S3TestServer | undefined;
  beforeAll(async () => {
    server = await startS3Server();
    Object.assign(process.env, server.env);
    onStart(server);
  });
  afterAll(async () => {
    await server?.stop();
  });
}
