/**
 * How an object's content is kept on disk: as it is (`objects/ab/<sha256>`, the
 * only form older releases wrote), or compressed (`objects/ab/<sha256>.z`):
 *
 *   header   16 bytes: "SNZ1", the codec (1 = brotli), 3 zero bytes, the content's size (u64 BE)
 *   stream   the content compressed by that codec, up to the end of the file
 *
 * Either way the object is named by the sha256 of its content, never of what is
 * on disk, so dedup, verify, export and garbage collection mean what they meant.
 * The header lets a reader size its buffers and choose the in-memory or the
 * streaming path before it inflates a byte, and tells a wrong length from a
 * damaged stream. A compressed object is kept only where it pays (compressIfItPays).
 *
 * Brotli at quality 1: on a generated 10,000-file tree and on real source
 * (server/ and next/dist) it compressed 3.5-3.8x at about 6 ms of CPU per MB
 * (gzip level 1: 3.4-3.5x at 9 ms/MB; level 6: 4.0-4.2x at 23-25 ms/MB) and
 * inflates at 3-4 ms/MB (scripts/measure-compression.mjs; README "Compression").
 */
import zlib from "node:zlib";

export const COMPRESSED_SUFFIX = ".z";
export const HEADER_BYTES = 16;
const MAGIC = Buffer.from("SNZ1", "ascii");
const CODEC_BROTLI = 1;
/** Brotli quality: higher qualities gain a few percent on disk for two to several hundred times the CPU. */
export const BROTLI_QUALITY = 1;
/**
 * A compressed form is kept only when it saves at least this fraction of the
 * content too (besides whole file-system blocks): below it, inflating on every
 * read costs more than the little it saves. Real files are bimodal (text shrinks
 * 2-4x, compressed formats not at all), so the exact value changes almost nothing.
 */
const MIN_SAVING = 1 / 8;
/**
 * Content this small is never stored compressed, whatever the file system's block
 * size (and no release stored it so): looking for it needs only its raw name.
 */
export const RAW_ONLY_MAX_BYTES = 4096;
/** How much of a large file decides whether it is compressed (compressing the sample costs about 1.5 ms). */
export const SAMPLE_BYTES = 256 * 1024;

/** A stored compressed form that cannot be one: the object is damaged. */
export class CompressedFormatError extends Error {}

export function brotliParams(sizeHint: number): zlib.BrotliOptions {
  return {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: Math.min(sizeHint, 0xffffffff),
    },
  };
}

export function encodeHeader(size: number): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header[4] = CODEC_BROTLI;
  header.writeBigUInt64BE(BigInt(size), 8);
  return header;
}

/** The content size a compressed object's header gives; CompressedFormatError when it is not such a header. */
export function parseHeader(header: Buffer): number {
  if (header.length < HEADER_BYTES) throw new CompressedFormatError(`the compressed object is too short (${header.length} bytes) to hold its header`);
  if (!header.subarray(0, 4).equals(MAGIC)) throw new CompressedFormatError("the compressed object does not start with its header");
  if (header[4] !== CODEC_BROTLI || header[5] !== 0 || header[6] !== 0 || header[7] !== 0) throw new CompressedFormatError(`unknown codec ${header[4]} in the compressed object's header`);
  const size = header.readBigUInt64BE(8);
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new CompressedFormatError(`the header gives an impossible size (${size})`);
  return Number(size);
}

function blocks(bytes: number, blockSize: number): number {
  return Math.ceil(bytes / blockSize);
}

/** Whether `stored` bytes on disk (header included) pay for content of `size` bytes: fewer blocks, and at least MIN_SAVING less. */
export function pays(size: number, stored: number, blockSize: number): boolean {
  return blocks(stored, blockSize) < blocks(size, blockSize) && stored <= size * (1 - MIN_SAVING);
}

/** Whether a large content's first bytes shrink enough for the whole to be worth compressing (decided before it is streamed). */
export function samplePays(sample: Buffer): boolean {
  if (sample.length === 0) return false;
  const compressed = zlib.brotliCompressSync(sample, brotliParams(sample.length));
  return HEADER_BYTES + compressed.length <= sample.length * (1 - MIN_SAVING);
}

/**
 * The compressed form of `data` (header and stream) when it pays, else null.
 * Content of one file-system block or less is never compressed: it takes that
 * block whatever its size, so nothing could be saved (nor, on any file system,
 * content of RAW_ONLY_MAX_BYTES or less).
 */
export function compressIfItPays(data: Buffer, blockSize: number): Buffer | null {
  if (data.length <= Math.max(blockSize, RAW_ONLY_MAX_BYTES)) return null;
  const compressed = zlib.brotliCompressSync(data, brotliParams(data.length));
  if (!pays(data.length, HEADER_BYTES + compressed.length, blockSize)) return null;
  return Buffer.concat([encodeHeader(data.length), compressed]);
}

/**
 * The content of a compressed object held in memory (`stored`: header and stream).
 * CompressedFormatError when the header is wrong, the stream is damaged or ends
 * early, it inflates to another length than the header says, or bytes follow it.
 */
export function decompressSync(stored: Buffer): Buffer {
  const size = parseHeader(stored);
  const stream = stored.subarray(HEADER_BYTES);
  // maxOutputLength: a damaged stream cannot make this allocate more than the content's size. One byte more
  // than the content in the first output chunk: the call sees the stream's end without another chunk.
  const options: zlib.BrotliOptions & { info: true } = { maxOutputLength: Math.max(1, size), chunkSize: Math.max(64, Math.min(size + 1, 1024 * 1024)), info: true };
  let result: { buffer: Buffer; engine: zlib.BrotliDecompress };
  try {
    result = zlib.brotliDecompressSync(stream, options) as unknown as { buffer: Buffer; engine: zlib.BrotliDecompress };
  } catch (error) {

    throw new CompressedFormatError(`the compressed stream is damaged (${(error as Error).message})`);
  }
  if (result.buffer.length !== size) throw new CompressedFormatError(`the stream inflates to ${result.buffer.length} bytes, the header says ${size}`);
  if (result.engine.bytesWritten !== stream.length) throw new CompressedFormatError(`${stream.length - result.engine.bytesWritten} bytes follow the end of the compressed stream`);
  return result.buffer;
}

/**
 * The first `bytes` of a compressed object's content from the first bytes of
 * its stored form (header included); what inflates from a cut stream. Throws
 * CompressedFormatError when the header is wrong or the stream cannot start.
 */
export function inflateHead(storedStart: Buffer, bytes: number): Buffer {
  parseHeader(storedStart);
  try {
    const out = zlib.brotliDecompressSync(storedStart.subarray(HEADER_BYTES), { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH, maxOutputLength: Math.max(bytes, 1024 * 1024) });
    return out.subarray(0, bytes);
  } catch (error) {
    throw new CompressedFormatError(`the compressed stream is damaged (${(error as Error).message})`);
  }
}
