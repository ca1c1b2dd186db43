/**
 * Sparse files in the store: read through their hole map into a representation
 * of their data (sparse-format.ts), with the same torn-read guarantees as any
 * file, and written back with their holes. Real files on the test machine's
 * temp file system (which must keep holes: ext4, xfs, btrfs and tmpfs do).
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IntegrityError } from "../errors";
import { readFileStable, SMALL_FILE_LIMIT } from "./hash-file";
import { ObjectStore } from "./object-store";
import { SPARSE_CHUNK, SPARSE_MAGIC, SPARSE_MIN_HOLE_BYTES } from "./sparse-format";

const GiB = 1024 * 1024 * 1024;
const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-sparse-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A file of `size` apparent bytes holding `pieces` at their offsets, holes everywhere else. */
function sparseFile(name: string, size: number, pieces: [offset: number, bytes: Buffer][]): string {
  const p = path.join(dir, name);
  const fd = fs.openSync(p, "w");
  try {
    fs.ftruncateSync(fd, size);
    for (const [offset, bytes] of pieces) fs.writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    fs.closeSync(fd);
  }
  return p;
}

function readAt(p: string, offset: number, length: number): Buffer {
  const fd = fs.openSync(p, "r");
  try {
    const buffer = Buffer.alloc(length);
    fs.readSync(fd, buffer, 0, length, offset);
    return buffer;
  } finally {
    fs.closeSync(fd);
  }
}

/** The representation as the format describes it, built by hand: data, map, trailer. */
function representation(size: number, extents: [offset: number, bytes: Buffer][]): Buffer {
  const map = Buffer.alloc(extents.length * 16);
  extents.forEach(([offset, bytes], i) => {
    map.writeBigUInt64BE(BigInt(offset), i * 16);
    map.writeBigUInt64BE(BigInt(bytes.length), i * 16 + 8);
  });
  const trailer = Buffer.alloc(24);
  trailer.writeBigUInt64BE(BigInt(size), 0);
  trailer.writeBigUInt64BE(BigInt(extents.length), 8);
  SPARSE_MAGIC.copy(trailer, 16);
  return Buffer.concat([...extents.map(([, bytes]) => bytes), map, trailer]);
}

function chunk(fill: string): Buffer {
  return Buffer.alloc(SPARSE_CHUNK, fill);
}

describe("reading a sparse file", () => {
  it("reads only its data: the sha256 is that of its representation (data, map, trailer), and the size is its apparent size", async () => {
    const a = chunk("a");
    const b = Buffer.concat([chunk("b"), chunk("c")]);
    const p = sparseFile("f", 64 * GiB, [
      [10 * SPARSE_CHUNK, a],
      [5 * GiB, b],
    ]);
    const read = await readFileStable(p);
    expect(read.sparse).toEqual({ dataBytes: 3 * SPARSE_CHUNK });
    expect(read.size).toBe(64 * GiB);
    const expected = representation(64 * GiB, [
      [10 * SPARSE_CHUNK, a],
      [5 * GiB, b],
    ]);
    expect(read.sha256).toBe(sha(expected));
    expect(read.objectBytes).toBe(expected.length);
    expect(read.data?.equals(expected)).toBe(true);
  });

  it("gives the same representation whatever the layout: zeros written into a hole, or data not aligned to a chunk", async () => {
    const data = Buffer.from("hello, sparse world");
    const plain = sparseFile("plain", 3 * GiB, [[GiB + 100, data]]);
    // The same logical bytes, with a megabyte of zeros actually allocated before the data.
    const zeroed = sparseFile("zeroed", 3 * GiB, [
      [GiB - 1024 * 1024, Buffer.alloc(1024 * 1024)],
      [GiB + 100, data],
    ]);
    expect(fs.statSync(zeroed).blocks).toBeGreaterThan(fs.statSync(plain).blocks);
    const [one, two] = [await readFileStable(plain), await readFileStable(zeroed)];
    expect(one.sparse).toBeDefined();
    expect(two.sha256).toBe(one.sha256);
    // The chunk holding the data is kept whole, zeros around the text included.
    const kept = Buffer.alloc(SPARSE_CHUNK);
    data.copy(kept, (GiB + 100) % SPARSE_CHUNK);
    expect(one.sha256).toBe(sha(representation(3 * GiB, [[GiB, kept]])));
  });

  it("reads a file with less than SPARSE_MIN_HOLE_BYTES in holes as an ordinary file", async () => {
    const size = SPARSE_MIN_HOLE_BYTES - SPARSE_CHUNK;
    const p = sparseFile("f", size, [[0, chunk("x")]]);
    const read = await readFileStable(p);
    expect(read.sparse).toBeUndefined();
    const logical = Buffer.alloc(size);
    chunk("x").copy(logical, 0);
    expect(read.sha256).toBe(sha(logical));
  });

  it("reads again when the file is written while it is read, and keeps only the settled version", async () => {
    const p = sparseFile("f", 8 * GiB, [[0, chunk("a")]]);
    const read = await readFileStable(p, {
      afterRead: (attempt) => {
        // A write into a hole during the first read: that read must not be the one kept.
        if (attempt === 0) sparseFileWrite(p, 4 * GiB, chunk("z"));
      },
    });
    expect(read.sparse).toEqual({ dataBytes: 2 * SPARSE_CHUNK });
    expect(read.sha256).toBe(
      sha(
        representation(8 * GiB, [
          [0, chunk("a")],
          [4 * GiB, chunk("z")],
        ]),
      ),
    );
  });
});

function sparseFileWrite(p: string, offset: number, bytes: Buffer): void {
  const fd = fs.openSync(p, "r+");
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    fs.closeSync(fd);
  }
}

describe("storing and writing back a sparse file", () => {
  function openStore(): ObjectStore {
    const store = new ObjectStore(path.join(dir, "store"));
    store.init();
    return store;
  }

  it.each([
    ["little data (kept in memory)", [[123 * SPARSE_CHUNK, randomBytes(3 * SPARSE_CHUNK)]] as [number, Buffer][]],
    [
      "more data than the small-file limit (spilled to a temp file while read)",
      [
        [0, randomBytes(SMALL_FILE_LIMIT)],
        [7 * GiB, randomBytes(SMALL_FILE_LIMIT + 5 * SPARSE_CHUNK)],
      ] as [number, Buffer][],
    ],
  ])("stores only the data of a file with %s, and writes it back with the same bytes at the same offsets and its holes as holes", async (_label, pieces) => {
    const size = 16 * GiB;
    const source = sparseFile("source", size, pieces);
    const store = openStore();
    const stored = await store.putFile(source);
    const dataBytes = pieces.reduce((sum, [, bytes]) => sum + bytes.length, 0);
    expect(stored.sparse).toEqual({ dataBytes });
    expect(store.objectSize(stored.sha256)).toBe(stored.size);
    expect(stored.size).toBeLessThan(dataBytes + 1024);
    expect(await store.verifyObject(stored.sha256)).toBe("ok");

    const dest = path.join(dir, "restored");
    await store.materialize(stored.sha256, dest, 0o640, { sparse: true });
    const st = fs.statSync(dest);
    expect(st.size).toBe(size);
    expect(st.mode & 0o7777).toBe(0o640);
    expect(st.blocks * 512).toBeLessThan(dataBytes + 64 * 1024);
    for (const [offset, bytes] of pieces) expect(readAt(dest, offset, bytes.length).equals(bytes)).toBe(true);
    expect(readAt(dest, 3 * GiB, SPARSE_CHUNK).equals(Buffer.alloc(SPARSE_CHUNK))).toBe(true);
    expect(readAt(dest, size - 10, 10).equals(Buffer.alloc(10))).toBe(true);
    // Read again, the copy is the same content: the same object.
    expect((await readFileStable(dest)).sha256).toBe(stored.sha256);
  });

  it("refuses a damaged representation and leaves nothing at the destination", async () => {
    const store = openStore();
    const stored = await store.putFile(sparseFile("source", 4 * GiB, [[GiB, chunk("q")]]));
    const objectPath = store.locate(stored.sha256)?.path as string;
    fs.chmodSync(objectPath, 0o600);
    const bytes = fs.readFileSync(objectPath);
    bytes[0] = 0x21;
    fs.writeFileSync(objectPath, bytes);
    const dest = path.join(dir, "restored");
    await expect(store.materialize(stored.sha256, dest, 0o644, { sparse: true })).rejects.toThrow(IntegrityError);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it("refuses an object that is not a sparse representation at all (corrupt), leaving nothing behind", async () => {
    const store = openStore();
    const plain = path.join(dir, "plain");
    fs.writeFileSync(plain, "just some text\n");
    const stored = await store.putFile(plain);
    const dest = path.join(dir, "restored");
    const failure = await store.materialize(stored.sha256, dest, 0o644, { sparse: true }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(IntegrityError);
    expect((failure as IntegrityError).details).toMatchObject({ sha256: stored.sha256, state: "corrupt" });
    expect(fs.existsSync(dest)).toBe(false);
  });

  it("keeps a representation as it is even when its data would compress", async () => {
    const store = openStore();
    const pieces: [number, Buffer][] = [
      [GiB, Buffer.concat([chunk("a"), chunk("b"), chunk("c")])],
      [3 * GiB, Buffer.concat(Array.from({ length: 100 }, (_, i) => chunk(String.fromCharCode(97 + (i % 26)))))],
    ];
    const stored = await store.putFile(sparseFile("source", 4 * GiB, pieces));
    expect(stored.sparse).toBeDefined();
    expect(store.locate(stored.sha256)?.compressed).toBe(false);
  });

  it("writes a representation back with its holes when the same bytes were stored compressed (as an ordinary file's content)", async () => {
    const store = openStore();
    const size = 2 * GiB;
    const pieces: [number, Buffer][] = [
      [SPARSE_CHUNK, chunk("x")],
      [GiB, Buffer.concat([chunk("y"), chunk("z")])],
    ];
    const bytes = representation(size, pieces);
    const plain = store.putBuffer(bytes);
    expect(store.locate(plain.sha256)?.compressed).toBe(true);
    const stored = await store.putFile(sparseFile("source", size, pieces));
    expect(stored).toMatchObject({ sha256: plain.sha256, written: false });

    const dest = path.join(dir, "restored");
    await store.materialize(stored.sha256, dest, 0o600, { sparse: true });
    const st = fs.statSync(dest);
    expect(st.size).toBe(size);
    expect(st.blocks * 512).toBeLessThan(64 * 1024);
    for (const [offset, data] of pieces) expect(readAt(dest, offset, data.length).equals(data)).toBe(true);
    expect(readAt(dest, 2 * SPARSE_CHUNK, SPARSE_CHUNK).equals(Buffer.alloc(SPARSE_CHUNK))).toBe(true);
    expect(fs.readdirSync(path.join(store.dir, "tmp"))).toEqual([]);
  });
});
