/**
 * Where the bytes of a large file go while they are read and hashed: a new file
 * in the store's tmp/, written as they come (never the whole file in memory),
 * then flushed (fdatasync) and handed to the store to rename into place.
 *
 * RawSpill copies the bytes as they are. CompressingSpill decides on the first
 * SAMPLE_BYTES whether compressing pays (object-codec.ts): if so it writes the
 * compressed form (header, then a brotli stream, compressed in the thread pool
 * so the event loop keeps running), else the bytes as they are. Memory stays at
 * one input chunk plus the encoder's buffers whatever the file's size.
 */
import { once } from "node:events";
import { createBrotliCompress, type BrotliCompress } from "node:zlib";
import { describeFsError } from "../errors";
import { OBJECT_FILE_MODE, openNewFd, removeQuietly } from "./atomic-write";
import { brotliParams, encodeHeader, HEADER_BYTES, SAMPLE_BYTES, samplePays } from "./object-codec";
import { closeFd, closeFdQuietly, fdatasyncFd, writeFdAll, writeFdAllAt } from "./raw-fd";

/** A finished copy: its path in tmp/ (the caller owns it) and the form it holds. */
export interface SpilledCopy {
  path: string;
  compressed: boolean;
}

export interface Spill {
  /** Appends `bytes`; the caller may reuse the buffer once the promise settled. */
  write(bytes: Buffer): Promise<void>;
  /** Flushes the copy to disk and closes it. */
  finish(): Promise<SpilledCopy>;
  /** Closes and removes the copy (failure paths; never throws). */
  abandon(): Promise<void>;
}

/**
 * Opens a spill for a large file: `compressible` false keeps its bytes as they
 * are (a sparse file's representation, read back at offsets), true lets the
 * store compress it where it pays; `sizeHint` is the size the file had.
 */
export type OpenSpill = (compressible: boolean, sizeHint: number) => Promise<Spill>;

/** Creates `path` (which must not exist) for a copy; errors name it and the file being stored. */
async function createCopy(path: string, sourcePath: string): Promise<number> {
  try {
    return await openNewFd(path, OBJECT_FILE_MODE);
  } catch (error) {
    throw describeFsError(error, `${path} (storing ${sourcePath})`);
  }
}

abstract class FileSpill implements Spill {
  protected fd: number | undefined;

  protected constructor(
    protected readonly path: string,
    fd: number,
    private readonly sourcePath: string,
  ) {
    this.fd = fd;
  }

  abstract write(bytes: Buffer): Promise<void>;
  protected abstract get compressed(): boolean;
  /** Writes what is still held back (the encoder's last output), before the flush. */
  protected abstract complete(): Promise<void>;
  /** Stops producing bytes, and waits until nothing more is written to the descriptor. */
  protected abstract stop(): Promise<void>;

  async finish(): Promise<SpilledCopy> {
    await this.complete();
    const fd = this.fd as number;
    await this.onCopy(fdatasyncFd(fd));
    this.fd = undefined;
    await this.onCopy(closeFd(fd));
    return { path: this.path, compressed: this.compressed };
  }

  async abandon(): Promise<void> {
    await this.stop();
    if (this.fd !== undefined) await closeFdQuietly(this.fd);
    this.fd = undefined;
    await removeQuietly(this.path);
  }

  /** A failure to write the copy names it (and the file being stored): a full disk there is not the workspace's. */
  protected onCopy<T>(op: Promise<T>): Promise<T> {
    return op.catch((error: unknown) => Promise.reject(describeFsError(error, `${this.path} (storing ${this.sourcePath})`)));
  }
}

/** The bytes as they are. */
export class RawSpill extends FileSpill {
  static async open(path: string, sourcePath: string): Promise<RawSpill> {
    return new RawSpill(path, await createCopy(path, sourcePath), sourcePath);
  }

  protected get compressed(): boolean {
    return false;
  }

  async write(bytes: Buffer): Promise<void> {
    await this.onCopy(writeFdAll(this.fd as number, bytes));
  }

  protected async complete(): Promise<void> {}
  protected async stop(): Promise<void> {}
}

/**
 * Compressed where it pays: the first SAMPLE_BYTES are held back until they
 * decide the form. Compressed, the header's size is written last (at offset 0),
 * once the content's length is known.
 */
export class CompressingSpill extends FileSpill {
  private sample: Buffer[] = [];
  private sampleBytes = 0;
  private decided = false;
  private encoder: BrotliCompress | null = null;
  /** The encoder's output, written in order; a failed write fails the next call. */
  private writing: Promise<void> = Promise.resolve();
  private content = 0;
  private encoderError: Error | null = null;

  private constructor(
    path: string,
    fd: number,
    sourcePath: string,
    private readonly sizeHint: number,
    /** true: compress without sampling (the caller already knows it pays). */
    private readonly forced: boolean,
  ) {
    super(path, fd, sourcePath);
  }

  static async open(path: string, sourcePath: string, sizeHint: number, options: { forced?: boolean } = {}): Promise<CompressingSpill> {
    return new CompressingSpill(path, await createCopy(path, sourcePath), sourcePath, sizeHint, options.forced === true);
  }

  protected get compressed(): boolean {
    return this.encoder !== null;
  }

  async write(bytes: Buffer): Promise<void> {
    if (bytes.length === 0) return;
    this.content += bytes.length;
    if (!this.decided) {
      if (this.forced) {
        await this.decide(true);
      } else {
        this.sample.push(Buffer.from(bytes));
        this.sampleBytes += bytes.length;
        if (this.sampleBytes >= SAMPLE_BYTES) await this.decide(samplePays(Buffer.concat(this.sample).subarray(0, SAMPLE_BYTES)));
        return;
      }
    }
    await this.put(bytes);
  }

  /** Settles the form, then writes what the sample held back. */
  private async decide(compress: boolean): Promise<void> {
    this.decided = true;
    if (compress) {
      // Output in larger pieces than zlib's default 16 KiB: fewer writes.
      const encoder = createBrotliCompress({ ...brotliParams(this.sizeHint), chunkSize: 256 * 1024 });
      this.encoder = encoder;
      encoder.on("error", (error: Error) => {
        this.encoderError = error;
      });
      // The size is not known yet: a header with 0 holds its place until complete().
      await this.onCopy(writeFdAll(this.fd as number, encodeHeader(0)));
      encoder.on("data", (chunk: Buffer) => {
        this.writing = this.writing.then(() => this.onCopy(writeFdAll(this.fd as number, chunk)));
      });
    }
    const held = this.sample;
    this.sample = [];
    for (const bytes of held) await this.put(bytes);
  }

  private async put(bytes: Buffer): Promise<void> {
    const encoder = this.encoder;
    if (!encoder) {
      await this.onCopy(writeFdAll(this.fd as number, bytes));
      return;
    }
    // The callback comes once the encoder consumed the bytes: the caller's buffer is free again then.
    await new Promise<void>((resolve, reject) => encoder.write(bytes, (error) => (error ? reject(error) : resolve())));
    // Never more than one chunk's output waiting for the disk: memory stays bounded.
    await this.writing;
    if (this.encoderError) throw this.encoderError;
  }

  protected async complete(): Promise<void> {
    if (!this.decided) await this.decide(this.forced || samplePays(Buffer.concat(this.sample)));
    const encoder = this.encoder;
    if (!encoder) return;
    const ended = once(encoder, "end");
    encoder.end();
    encoder.resume();
    await ended;
    await this.writing;
    if (this.encoderError) throw this.encoderError;
    await this.onCopy(writeFdAllAt(this.fd as number, encodeHeader(this.content), HEADER_BYTES, 0));
  }

  protected async stop(): Promise<void> {
    this.encoder?.destroy();
    // Output already queued must not reach a descriptor number that is closed, or reused by then.
    await this.writing.catch(() => undefined);
  }
}
