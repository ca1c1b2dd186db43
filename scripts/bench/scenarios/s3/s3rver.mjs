// s3rver, the S3 emulator the tests use (npm dev dependency), on 127.0.0.1 at a free port over a
// fresh directory, in a child process: the same child script as test/support/s3-server.ts (the
// bench runs plain Node, which cannot import that TypeScript launcher). Its CPU and disk are this
// machine's, so what a bucket costs here is our own overhead, not a network's latency.
import { spawn } from "node:child_process";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../../paths.mjs";
import { processMemory } from "../../processes.mjs";

const CHILD = path.join(REPO_ROOT, "test", "support", "s3rver-process.mjs");
const BUCKET = "safetynet-bench";
const STOP_TIMEOUT_MS = 5000;

/** What s3rver accepts (it checks signatures against S3RVER / S3RVER); the SDK's own chain reads them. */
export const S3RVER_CREDENTIALS = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true" };

/**
 * An S3 client without the SDK's warning about Node 20 in the bench's output (set only while it
 * is made, so that the servers the bench starts get the environment they would get anyway).
 */
function quietClient(config) {
  const setting = "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED";
  const was = process.env[setting];
  process.env[setting] = "true";
  try {
    return new S3Client(config);
  } finally {
    if (was === undefined) delete process.env[setting];
    else process.env[setting] = was;
  }
}

/** Starts s3rver with its files in `directory` (created; removed by stop()). */
export async function startS3rver(directory) {
  fs.mkdirSync(directory, { recursive: true });
  // Its list continuation tokens use DES, which OpenSSL 3 leaves out without the legacy provider.
  const child = spawn(process.execPath, ["--openssl-legacy-provider", CHILD, directory, BUCKET], { stdio: ["ignore", "ignore", "pipe", "ipc"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk.toString()));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const port = await new Promise((resolve, reject) => {
    child.once("message", (message) => (typeof message?.port === "number" ? resolve(message.port) : reject(new Error(`s3rver sent ${JSON.stringify(message)}`))));
    child.once("exit", (code) => reject(new Error(`s3rver exited (${code}) before listening: ${stderr}`)));
    child.once("error", reject);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    pid: child.pid,
    /** SAFETYNET_OBJECT_STORE for a prefix of the bench's bucket. */
    url: (prefix) => `s3://${BUCKET}/${prefix}?endpoint=${encodeURIComponent(endpoint)}&region=us-east-1&forcePathStyle=true`,
    memory: () => processMemory(child.pid),
    /**
     * How many keys and bytes the bucket holds under `<prefix>/<under>`, listed with the AWS SDK
     * as any S3 client would: what a sweep really deleted, independently of what it reports.
     */
    async countKeys(prefix, under) {
      const client = quietClient({ endpoint, region: S3RVER_CREDENTIALS.AWS_REGION, forcePathStyle: true, credentials: { accessKeyId: S3RVER_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: S3RVER_CREDENTIALS.AWS_SECRET_ACCESS_KEY } });
      const counted = { keys: 0, bytes: 0 };
      try {
        let token;
        do {
          const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/${under}`, ContinuationToken: token }));
          for (const object of page.Contents ?? []) {
            counted.keys++;
            counted.bytes += object.Size ?? 0;
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      } finally {
        client.destroy();
      }
      return counted;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        // The child stops when its IPC channel closes.
        child.disconnect();
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
