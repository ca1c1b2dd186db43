/**
 * The test's own view of the object store's files (not the product's reading):
 * an object is `store/objects/ab/<sha256>` holding its content as it is, or
 * `store/objects/ab/<sha256>.z` holding it compressed (a 16-byte header, "SNZ1",
 * codec 1 = brotli, three zero bytes, the content's size as u64 big-endian, then
 * the brotli stream). Tests that damage an object damage the bytes really stored.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const HEADER_BYTES = 16;

/** The file object `sha256` is stored in, in either form; throws when there is none. */
export function storedObjectFile(dataDir: string, sha256: string): string {
  const raw = path.join(dataDir, "store", "objects", sha256.slice(0, 2), sha256);
  for (const file of [raw, `${raw}.z`]) if (fs.existsSync(file)) return file;
  throw new Error(`object ${sha256} is not in the store of ${dataDir}`);
}

/** Whether object `sha256` is stored, in either form. */
export function hasStoredObject(dataDir: string, sha256: string): boolean {
  const raw = path.join(dataDir, "store", "objects", sha256.slice(0, 2), sha256);
  return fs.existsSync(raw) || fs.existsSync(`${raw}.z`);
}

export function isCompressedObjectFile(file: string): boolean {
  return file.endsWith(".z");
}

/** The content of a stored object, decoded here from its file (brotli inflated for a compressed one). */
export function readStoredObject(dataDir: string, sha256: string): Buffer {
  const file = storedObjectFile(dataDir, sha256);
  const bytes = fs.readFileSync(file);
  if (!isCompressedObjectFile(file)) return bytes;
  if (bytes.subarray(0, 4).toString("latin1") !== "SNZ1" || bytes[4] !== 1) throw new Error(`${file}: not a compressed object`);
  const content = zlib.brotliDecompressSync(bytes.subarray(HEADER_BYTES));
  if (content.length !== Number(bytes.readBigUInt64BE(8))) throw new Error(`${file}: inflates to ${content.length} bytes, its header says ${bytes.readBigUInt64BE(8)}`);
  return content;
}

/**
 * Damages the stored bytes of an object (objects are read-only: made writable
 * first): flips the first byte of a raw object, a byte in the middle of a
 * compressed one's stream (its header stays intact: the stream itself is damaged).
 * Returns the file.
 */
export function corruptStoredObjectFile(dataDir: string, sha256: string): string {
  const file = storedObjectFile(dataDir, sha256);
  fs.chmodSync(file, 0o644);
  const bytes = fs.readFileSync(file);
  if (bytes.length === 0) throw new Error(`cannot corrupt the empty object ${sha256}`);
  const at = isCompressedObjectFile(file) ? HEADER_BYTES + Math.floor((bytes.length - HEADER_BYTES) / 2) : 0;
  bytes[at] = (bytes[at] as number) ^ 0xff;
  fs.writeFileSync(file, bytes);
  return file;
}

/** corruptStoredObjectFile, undoably: returns a function that puts the object's bytes and mode back. */
export function corruptStoredObjectUndoably(dataDir: string, sha256: string): () => void {
  const file = storedObjectFile(dataDir, sha256);
  const original = fs.readFileSync(file);
  const mode = fs.statSync(file).mode & 0o777;
  corruptStoredObjectFile(dataDir, sha256);
  return () => {
    fs.writeFileSync(file, original);
    fs.chmodSync(file, mode);
  };
}
