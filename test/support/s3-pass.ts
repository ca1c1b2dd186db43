/**
 * Global setup of the S3 pass (SAFETYNET_TEST_OBJECT_STORE=s3): one s3rver for
 * the whole run (test/support/s3-server.ts), stopped at its end; each data
 * directory a test makes keeps its objects under its own prefix in the bucket
 * (test/support/object-store-location.ts). The endpoint, the bucket and the
 * credentials go to the test workers (and the processes they start) through the
 * environment.
 */
import { startS3Server } from "./s3-server";
import { S3_PASS_BUCKET_ENV, S3_PASS_ENDPOINT_ENV } from "./object-store-location";

export default async function setup(): Promise<() => Promise<void>> {
  const s3 = await startS3Server({ bucket: "safetynet-pass" });
  const previous = Object.fromEntries(Object.keys(s3.env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, s3.env, { [S3_PASS_ENDPOINT_ENV]: s3.endpoint, [S3_PASS_BUCKET_ENV]: s3.bucket });
  process.stderr.write(`[s3 pass] the objects of every data directory live under a prefix of bucket ${s3.bucket} at ${s3.endpoint} (s3rver)\n`);
  return async () => {
    delete process.env[S3_PASS_ENDPOINT_ENV];
    delete process.env[S3_PASS_BUCKET_ENV];
    for (const [key, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await s3.stop();
  };
}
