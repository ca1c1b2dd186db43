/**
 * Reading a stored object's content out of its open descriptor, in either form
 * (object-codec.ts): the bytes as they are, or a compressed object inflated as
 * it streams, through one fixed buffer on the way in and the decoder's chunks on
 * the way out, whatever the object's size. Nothing here hashes: the callers do,
 * against the object's name.
 */
import { pipeline, Readable } from "node:stream";
import { createBrotliDecompress } from "node:zlib";
import { CompressedFormatError, decompressSync, HEADER_BYTES, parseHeader } from "./object-codec";
import { CHUNK_SIZE } from "./hash-file";
import { readFdAt } from "./raw-fd";
import fs from "node:fs";

/** A read of the object file itself failed (an fs error, not damage): `cause` is the error to report. */
export class ObjectReadError extends Error {
  constructor(readonly original: unknown) {
    super(original instanceof Error ? original.message : String(original));
  }
}

/** The content size in a compressed object's header, read at offset 0 of `fd`. CompressedFormatError when it is not one. */
export function readHeaderSync(fd: number): number {
  const header = Buffer.alloc(HEADER_BYTES);
  let got = 0;
  while (got < HEADER_BYTES) {
    const n = fs.readSync(fd, header, got, HEADER_BYTES - got, got);
    if (n === 0) break;
    got += n;
  }
  return parseHeader(header.subarray(0, got));
}

/** The bytes of `fd` from `start` to its end, in CHUNK_SIZE reads (fresh buffers: the decoder may still hold the last one). */
async function* fileChunks(fd: number, start: number): AsyncGenerator<Buffer> {
  for (let position = start; ; ) {
    const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
    let n: number;
    try {
      n = await readFdAt(fd, buffer, 0, CHUNK_SIZE, position);
    } catch (error) {
      throw new ObjectReadError(error);
    }
    if (n === 0) return;
    position += n;
    yield buffer.subarray(0, n);
  }
}

/**
 * The content of the compressed object open at `fd` (`storedBytes` long), which
 * its header says is `size` bytes. Throws CompressedFormatError when the stream is
 * damaged or ends early, gives more or fewer bytes than `size`, or is followed by
 * more bytes; ObjectReadError when reading the file fails.
 */
export async function* inflateObject(fd: number, storedBytes: number, size: number): AsyncGenerator<Buffer> {
  // Output in CHUNK_SIZE pieces (zlib's default is 16 KiB): one write per MiB for whoever copies it out.
  const decoder = createBrotliDecompress({ chunkSize: CHUNK_SIZE });
  pipeline(Readable.from(fileChunks(fd, HEADER_BYTES)), decoder, () => undefined);
  let total = 0;
  try {
    for await (const chunk of decoder as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > size) throw new CompressedFormatError(`the stream inflates to more than the ${size} bytes its header says`);
      yield chunk;
    }
  } catch (error) {
    if (error instanceof ObjectReadError || error instanceof CompressedFormatError) throw error;
    throw new CompressedFormatError(`the compressed stream is damaged (${(error as Error).message})`);
  } finally {
    decoder.destroy();
  }
  if (total !== size) throw new CompressedFormatError(`the stream inflates to ${total} bytes, the header says ${size}`);
  if (decoder.bytesWritten !== storedBytes - HEADER_BYTES) throw new CompressedFormatError(`${storedBytes - HEADER_BYTES - decoder.bytesWritten} bytes follow the end of the compressed stream`);
}

/**
 * The content of the raw object open at `fd` (`storedBytes` long when it was
 * opened), in pieces of at most CHUNK_SIZE, each in a buffer of its own (a
 * consumer may hold on to one), sized to what is left so a small object costs
 * a small buffer.
 */
export async function* rawObject(fd: number, storedBytes: number): AsyncGenerator<Buffer> {
  for (let position = 0; ; ) {
    // One byte more than is left: the read that finds the end is the next, small one.
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK_SIZE, Math.max(0, storedBytes - position) + 1));
    let n: number;
    try {
      n = await readFdAt(fd, buffer, 0, buffer.length, position);
    } catch (error) {
      throw new ObjectReadError(error);
    }
    if (n === 0) return;
    position += n;
    yield buffer.subarray(0, n);
  }
}

/**
 * The content of a small compressed object (its stored form and its content both
 * under a MiB) in one piece: read and inflated with one-shot synchronous calls,
 * cheaper than a stream per object when a verify or an export meets thousands.
 */
export async function* inflateSmallObject(fd: number, storedBytes: number): AsyncGenerator<Buffer> {
  const stored = Buffer.allocUnsafe(storedBytes);
  let got = 0;
  try {
    while (got < storedBytes) {
      const n = fs.readSync(fd, stored, got, storedBytes - got, got);
      if (n === 0) break;
      got += n;
    }
  } catch (error) {
    throw new ObjectReadError(error);
  }
  yield decompressSync(stored.subarray(0, got));
}
