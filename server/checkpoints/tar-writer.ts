/**
 * A POSIX tar (pax) stream of entries whose names are bytes. archiver and
 * tar-stream take entry names as text: they encode a byte that is not UTF-8 as
 * U+FFFD and turn `\` into `/`, so two files could become one entry and a name
 * could come back different. Here a name is written exactly: in the ustar header
 * when it fits, otherwise in a pax extended header (`path`, `linkpath`), marked
 * `hdrcharset=BINARY` when it is not UTF-8, as GNU tar and bsdtar read it.
 * Sizes beyond the ustar field (8 GiB) go into the pax header too.
 *
 * A sparse file is written in the GNU sparse format 1.0 that GNU tar (and
 * bsdtar) read: pax records give its real name and size, the ustar header names
 * it `GNUSparseFile.0/<name>`, and its content is a map of its data regions
 * (decimal text, padded to a block) followed by only their bytes. Extracting it
 * makes the holes again.
 */

const BLOCK = 512;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
const USTAR_NAME = 100;
const USTAR_LINK = 100;
/** Largest size the 11 octal digits of the ustar size field hold. */
const USTAR_MAX_SIZE = 0o77777777777;

export type TarEntryType = "file" | "directory" | "symlink" | "hardlink";

export interface TarEntry {
  /** The path inside the archive, exactly as bytes (a directory's without the trailing `/`). */
  name: Buffer;
  type: TarEntryType;
  /** Permission bits. */
  mode: number;
  mtimeMs: number;
  /** Bytes of content (files only). */
  size: number;
  /** Symlinks: the target; hard links: the archive path of the entry (written before) it is another name of. As bytes. */
  linkName?: Buffer;
  /** Files: exactly `size` bytes (of a sparse file: its data regions' bytes, in order). */
  content?: AsyncIterable<Buffer>;
  /** Files: a sparse file of `realSize` bytes whose data lies in `regions` (in order); everything else is a hole. */
  sparse?: { realSize: number; regions: readonly { offset: number; length: number }[] };
}

const TYPE_FLAG: Record<TarEntryType | "pax", string> = { file: "0", hardlink: "1", symlink: "2", directory: "5", pax: "x" };

function isUtf8(bytes: Buffer): boolean {
  return Buffer.from(bytes.toString("utf8"), "utf8").equals(bytes);
}

/** A pax record: "<length> <key>=<value>\n", where the length counts the whole record, itself included. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from("\n")]);
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length = String(length).length + body.length;
  return Buffer.concat([Buffer.from(String(length)), body]);
}

function writeOctal(header: Buffer, offset: number, width: number, value: number): void {
  header.write(value.toString(8).padStart(width - 1, "0"), offset, width - 1, "ascii");
  header[offset + width - 1] = 0;
}

function ustarHeader(fields: { name: Buffer; type: string; mode: number; size: number; mtimeSeconds: number; linkName?: Buffer }): Buffer {
  const header = Buffer.alloc(BLOCK);
  fields.name.copy(header, 0, 0, Math.min(fields.name.length, USTAR_NAME));
  writeOctal(header, 100, 8, fields.mode & 0o7777);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  writeOctal(header, 124, 12, Math.min(fields.size, USTAR_MAX_SIZE));
  writeOctal(header, 136, 12, Math.max(0, fields.mtimeSeconds));
  header.write(fields.type, 156, 1, "ascii");
  if (fields.linkName) fields.linkName.copy(header, 157, 0, Math.min(fields.linkName.length, USTAR_LINK));
  header.write("ustar\u000000", 257, 8, "ascii");
  // The checksum is computed with its own field read as eight spaces.
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, "0"), 148, 6, "ascii");
  header[154] = 0;
  header[155] = 0x20;
  return header;
}

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return rest === 0 ? Buffer.alloc(0) : ZERO_BLOCK.subarray(0, BLOCK - rest);
}

/**
 * The map that starts a GNU sparse 1.0 file's content: the number of regions,
 * then each region's offset and length, one decimal number a line, padded to a
 * whole block. It always ends with a region of no bytes at the real size, as GNU
 * tar writes it: extracting that region is what gives the file its full size
 * when it ends in a hole.
 */
export function sparseMapBlock(sparse: NonNullable<TarEntry["sparse"]>): Buffer {
  const lines = [String(sparse.regions.length + 1)];
  for (const region of sparse.regions) lines.push(String(region.offset), String(region.length));
  lines.push(String(sparse.realSize), "0");
  const text = Buffer.from(lines.join("\n") + "\n", "ascii");
  return Buffer.concat([text, padding(text.length)]);
}

/** `GNUSparseFile.0/` put before the last component of `name`, where GNU tar puts it. */
function sparseStandInName(name: Buffer): Buffer {
  const slash = name.lastIndexOf(0x2f);
  return Buffer.concat([name.subarray(0, slash + 1), Buffer.from("GNUSparseFile.0/"), name.subarray(slash + 1)]);
}

/** The header blocks of one entry: a pax header first when the ustar one cannot hold it exactly. */
export function entryHeader(entry: TarEntry, sparseMap?: Buffer): Buffer {
  const sparse = entry.type === "file" && entry.sparse && sparseMap ? entry.sparse : undefined;
  const name = entry.type === "directory" ? Buffer.concat([entry.name, Buffer.from("/")]) : sparse ? sparseStandInName(entry.name) : entry.name;
  const size = entry.type === "file" ? entry.size + (sparse && sparseMap ? sparseMap.length : 0) : 0;
  const records: Buffer[] = [];
  if (name.length > USTAR_NAME) records.push(paxRecord("path", name));
  if (entry.linkName && entry.linkName.length > USTAR_LINK) records.push(paxRecord("linkpath", entry.linkName));
  if (size > USTAR_MAX_SIZE) records.push(paxRecord("size", Buffer.from(String(size))));
  if (sparse) {
    // After a `path` record (the stand-in name's): readers that apply records in order keep the real name.
    records.push(paxRecord("GNU.sparse.major", Buffer.from("1")), paxRecord("GNU.sparse.minor", Buffer.from("0")));
    records.push(paxRecord("GNU.sparse.name", entry.name), paxRecord("GNU.sparse.realsize", Buffer.from(String(sparse.realSize))));
  }
  if (records.length > 0 && !(isUtf8(entry.name) && (!entry.linkName || isUtf8(entry.linkName)))) records.unshift(paxRecord("hdrcharset", Buffer.from("BINARY")));
  const mtimeSeconds = Math.floor(entry.mtimeMs / 1000);
  const main = ustarHeader({ name, type: TYPE_FLAG[entry.type], mode: entry.mode, size, mtimeSeconds, linkName: entry.linkName });
  if (records.length === 0) return main;
  const pax = Buffer.concat(records);
  // The pax header's own name is informative only; readers take the path from its records.
  const paxName = Buffer.concat([Buffer.from("PaxHeader/"), name.subarray(Math.max(0, name.length - (USTAR_NAME - 10)))]);
  return Buffer.concat([ustarHeader({ name: paxName, type: TYPE_FLAG.pax, mode: 0o644, size: pax.length, mtimeSeconds }), pax, padding(pax.length), main]);
}

/**
 * The archive's bytes, entry by entry. A file's content must have exactly its
 * size; anything else fails the stream (a short archive must never look complete).
 */
export async function* tarBlocks(entries: AsyncIterable<TarEntry> | Iterable<TarEntry>): AsyncGenerator<Buffer> {
  for await (const entry of entries) {
    const sparseMap = entry.type === "file" && entry.sparse ? sparseMapBlock(entry.sparse) : undefined;
    yield entryHeader(entry, sparseMap);
    if (entry.type !== "file") continue;
    if (sparseMap) yield sparseMap;
    let written = 0;
    for await (const chunk of entry.content ?? []) {
      written += chunk.length;
      if (written > entry.size) throw new Error(`tar: ${entry.name.toString("utf8")} has more than its ${entry.size} bytes`);
      yield chunk;
    }
    if (written !== entry.size) throw new Error(`tar: ${entry.name.toString("utf8")} has ${written} bytes, not ${entry.size}`);
    yield padding(entry.size);
  }
  yield Buffer.concat([ZERO_BLOCK, ZERO_BLOCK]);
}
