import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { IntegrityError, InvalidInputError, NotFoundError, OperationFailedError, InsufficientStorageError, UnstableFileError } from "../errors";
import { ObjectStore, sha256Hex } from "./object-store";

const sha = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

let work: string;
let store: ObjectStore;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-store-"));
  store = new ObjectStore(path.join(work, "store"));
  store.init();
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(work, { recursive: true, force: true });
});

function file(name: string, content: Buffer | string): string {
  const p = path.join(work, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  return p;
}
const tmpEntries = () => fs.readdirSync(path.join(store.dir, "tmp"));
/** The file an object is stored in (either form). */
function storedFile(sha256: string): string {
  const located = store.locate(sha256);
  if (!located) throw new Error(`object ${sha256} is not stored`);
  return located.path;
}
/** Objects are read-only; a test that corrupts one has to make it writable first. */
function corrupt(sha256: string, mutate: (bytes: Buffer) => Buffer = flipFirstByte): void {
  const p = storedFile(sha256);
  fs.chmodSync(p, 0o644);
  fs.writeFileSync(p, mutate(fs.readFileSync(p)));
}
function flipFirstByte(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  copy[0] = (copy[0] ?? 0) ^ 0xff;
  return copy;
}

describe("layout", () => {
  it("init creates objects/, tmp/ and snapshots/, and can run again", () => {
    for (const sub of ["objects", "tmp", "snapshots"]) expect(fs.statSync(path.join(store.dir, sub)).isDirectory()).toBe(true);
    expect(() => store.init()).not.toThrow();
  });

  it("names an object by its sha256 under a two-character fan-out directory", () => {
    const id = store.putBuffer("x").sha256;
    expect(id).toBe(sha256Hex("x"));
    expect(store.locate(id)).toEqual({ path: path.join(path.resolve(store.dir), "objects", id.slice(0, 2), id), compressed: false });
  });

  it("refuses anything that is not a sha256 as an object name", () => {
    for (const bad of ["", "../../etc/passwd", "A".repeat(64), `${"a".repeat(63)}/`]) {
      expect(() => store.locate(bad)).toThrow(InvalidInputError);
      expect(() => store.has(bad)).toThrow(InvalidInputError);
    }
  });
});

describe("putFile", () => {
  it("stores a file and names it by its sha256", async () => {
    const p = file("a.txt", "hello world\n");
    const result = await store.putFile(p);
    expect(result).toMatchObject({ sha256: sha("hello world\n"), size: 12, written: true });
    expect(store.has(result.sha256)).toBe(true);
    expect(fs.readFileSync(storedFile(result.sha256), "utf8")).toBe("hello world\n");
  });

  it("makes stored objects read-only", async () => {
    const { sha256 } = await store.putFile(file("a", "content"));
    expect(fs.statSync(storedFile(sha256)).mode & 0o777).toBe(0o400);
  });

  it("stores identical content once (dedup: written is false the second time)", async () => {
    const first = await store.putFile(file("one/a.txt", "same bytes"));
    const second = await store.putFile(file("two/b.txt", "same bytes"));
    expect(second).toMatchObject({ sha256: first.sha256, size: first.size, written: false });
    expect(store.stats()).toEqual({ objects: 1, bytes: 10 });
    expect(tmpEntries()).toEqual([]);
  });

  it("stores a 0-byte file", async () => {
    const result = await store.putFile(file("empty", ""));
    expect(result).toMatchObject({ sha256: sha(""), size: 0, written: true });
    expect(fs.statSync(storedFile(result.sha256)).size).toBe(0);
  });

  it("stores binary content byte for byte", async () => {
    const content = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(10_000)]);
    const result = await store.putFile(file("blob.bin", content));
    expect(result.sha256).toBe(sha(content));
    expect(fs.readFileSync(storedFile(result.sha256)).equals(content)).toBe(true);
  });

  it("hashes a file larger than its read buffer (5 MB) identically to crypto over the whole content", async () => {
    const content = randomBytes(5 * 1024 * 1024 + 17);
    const result = await store.putFile(file("big.bin", content));
    expect(result).toMatchObject({ sha256: sha(content), size: content.length, written: true });
    expect(fs.readFileSync(storedFile(result.sha256)).equals(content)).toBe(true);
    expect(tmpEntries()).toEqual([]);

    const again = await store.putFile(file("big-copy.bin", content));
    expect(again.written).toBe(false);
    expect(tmpEntries()).toEqual([]);
  });

  it("returns the fstat of the file it read", async () => {
    const p = file("script.sh", "#!/bin/sh\n");
    fs.chmodSync(p, 0o755);
    const st = fs.statSync(p);
    const { stat } = await store.putFile(p, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });
    expect(stat).toEqual({ size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode });
    expect(stat.mode & 0o7777).toBe(0o755);
  });

  it("refuses a symlink path, naming it, and stores nothing", async () => {
    const target = file("secret", "do not store me");
    const link = path.join(work, "link");
    fs.symlinkSync(target, link);
    const error = await store.putFile(link).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect((error as Error).message).toContain(link);
    expect(store.has(sha("do not store me"))).toBe(false);
  });

  it("stores the file the path names now when it was replaced since the caller's lstat (an atomic save), never the old one", async () => {
    const p = file("f", "scanned");
    const st = fs.statSync(p);
    fs.linkSync(p, path.join(work, "f.old"));
    fs.renameSync(file("f.new", "swapped in"), p);
    const result = await store.putFile(p, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });
    expect(result.sha256).toBe(sha("swapped in"));
    expect(store.has(sha("scanned"))).toBe(false);
    expect(store.stats().objects).toBe(1);
  });

  it("names the path of a file that does not exist, and leaves no tmp file", async () => {
    const missing = path.join(work, "missing.txt");
    const error = await store.putFile(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toContain(missing);
    expect(tmpEntries()).toEqual([]);
  });

  it("stores many files in parallel, and the same content written concurrently exactly once", async () => {
    const distinct = Array.from({ length: 40 }, (_, i) => file(`d/${i}`, `content ${i}`));
    const duplicates = Array.from({ length: 16 }, (_, i) => file(`dup/${i}`, "the same everywhere"));
    const bigDuplicates = Array.from({ length: 4 }, (_, i) => file(`bigdup/${i}`, Buffer.alloc(2 * 1024 * 1024, 7)));
    const results = await Promise.all([...distinct, ...duplicates, ...bigDuplicates].map((p) => store.putFile(p)));
    expect(results.slice(0, 40).every((r) => r.written)).toBe(true);
    expect(results.slice(40, 56).filter((r) => r.written)).toHaveLength(1);
    expect(results.slice(56).filter((r) => r.written)).toHaveLength(1);
    expect(store.stats().objects).toBe(42);
    expect(tmpEntries()).toEqual([]);
  });
});

describe("a file that changes while it is read", () => {
  it("is detected, read again (twice: it is racily clean), and stored as its settled content", async () => {
    const p = file("live.log", "line 1\n");
    const attempts: number[] = [];
    const changing = new ObjectStore(store.dir, {
      afterReadForTests: (_path, attempt) => {
        attempts.push(attempt);
        if (attempt === 0) fs.appendFileSync(p, "line 2\n");
      },
    });
    const result = await changing.putFile(p);
    expect(attempts).toEqual([0, 1, 2]);
    expect(result.sha256).toBe(sha("line 1\nline 2\n"));
    expect(store.has(sha("line 1\n"))).toBe(false);
  });

  it("fails with UnstableFileError naming the path when it keeps changing, leaving no object and no tmp file", async () => {
    for (const [name, content] of [
      ["small", Buffer.from("x")],
      ["large", randomBytes(3 * 1024 * 1024)],
    ] as const) {
      const p = file(name, content);
      const changing = new ObjectStore(store.dir, { afterReadForTests: () => fs.appendFileSync(p, "more") });
      const error = await changing.putFile(p).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnstableFileError);
      expect((error as Error).message).toContain(p);
      expect((error as Error).message).toMatch(/kept changing while being read/);
    }
    expect(store.stats().objects).toBe(0);
    expect(tmpEntries()).toEqual([]);
  });
});

describe("write failures", () => {
  it("reports a full disk clearly, naming the file, and removes the tmp file", async () => {
    const p = file("a.txt", "will not fit");
    vi.spyOn(fs, "renameSync").mockImplementationOnce(() => {
      throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
    });
    const error = await store.putFile(p).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InsufficientStorageError);
    expect((error as Error).message).toMatch(/no space left/);
    // Names both the store file being written and the workspace file being stored.
    expect((error as Error).message).toContain(path.join(store.dir, "objects", sha("will not fit").slice(0, 2), sha("will not fit")));
    expect((error as Error).message).toContain(p);
    expect(tmpEntries()).toEqual([]);
    expect(store.has(sha("will not fit"))).toBe(false);
  });

  it("removes the tmp file of a large file that fails while being written", async () => {
    const p = file("big", randomBytes(2 * 1024 * 1024));
    vi.spyOn(fs, "renameSync").mockImplementationOnce(() => {
      throw Object.assign(new Error("EIO: i/o error"), { code: "EIO" });
    });
    await expect(store.putFile(p)).rejects.toThrow(p);
    expect(tmpEntries()).toEqual([]);
  });
});

describe("putBuffer", () => {
  it("stores a string as UTF-8 or a Buffer, synchronously, named by sha256Hex", () => {
    const manifest = '{"version":1,"entries":["é"]}\n';
    const result = store.putBuffer(manifest);
    expect(result).toEqual({ sha256: sha256Hex(manifest), size: Buffer.byteLength(manifest), written: true });
    expect(store.readBuffer(result.sha256).toString("utf8")).toBe(manifest);
    expect(store.putBuffer(Buffer.from(manifest))).toEqual({ ...result, written: false });
    expect(fs.statSync(storedFile(result.sha256)).mode & 0o777).toBe(0o400);
    expect(tmpEntries()).toEqual([]);
  });

  it("shares objects with putFile", async () => {
    const { sha256 } = await store.putFile(file("f", "shared"));
    expect(store.putBuffer("shared")).toEqual({ sha256, size: 6, written: false });
  });
});

describe("readBuffer", () => {
  it("returns the stored bytes", () => {
    const { sha256 } = store.putBuffer("payload");
    expect(store.readBuffer(sha256).toString()).toBe("payload");
    expect(store.readBuffer(sha256, { verify: true }).toString()).toBe("payload");
  });

  it("with verify, throws IntegrityError on a corrupted object", () => {
    const { sha256 } = store.putBuffer("payload");
    corrupt(sha256);
    expect(() => store.readBuffer(sha256, { verify: true })).toThrow(IntegrityError);
    try {
      store.readBuffer(sha256, { verify: true });
    } catch (error) {
      expect((error as IntegrityError).details).toMatchObject({ sha256, state: "corrupt" });
      expect((error as IntegrityError).code).toBe("INTEGRITY");
    }
    // Without verify the bytes come back as they are.
    expect(store.readBuffer(sha256)).toHaveLength(7);
  });

  it("throws IntegrityError (missing) for an object that is not there", () => {
    const absent = sha256Hex("absent");
    expect(() => store.readBuffer(absent)).toThrow(IntegrityError);
    try {
      store.readBuffer(absent);
    } catch (error) {
      expect((error as IntegrityError).details).toMatchObject({ sha256: absent, state: "missing" });
    }
  });
});

describe("verifyObject", () => {
  it("reports ok, corrupt and missing", async () => {
    const small = store.putBuffer("small").sha256;
    const large = (await store.putFile(file("large", randomBytes(3 * 1024 * 1024)))).sha256;
    const truncated = store.putBuffer("to be truncated").sha256;
    expect(await store.verifyObject(small)).toBe("ok");
    expect(await store.verifyObject(large)).toBe("ok");

    corrupt(small);
    corrupt(large, (bytes) => {
      const copy = Buffer.from(bytes);
      copy[copy.length - 1] = (copy[copy.length - 1] ?? 0) ^ 1;
      return copy;
    });
    corrupt(truncated, (bytes) => bytes.subarray(0, 3));
    expect(await store.verifyObject(small)).toBe("corrupt");
    expect(await store.verifyObject(large)).toBe("corrupt");
    expect(await store.verifyObject(truncated)).toBe("corrupt");

    store.deleteObject(small);
    expect(await store.verifyObject(small)).toBe("missing");
    expect(await store.verifyObject(sha256Hex("never stored"))).toBe("missing");
  });
});

describe("materialize", () => {
  it("writes the exact bytes with the given mode", async () => {
    const content = randomBytes(2 * 1024 * 1024 + 5);
    const { sha256 } = await store.putFile(file("src", content));
    const dest = path.join(work, "restore", ".tmp-src");
    fs.mkdirSync(path.dirname(dest));
    await store.materialize(sha256, dest, 0o750);
    expect(fs.readFileSync(dest).equals(content)).toBe(true);
    expect(fs.statSync(dest).mode & 0o7777).toBe(0o750);
  });

  it("refuses a corrupt object, leaving no file at the destination", async () => {
    const { sha256 } = store.putBuffer("original");
    corrupt(sha256);
    const dest = path.join(work, ".tmp-restore");
    await expect(store.materialize(sha256, dest, 0o644)).rejects.toBeInstanceOf(IntegrityError);
    expect(fs.existsSync(dest)).toBe(false);
  });

  it("refuses a missing object", async () => {
    const dest = path.join(work, ".tmp-restore");
    const error = await store.materialize(sha256Hex("gone"), dest, 0o644).catch((e: unknown) => e);
    expect((error as IntegrityError).details).toMatchObject({ state: "missing" });
    expect(fs.existsSync(dest)).toBe(false);
  });
});

describe("deleteObject, listObjects, stats", () => {
  it("lists what is stored with sizes, and deletes objects", async () => {
    const a = store.putBuffer("aaa").sha256;
    const b = (await store.putFile(file("b", "bbbbb"))).sha256;
    // Foreign files in objects/ are not objects.
    fs.writeFileSync(path.join(store.dir, "objects", "README"), "x");
    fs.mkdirSync(path.join(store.dir, "objects", a.slice(0, 2)), { recursive: true });
    fs.writeFileSync(path.join(store.dir, "objects", a.slice(0, 2), "not-an-object"), "x");

    const listed = [...store.listObjects()];
    expect(listed).toEqual([{ sha256: a, size: 3 }, { sha256: b, size: 5 }].sort((x, y) => x.sha256.localeCompare(y.sha256)));
    expect(store.stats()).toEqual({ objects: 2, bytes: 8 });

    expect(store.deleteObject(a)).toBe(true);
    expect(store.has(a)).toBe(false);
    expect(store.deleteObject(a)).toBe(false);
    expect(store.stats()).toEqual({ objects: 1, bytes: 5 });
  });

  it("stores an object again after it was deleted", async () => {
    const p = file("f", "comes back");
    const first = await store.putFile(p);
    store.deleteObject(first.sha256);
    expect((await store.putFile(p)).written).toBe(true);
    expect(store.has(first.sha256)).toBe(true);
  });

  it("lists nothing for a store that was never initialised", () => {
    const empty = new ObjectStore(path.join(work, "nothing-here"));
    expect([...empty.listObjects()]).toEqual([]);
    expect(empty.stats()).toEqual({ objects: 0, bytes: 0 });
    expect(empty.cleanTmp(0)).toBe(0);
  });
});

describe("cleanTmp", () => {
  it("removes tmp leftovers older than the given age and keeps fresh ones", () => {
    const tmp = path.join(store.dir, "tmp");
    const old = path.join(tmp, "crashed-write");
    fs.writeFileSync(old, "partial");
    const past = new Date(Date.now() - 2 * 60 * 60 * 1000);
    fs.utimesSync(old, past, past);
    fs.writeFileSync(path.join(tmp, "in-progress"), "partial");

    expect(store.cleanTmp(60 * 60 * 1000)).toBe(1);
    expect(tmpEntries()).toEqual(["in-progress"]);
    expect(store.cleanTmp(0)).toBe(1);
    expect(tmpEntries()).toEqual([]);
  });
});

describe("syncDirectories", () => {
  it("can be called any time, including with nothing pending", async () => {
    expect(() => store.syncDirectories()).not.toThrow();
    await store.putFile(file("f", "x"));
    expect(() => store.syncDirectories()).not.toThrow();
  });

  it("syncs every fan-out directory written since the last barrier when several go at once, and tolerates one removed meanwhile", async () => {
    const shas: string[] = [];
    for (let i = 0; i < 40; i++) shas.push((await store.putFile(file(`g${i}`, `object ${i}`))).sha256);
    const gone = path.join(store.dir, "objects", (shas[0] as string).slice(0, 2));
    fs.rmSync(gone, { recursive: true });
    await expect(store.syncDirectoriesConcurrently()).resolves.toBeUndefined();
    await expect(store.syncDirectoriesConcurrently()).resolves.toBeUndefined();
    for (const sha of shas.slice(1)) if (!sha.startsWith(path.basename(gone))) expect(await store.verifyObject(sha)).toBe("ok");
  });
});

/** Text that compresses well (source-like lines), `bytes` long. */
function text(bytes: number, seed = "line"): Buffer {
  const lines: string[] = [];
  for (let i = 0, length = 0; length < bytes; i++) {
    const line = `export const ${seed}${i % 97} = compute(${i}, "${seed}-${i % 13}");\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join("")).subarray(0, bytes);
}
/** Writes `content` as the raw object an earlier release would have stored (0400, no compression). */
function legacyObject(content: Buffer): string {
  const sha256 = sha(content);
  const dir = path.join(store.dir, "objects", sha256.slice(0, 2));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, sha256), content, { mode: 0o400 });
  return sha256;
}
const objectFiles = () => fs.readdirSync(path.join(store.dir, "objects"), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort();
async function materialized(sha256: string): Promise<Buffer> {
  const dest = path.join(work, "out", `${sha256}-${randomBytes(4).toString("hex")}`);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  await store.materialize(sha256, dest, 0o644);
  return fs.readFileSync(dest);
}
async function streamed(sha256: string): Promise<Buffer> {
  const content = await store.openContent(sha256);
  const parts: Buffer[] = [];
  try {
    for await (const chunk of content.chunks) parts.push(Buffer.from(chunk));
  } finally {
    await content.close();
  }
  return Buffer.concat(parts);
}
async function integrityState(op: () => unknown): Promise<unknown> {
  try {
    await op();
  } catch (error) {
    if (error instanceof IntegrityError) return error.details.state;
    throw error;
  }
  return "ok";
}

describe("compressed objects", () => {
  it("stores compressible content compressed, named by the sha256 of the content, and every reader gets the content back", async () => {
    const content = text(64 * 1024);
    const result = await store.putFile(file("src/module.ts", content));
    expect(result).toMatchObject({ sha256: sha(content), size: content.length, written: true });
    const located = store.locate(result.sha256);
    expect(located).toEqual({ path: path.join(path.resolve(store.dir), "objects", result.sha256.slice(0, 2), `${result.sha256}.z`), compressed: true });
    const onDisk = fs.statSync(located?.path as string);
    expect(onDisk.size).toBeLessThan(content.length / 4);
    expect(onDisk.mode & 0o777).toBe(0o400);
    expect(store.has(result.sha256)).toBe(true);
    expect(store.objectSize(result.sha256)).toBe(content.length);
    expect(store.storedSize(result.sha256)).toBe(onDisk.size);
    expect(store.stats()).toEqual({ objects: 1, bytes: onDisk.size });
    expect([...store.listObjects()]).toEqual([{ sha256: result.sha256, size: onDisk.size }]);
    expect(store.readBuffer(result.sha256, { verify: true }).equals(content)).toBe(true);
    expect(await store.verifyObject(result.sha256)).toBe("ok");
    expect((await materialized(result.sha256)).equals(content)).toBe(true);
    expect((await streamed(result.sha256)).equals(content)).toBe(true);
    expect(await store.withObjectFile(result.sha256, async (f) => fs.readFileSync(f))).toEqual(content);
    expect(tmpEntries()).toEqual([]);
  });

  it("putBuffer compresses too, and readBuffer gives back the content, verified", () => {
    const manifest = Buffer.from(JSON.stringify({ entries: Array.from({ length: 500 }, (_, i) => ({ path: `src/file-${i}.ts`, mode: 420, size: i })) }));
    const result = store.putBuffer(manifest);
    expect(result).toEqual({ sha256: sha(manifest), size: manifest.length, written: true });
    expect(store.locate(result.sha256)?.compressed).toBe(true);
    expect(store.readBuffer(result.sha256).equals(manifest)).toBe(true);
    expect(store.readBuffer(result.sha256, { verify: true }).equals(manifest)).toBe(true);
    expect(store.putBuffer(manifest)).toEqual({ ...result, written: false });
  });

  it("compresses a large file as it streams, and inflates it as it streams", async () => {
    const content = text(5 * 1024 * 1024 + 3);
    const result = await store.putFile(file("big.log", content));
    expect(store.locate(result.sha256)?.compressed).toBe(true);
    expect(store.storedSize(result.sha256)).toBeLessThan(content.length / 4);
    expect(store.objectSize(result.sha256)).toBe(content.length);
    expect(await store.verifyObject(result.sha256)).toBe("ok");
    expect((await materialized(result.sha256)).equals(content)).toBe(true);
    expect((await streamed(result.sha256)).equals(content)).toBe(true);
    expect(tmpEntries()).toEqual([]);
  });

  it.each([
    ["content that fits one file-system block", text(3000)],
    ["random bytes", randomBytes(64 * 1024)],
    ["content that is already compressed", zlib.gzipSync(randomBytes(40 * 1024).toString("base64"))],
    ["a large file of random bytes", randomBytes(3 * 1024 * 1024)],
  ])("keeps %s raw", async (_label, content) => {
    const result = await store.putFile(file("f", content));
    expect(store.locate(result.sha256)).toMatchObject({ compressed: false });
    expect(fs.readFileSync(storedFile(result.sha256)).equals(content)).toBe(true);
    expect(tmpEntries()).toEqual([]);
  });

  it("reads, verifies, materializes, lists and deletes a raw object an earlier release wrote, and stores nothing more for its content", async () => {
    const content = text(20_000);
    const sha256 = legacyObject(content);
    expect(store.has(sha256)).toBe(true);
    expect(store.locate(sha256)?.compressed).toBe(false);
    expect(store.readBuffer(sha256, { verify: true }).equals(content)).toBe(true);
    expect(await store.verifyObject(sha256)).toBe("ok");
    expect((await materialized(sha256)).equals(content)).toBe(true);
    expect((await streamed(sha256)).equals(content)).toBe(true);
    expect(await store.withObjectFile(sha256, async (f) => f)).toBe(storedFile(sha256));
    expect(store.objectSize(sha256)).toBe(content.length);
    // The same content put again, by every way in: already stored, nothing written.
    expect((await store.putFile(file("again.ts", content))).written).toBe(false);
    expect(store.putBuffer(content).written).toBe(false);
    const batch = store.createBatch();
    expect((await store.putFile(file("batched.ts", content), undefined, batch)).written).toBe(false);
    await batch.commit();
    expect(objectFiles()).toEqual([sha256]);
    expect(store.stats()).toEqual({ objects: 1, bytes: content.length });
    expect(store.deleteObject(sha256)).toBe(true);
    expect(store.has(sha256)).toBe(false);
  });

  it("writes nothing for content already stored compressed", async () => {
    const content = text(30_000);
    const { sha256 } = store.putBuffer(content);
    expect(objectFiles()).toEqual([`${sha256}.z`]);
    expect((await store.putFile(file("same.ts", content))).written).toBe(false);
    const dump = path.join(store.dir, "tmp", "dump");
    fs.writeFileSync(dump, content);
    expect((await store.adoptTmpFile(dump)).written).toBe(false);
    expect(objectFiles()).toEqual([`${sha256}.z`]);
    expect(tmpEntries()).toEqual([]);
  });

  it("counts an object stored in both forms once, with both files' bytes, and deletes both", async () => {
    const content = text(30_000);
    const { sha256 } = store.putBuffer(content);
    const compressedBytes = store.storedSize(sha256) as number;
    legacyObject(content);
    expect(objectFiles()).toEqual([sha256, `${sha256}.z`]);
    expect([...store.listObjects()]).toEqual([{ sha256, size: content.length + compressedBytes }]);
    expect(store.stats()).toEqual({ objects: 1, bytes: content.length + compressedBytes });
    expect(store.readBuffer(sha256, { verify: true }).equals(content)).toBe(true);
    expect(store.deleteObject(sha256)).toBe(true);
    expect(objectFiles()).toEqual([]);
  });

  it("stores the same content put concurrently exactly once, small and large, directly and in a batch", async () => {
    const small = text(50_000, "small");
    const large = text(3 * 1024 * 1024, "large");
    const paths = [...Array.from({ length: 12 }, (_, i) => file(`s/${i}`, small)), ...Array.from({ length: 4 }, (_, i) => file(`l/${i}`, large))];
    const results = await Promise.all(paths.map((p) => store.putFile(p)));
    expect(results.slice(0, 12).filter((r) => r.written)).toHaveLength(1);
    expect(results.slice(12).filter((r) => r.written)).toHaveLength(1);
    expect(objectFiles()).toEqual([`${sha(small)}.z`, `${sha(large)}.z`].sort());

    const other = text(40_000, "other");
    const batch = store.createBatch();
    const batched = await Promise.all(Array.from({ length: 8 }, (_, i) => store.putFile(file(`b/${i}`, other), undefined, batch)));
    await batch.commit();
    expect(batched.filter((r) => r.written)).toHaveLength(1);
    expect(store.locate(sha(other))?.compressed).toBe(true);
    expect(store.readBuffer(sha(other), { verify: true }).equals(other)).toBe(true);
    expect(tmpEntries()).toEqual([]);
  });

  describe.each([
    ["small", () => text(40_000)],
    ["large", () => text(3 * 1024 * 1024 + 11)],
  ])("a damaged %s compressed object", (_size, make) => {
    const cases: [string, (bytes: Buffer) => Buffer][] = [
      [
        "with a byte flipped in its stream",
        (bytes) => {
          const copy = Buffer.from(bytes);
          const at = Math.floor(bytes.length / 2);
          copy[at] = (copy[at] as number) ^ 0x5a;
          return copy;
        },
      ],
      ["cut short", (bytes) => bytes.subarray(0, bytes.length - 7)],
      ["with a header that gives another length", (bytes) => Buffer.concat([bytes.subarray(0, 8), Buffer.from([0, 0, 0, 0, 0, 0, 0x10, 0]), bytes.subarray(16)])],
      [
        "with a header one byte longer than its content",
        (bytes) => {
          const copy = Buffer.from(bytes);
          copy.writeBigUInt64BE(copy.readBigUInt64BE(8) + 1n, 8);
          return copy;
        },
      ],
      ["with bytes after its stream", (bytes) => Buffer.concat([bytes, Buffer.from("appended")])],
      ["with its header overwritten", flipFirstByte],
      ["emptied", () => Buffer.alloc(0)],
    ];
    it.each(cases)("%s is corrupt to every reader, which names it", async (_what, mutate) => {
      const content = make();
      const { sha256 } = await store.putFile(file("victim", content));
      const objectPath = storedFile(sha256);
      expect(objectPath.endsWith(".z")).toBe(true);
      corrupt(sha256, mutate);
      expect(await store.verifyObject(sha256)).toBe("corrupt");
      expect(await integrityState(() => store.readBuffer(sha256, { verify: true }))).toBe("corrupt");
      expect(await integrityState(() => materialized(sha256))).toBe("corrupt");
      expect(await integrityState(async () => (await streamed(sha256)).equals(content) || Promise.reject(new IntegrityError("differs", { state: "corrupt" })))).toBe("corrupt");
      expect(await integrityState(() => store.withObjectFile(sha256, async () => undefined))).toBe("corrupt");
      const error = await store.materialize(sha256, path.join(work, "dest"), 0o644).catch((e: unknown) => e);
      expect((error as IntegrityError).details).toMatchObject({ sha256, state: "corrupt", path: objectPath });
      expect((error as Error).message).toContain(sha256);
      expect(fs.existsSync(path.join(work, "dest"))).toBe(false);
      expect(tmpEntries()).toEqual([]);
    });
  });

  it("reports a compressed object that is gone as missing", async () => {
    const { sha256 } = store.putBuffer(text(20_000));
    fs.rmSync(storedFile(sha256));
    expect(await store.verifyObject(sha256)).toBe("missing");
    expect(await integrityState(() => store.readBuffer(sha256))).toBe("missing");
    expect(await integrityState(() => materialized(sha256))).toBe("missing");
    expect(await integrityState(() => store.openContent(sha256))).toBe("missing");
    expect(store.objectSize(sha256)).toBeNull();
    expect(store.objectMtimeMs(sha256)).toBeNull();
  });

  it("adoptTmpFile compresses a dump where it pays, and keeps it raw when told to or when it does not pay", async () => {
    const dump = (name: string, content: Buffer) => {
      const p = path.join(store.dir, "tmp", name);
      fs.writeFileSync(p, content, { mode: 0o600 });
      return p;
    };
    const sqlite = text(2 * 1024 * 1024, "row");
    const a = await store.adoptTmpFile(dump("a", sqlite));
    expect(a).toMatchObject({ sha256: sha(sqlite), size: sqlite.length, written: true });
    expect(store.locate(a.sha256)?.compressed).toBe(true);
    expect(store.readBuffer(a.sha256, { verify: true }).equals(sqlite)).toBe(true);

    const custom = text(200_000, "toc");
    const b = await store.adoptTmpFile(dump("b", custom), { compress: false });
    expect(store.locate(b.sha256)?.compressed).toBe(false);

    const random = randomBytes(300_000);
    const c = await store.adoptTmpFile(dump("c", random));
    expect(store.locate(c.sha256)?.compressed).toBe(false);
    expect(fs.statSync(storedFile(c.sha256)).mode & 0o777).toBe(0o400);
    expect(tmpEntries()).toEqual([]);
  });

  it("withObjectFile hands a compressed object's content as a private temp file, removed afterwards even when the reader fails", async () => {
    const content = text(100_000);
    const { sha256 } = store.putBuffer(content);
    let seen = "";
    await expect(
      store.withObjectFile(sha256, async (f) => {
        seen = f;
        expect(path.dirname(f)).toBe(path.join(path.resolve(store.dir), "tmp"));
        expect(fs.statSync(f).mode & 0o777).toBe(0o600);
        expect(fs.readFileSync(f).equals(content)).toBe(true);
        throw new Error("reader failed");
      }),
    ).rejects.toThrow("reader failed");
    expect(fs.existsSync(seen)).toBe(false);
    expect(tmpEntries()).toEqual([]);
  });
});
