// s3rver in a process of its own, for test/support/s3-server.ts: the test's process
// then holds only the client (so its memory can be measured), and s3rver gets the
// legacy OpenSSL provider it needs (its list continuation tokens use DES, which
// OpenSSL 3 leaves out) without the test process having it.
//
// Usage: node --openssl-legacy-provider s3rver-process.mjs <directory> <bucket>, with an IPC
// channel: sends {port} once listening; stops when the channel closes (the test ended or died).
import S3rver from "s3rver";

const [directory, bucket] = process.argv.slice(2);
const server = new S3rver({ port: 0, address: "127.0.0.1", directory, silent: true, configureBuckets: [{ name: bucket, configs: [] }] });
const { port } = await server.run();
process.send({ port });
process.on("disconnect", () => {
  server.close().finally(() => process.exit(0));
});
