/**
 * Reads a sparse file into its stored representation (sparse-format.ts) in one
 * pass: the file system's hole map says where data may be; only those ranges
 * are read (whole aligned chunks), all-zero chunks are dropped, and what is left
 * is hashed, and copied to a spill file or kept in memory, followed by the map.
 * Cost and memory follow the data, never the apparent size.
 *
 * Change detection stays with the caller (hash-file.ts): it compares fstat
 * before and after, and reads a racily clean file twice.
 */
import { createHash, type Hash } from "node:crypto";
import { readFdAt } from "./raw-fd";
import { readDataRanges, type DataRange } from "./seek-data";
import type { Spill, SpilledCopy } from "./spill";
import { encodeSparseTail, SPARSE_CHUNK, SPARSE_MAP_ENTRY_BYTES, SPARSE_MIN_HOLE_BYTES, SPARSE_TRAILER_BYTES } from "./sparse-format";

/** Chunks of this size are read at a time (a multiple of SPARSE_CHUNK). */
const READ_SIZE = 1024 * 1024;
const ZERO_CHUNK = Buffer.alloc(SPARSE_CHUNK);

export interface SparseRead {
  /** sha256 of the representation (the object's name). */
  sha256: string;
  /** Bytes of data kept (the canonical extents). */
  dataBytes: number;
  /** Bytes of the whole representation. */
  objectBytes: number;
  /** The representation, when it is smaller than `memoryLimit`. */
  data?: Buffer;
  /** The copy the representation was written to (larger ones, when `spillTo` was given); the caller owns it. */
  spilled?: SpilledCopy;
  /** Set when a read came up short: the file shrank while it was read. */
  changed?: string;
}

export interface SparseReadOptions {
  /** Representations smaller than this are returned in memory. */
  memoryLimit: number;
  /** Opens a fresh copy for a larger representation (its bytes as they are); without it, larger ones are only hashed. */
  spillTo?: () => Promise<Spill>;
}

/**
 * The representation of the open file `fd` of apparent size `size`, or null when
 * its hole map shows less than SPARSE_MIN_HOLE_BYTES in holes (or there is no
 * hole map here): then it is an ordinary file, read whole.
 */
export async function readSparseFile(fd: number, size: number, options: SparseReadOptions): Promise<SparseRead | null> {
  const ranges = await readDataRanges(fd, size);
  if (!ranges) return null;
  const mapped = ranges.reduce((sum, r) => sum + r.length, 0);
  if (size - mapped < SPARSE_MIN_HOLE_BYTES) return null;

  const spans = alignedSpans(ranges, size);
  const spanBytes = spans.reduce((sum, r) => sum + r.length, 0);
  // At most one extent per chunk: an upper bound of the representation's size.
  const largest = spanBytes + Math.ceil(spanBytes / SPARSE_CHUNK) * SPARSE_MAP_ENTRY_BYTES + SPARSE_TRAILER_BYTES;
  const inMemory = largest < options.memoryLimit;
  const sink: Sink = inMemory ? new MemorySink() : options.spillTo ? new SpillSink(await options.spillTo()) : new NullSink();
  try {
    const hash = createHash("sha256");
    const extents: DataRange[] = [];
    const buffer = Buffer.allocUnsafe(READ_SIZE);
    let dataBytes = 0;
    let changed: string | undefined;
    for (const span of spans) {
      for (let position = span.offset; position < span.offset + span.length && !changed; ) {
        const want = Math.min(READ_SIZE, span.offset + span.length - position);
        const got = await readFully(fd, buffer, want, position);
        if (got < want) changed = `the file ended at ${position + got} bytes while it was read (it had ${size})`;
        dataBytes += await keepNonZero(buffer.subarray(0, got), position, extents, hash, sink);
        position += want;
      }
    }
    const tail = encodeSparseTail(size, extents);
    hash.update(tail);
    await sink.write(tail);
    const objectBytes = dataBytes + tail.length;
    const result: SparseRead = { sha256: hash.digest("hex"), dataBytes, objectBytes, ...(changed ? { changed } : {}) };
    if (sink instanceof MemorySink) result.data = sink.content();
    if (sink instanceof SpillSink) result.spilled = await sink.finish();
    return result;
  } catch (error) {
    await sink.abandon();
    throw error;
  }
}

/** The data ranges widened to whole aligned chunks (the last one ends at the file's end), merged where they meet. */
function alignedSpans(ranges: readonly DataRange[], size: number): DataRange[] {
  const spans: DataRange[] = [];
  for (const range of ranges) {
    const start = Math.floor(range.offset / SPARSE_CHUNK) * SPARSE_CHUNK;
    const end = Math.min(size, Math.ceil((range.offset + range.length) / SPARSE_CHUNK) * SPARSE_CHUNK);
    const last = spans[spans.length - 1];
    if (last && start <= last.offset + last.length) last.length = Math.max(last.length, end - last.offset);
    else spans.push({ offset: start, length: end - start });
  }
  return spans;
}

/**
 * Hashes and keeps the chunks of `piece` (which starts at `position`, an aligned
 * offset) that hold a non-zero byte, extending `extents`; returns the bytes kept.
 */
async function keepNonZero(piece: Buffer, position: number, extents: DataRange[], hash: Hash, sink: Sink): Promise<number> {
  let kept = 0;
  let runStart = -1;
  const flush = async (end: number) => {
    if (runStart < 0) return;
    const run = piece.subarray(runStart, end);
    hash.update(run);
    await sink.write(run);
    kept += run.length;
    const offset = position + runStart;
    const last = extents[extents.length - 1];
    if (last && last.offset + last.length === offset) last.length += run.length;
    else extents.push({ offset, length: run.length });
    runStart = -1;
  };
  for (let at = 0; at < piece.length; at += SPARSE_CHUNK) {
    const end = Math.min(at + SPARSE_CHUNK, piece.length);
    const zero = piece.subarray(at, end).equals(end - at === SPARSE_CHUNK ? ZERO_CHUNK : ZERO_CHUNK.subarray(0, end - at));
    if (zero) await flush(at);
    else if (runStart < 0) runStart = at;
  }
  await flush(piece.length);
  return kept;
}

/** Reads `length` bytes at `position` unless the file ends first; returns how many were read. */
async function readFully(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const n = await readFdAt(fd, buffer, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

interface Sink {
  write(bytes: Buffer): Promise<void>;
  abandon(): Promise<void>;
}

class NullSink implements Sink {
  async write(): Promise<void> {}
  async abandon(): Promise<void> {}
}

class MemorySink implements Sink {
  private readonly parts: Buffer[] = [];
  async write(bytes: Buffer): Promise<void> {
    this.parts.push(Buffer.from(bytes));
  }
  async abandon(): Promise<void> {}
  content(): Buffer {
    return Buffer.concat(this.parts);
  }
}

/** A copy in the store's tmp/ (spill.ts), flushed by finish. */
class SpillSink implements Sink {
  constructor(private readonly spill: Spill) {}
  write(bytes: Buffer): Promise<void> {
    return this.spill.write(bytes);
  }
  finish(): Promise<SpilledCopy> {
    return this.spill.finish();
  }
  abandon(): Promise<void> {
    return this.spill.abandon();
  }
}
