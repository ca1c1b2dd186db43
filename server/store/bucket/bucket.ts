/**
 * A bucket as the object store sees it: a flat namespace of keys under one
 * prefix, written once, read whole or streamed to a file. Framework-free and
 * service-free: S3Bucket (s3-bucket.ts) implements it on the AWS SDK; content
 * integrity (sha256 of content) is the caller's, as it is for the local store.
 *
 * Keys are relative to the bucket URL's prefix (`objects/ab/abcd…`); the
 * implementation puts `<prefix>/` in front of them.
 */
export interface BucketObjectInfo {
  /** Relative to the bucket's prefix, like the keys passed in. */
  key: string;
  size: number;
  lastModified: Date;
}

export interface Bucket {
  /** s3://bucket/prefix — for messages; never credentials. */
  readonly location: string;
  /** Stores a local file's bytes at `key`, write-once: resolves false (and writes nothing) when the key already exists. Streams; multipart above a threshold (lib-storage Upload). */
  putFile(key: string, file: string): Promise<boolean>;
  /** Same for bytes in memory; `overwrite: true` for the few mutable keys (small records). */
  putBuffer(key: string, body: Buffer, options?: { overwrite?: boolean }): Promise<boolean>;
  /** Downloads `key` into a NEW file at `dest` (created with O_EXCL, mode 0o600, fdatasync'ed, removed on any failure); resolves its size, or null when the key does not exist. Streams (a 1 GB object must not be held in memory). */
  download(key: string, dest: string): Promise<number | null>;
  /** Whole small object in memory (refuses, with a clear error, one larger than maxBytes); null when missing. */
  getBuffer(key: string, maxBytes?: number): Promise<Buffer | null>;
  head(key: string): Promise<{ size: number; lastModified: Date } | null>;
  /** Every key under `prefix` (relative to the bucket's own prefix), paginated transparently. */
  list(prefix: string): AsyncIterable<BucketObjectInfo>;
  /** Deletes in batches of at most 1000 (DeleteObjects); missing keys are fine; throws naming the keys that failed. */
  deleteMany(keys: readonly string[]): Promise<void>;
  /** Proves the credentials can write, read and delete here: puts, reads back and deletes a probe object under `probes/`; throws an error whose message says why (e.g. "credentials cannot write to s3://b/p: AccessDenied (403)"). */
  checkWritable(): Promise<void>;
  close(): void;
}
