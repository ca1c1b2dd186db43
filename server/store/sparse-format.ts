/**
 * How a sparse file is stored: not as its logical bytes (a 1 TiB file with a few
 * blocks of data would be a 1 TiB object, and hashing its zeros alone takes
 * hours) but as one object holding only its data and where that data goes:
 *
 *   data      the bytes of every data extent, in file order
 *   map       per extent: offset, length (unsigned 64-bit big-endian each)
 *   trailer   apparent size, extent count (u64 BE each), then MAGIC (8 bytes)
 *
 * The object is named by the sha256 of exactly these bytes, like every object,
 * so dedup, verify and garbage collection treat it as any other. The map comes
 * last so the representation can be hashed and written in one pass while the
 * file is read. A manifest entry whose content is stored this way says so
 * (`sparse`); the same bytes in an entry without it are an ordinary file's.
 *
 * The extents are canonical: whole SPARSE_CHUNK-sized, aligned pieces of the
 * file that hold a non-zero byte (the last one may be shorter, at the end of the
 * file), merged where they touch. Holes and all-zero chunks alike are left out,
 * so the representation depends only on the file's logical content, not on how
 * the file system happened to lay it out: the same sparse file restored, or with
 * zeros written into a hole, has the same representation.
 */
import fs from "node:fs";
import type { DataRange } from "./seek-data";

/** A file is read as sparse only when at least this much of its apparent size is not allocated (st_blocks), and its hole map shows as much in holes. */
export const SPARSE_MIN_HOLE_BYTES = 1024 * 1024;
/** Granularity of the canonical extents (a common page and block size). */
export const SPARSE_CHUNK = 4096;
export const SPARSE_MAGIC = Buffer.from("SNSPARS1", "ascii");
export const SPARSE_TRAILER_BYTES = 24;
export const SPARSE_MAP_ENTRY_BYTES = 16;

/** What a manifest entry of a sparse file records beside its apparent size: the bytes of data it holds. */
export interface SparseInfo {
  dataBytes: number;
}

/** The layout a stored sparse representation describes. */
export interface SparseLayout {
  /** Apparent size of the file. */
  size: number;
  extents: DataRange[];
  /** Bytes of data (the sum of the extents' lengths): the object's first bytes. */
  dataBytes: number;
  /** The map and trailer as stored (the object's last bytes). */
  tail: Buffer;
}

/** Whether a file of `size` bytes with `blocks` 512-byte blocks allocated may be sparse enough to be read as such. */
export function mayBeSparse(size: number, blocks: number): boolean {
  return size - blocks * 512 >= SPARSE_MIN_HOLE_BYTES;
}

/** The map and trailer that end a representation of a file of `size` bytes with these extents. */
export function encodeSparseTail(size: number, extents: readonly DataRange[]): Buffer {
  const tail = Buffer.alloc(extents.length * SPARSE_MAP_ENTRY_BYTES + SPARSE_TRAILER_BYTES);
  let at = 0;
  for (const extent of extents) {
    tail.writeBigUInt64BE(BigInt(extent.offset), at);
    tail.writeBigUInt64BE(BigInt(extent.length), at + 8);
    at += SPARSE_MAP_ENTRY_BYTES;
  }
  tail.writeBigUInt64BE(BigInt(size), at);
  tail.writeBigUInt64BE(BigInt(extents.length), at + 8);
  SPARSE_MAGIC.copy(tail, at + 16);
  return tail;
}

/** A stored representation that cannot be one (its hash will not match either: the object is damaged). */
export class SparseFormatError extends Error {}

function readU64(buffer: Buffer, at: number): number {
  const value = buffer.readBigUInt64BE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new SparseFormatError(`a number in the map is too large (${value})`);
  return Number(value);
}

function readExactlySync(fd: number, length: number, position: number): Buffer {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buffer, done, length - done, position + done);
    if (n === 0) throw new SparseFormatError(`the object ends before its map (${position + done} of ${position + length} bytes)`);
    done += n;
  }
  return buffer;
}

/**
 * Reads the layout of the representation in the open object `fd` of
 * `objectBytes` bytes, checking that it is one: extents in order, apart,
 * inside the file, and adding up to the data the object holds. Throws
 * SparseFormatError otherwise. Does not hash anything: the caller still checks
 * the object's sha256 before it trusts what it wrote.
 */
export function readSparseLayout(fd: number, objectBytes: number): SparseLayout {
  if (objectBytes < SPARSE_TRAILER_BYTES) throw new SparseFormatError(`the object is too short (${objectBytes} bytes) to hold a sparse file's map`);
  const trailer = readExactlySync(fd, SPARSE_TRAILER_BYTES, objectBytes - SPARSE_TRAILER_BYTES);
  if (!trailer.subarray(16).equals(SPARSE_MAGIC)) throw new SparseFormatError("the object does not end like a sparse file's map");
  const size = readU64(trailer, 0);
  const count = readU64(trailer, 8);
  const mapBytes = count * SPARSE_MAP_ENTRY_BYTES;
  if (mapBytes + SPARSE_TRAILER_BYTES > objectBytes) throw new SparseFormatError(`the map claims ${count} extents, more than the object holds`);
  const map = readExactlySync(fd, mapBytes, objectBytes - SPARSE_TRAILER_BYTES - mapBytes);
  const extents: DataRange[] = new Array(count);
  let dataBytes = 0;
  let end = 0;
  for (let i = 0; i < count; i++) {
    const offset = readU64(map, i * SPARSE_MAP_ENTRY_BYTES);
    const length = readU64(map, i * SPARSE_MAP_ENTRY_BYTES + 8);
    if (length === 0 || (i > 0 && offset <= end) || offset + length > size) throw new SparseFormatError(`extent ${i} (${offset}+${length}) is out of order or outside the file's ${size} bytes`);
    extents[i] = { offset, length };
    end = offset + length;
    dataBytes += length;
  }
  if (dataBytes + mapBytes + SPARSE_TRAILER_BYTES !== objectBytes) throw new SparseFormatError(`the map names ${dataBytes} bytes of data, the object holds ${objectBytes - mapBytes - SPARSE_TRAILER_BYTES}`);
  return { size, extents, dataBytes, tail: Buffer.concat([map, trailer]) };
}
