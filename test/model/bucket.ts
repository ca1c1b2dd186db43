/**
 * The model's S3 mode: a sequence's data directory keeps its objects in a prefix
 * of its own in a bucket on the s3rver the run started, reached through a fault
 * proxy of its own (so that an outage can be switched on and off). The model
 * reads the bucket with the AWS SDK directly, never through the product's
 * client and never through the proxy: what it sees is what the bucket holds.
 *
 * Keys under the prefix mirror the data directory's store: `objects/ab/<sha>`
 * or `objects/ab/<sha>.z` (the same bytes as the local file), and
 * `snapshots/<id>.json`.
 */
import zlib from "node:zlib";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { startS3FaultProxy, type FaultRule, type S3FaultProxy } from "../support/s3-fault-proxy";
import type { S3TestServer } from "../support/s3-server";

const COMPRESSED_HEADER_BYTES = 16;

/** What the bucket holds under a sequence's prefix: keys (relative to it) and their sizes. */
export type BucketListing = Map<string, number>;

export class SequenceBucket {
  /** Content of the objects read from the bucket so far, by key (objects never change once written). */
  private readonly fetched = new Map<string, Buffer>();

  private constructor(
    readonly server: S3TestServer,
    readonly prefix: string,
    readonly proxy: S3FaultProxy,
    private readonly client: S3Client,
  ) {}

  static async open(server: S3TestServer, prefix: string): Promise<SequenceBucket> {
    const proxy = await startS3FaultProxy(server.endpoint);
    // (As the product does for its own client: the SDK's notice about future Node versions is not the test's output.)
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    const client = new S3Client({ endpoint: server.endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
    return new SequenceBucket(server, prefix, proxy, client);
  }

  /** The SAFETYNET_OBJECT_STORE value of this sequence's data directory (through the proxy). */
  get url(): string {
    return this.server.url(this.prefix, this.proxy.endpoint);
  }

  /** Every request from now on fails (the way `rule` says) until `clear`. */
  outage(rule: FaultRule): void {
    this.proxy.inject({ ...rule, times: Infinity });
  }

  clear(): void {
    this.proxy.clear();
  }

  async close(): Promise<void> {
    this.proxy.clear();
    await this.proxy.close();
    this.client.destroy();
  }

  /** Every key under the prefix (relative to it), with its size. */
  async list(): Promise<BucketListing> {
    const out: BucketListing = new Map();
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.server.bucket, Prefix: `${this.prefix}/`, ContinuationToken: token }));
      for (const object of page.Contents ?? []) out.set((object.Key as string).slice(this.prefix.length + 1), object.Size ?? 0);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** The bytes stored under `key` (fetched once: objects and their keys never change). */
  async read(key: string, options: { fresh?: boolean } = {}): Promise<Buffer> {
    const known = options.fresh ? undefined : this.fetched.get(key);
    if (known) return known;
    const answer = await this.client.send(new GetObjectCommand({ Bucket: this.server.bucket, Key: `${this.prefix}/${key}` }));
    const bytes = Buffer.from(await (answer.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    if (key.startsWith("objects/")) this.fetched.set(key, bytes);
    return bytes;
  }

  /**
   * Fetches the objects `listing` names that were not read yet, so that
   * `objectContent` can answer synchronously for any of them.
   */
  async fetchObjects(listing: BucketListing): Promise<void> {
    const keys = [...listing.keys()].filter((key) => key.startsWith("objects/") && !this.fetched.has(key));
    for (let i = 0; i < keys.length; i += 16) await Promise.all(keys.slice(i, i + 16).map((key) => this.read(key)));
  }

  /**
   * The content of object `sha256` as the bucket holds it (a compressed form
   * inflated here), from what `fetchObjects` brought; null when it is not among
   * them.
   */
  objectContent(sha256: string, listing: BucketListing): Buffer | null {
    for (const compressed of [false, true]) {
      const key = `objects/${sha256.slice(0, 2)}/${sha256}${compressed ? ".z" : ""}`;
      const bytes = listing.has(key) ? this.fetched.get(key) : undefined;
      if (!bytes) continue;
      if (!compressed) return bytes;
      if (bytes.subarray(0, 4).toString("latin1") !== "SNZ1" || bytes[4] !== 1) throw new Error(`${key} in the bucket: not a compressed object`);
      const content = zlib.brotliDecompressSync(bytes.subarray(COMPRESSED_HEADER_BYTES));
      if (content.length !== Number(bytes.readBigUInt64BE(8))) throw new Error(`${key} in the bucket: inflates to ${content.length} bytes, its header says ${bytes.readBigUInt64BE(8)}`);
      return content;
    }
    return null;
  }
}
