import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
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
/** Objects are read-only; a test that corrupts one has to make it writable first. */
function corrupt(sha256: string, mutate: (bytes: Buffer) => Buffer = flipFirstByte): void {
  const p = store.objectPath(sha256);
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
    const id = sha256Hex("x");
    expect(store.objectPath(id)).toBe(path.join(path.resolve(store.dir), "objects", id.slice(0, 2), id));
  });

  it("refuses anything that is not a sha256 as an object name", () => {
    for (const bad of ["", "../../etc/passwd", "A".repeat(64), `${"a".repeat(63)}/`]) {
      expect(() => store.objectPath(bad)).toThrow(InvalidInputError);
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
    expect(fs.readFileSync(store.objectPath(result.sha256), "utf8")).toBe("hello world\n");
  });

  it("makes stored objects read-only", async () => {
    const { sha256 } = await store.putFile(file("a", "content"));
    expect(fs.statSync(store.objectPath(sha256)).mode & 0o777).toBe(0o400);
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
    expect(fs.statSync(store.objectPath(result.sha256)).size).toBe(0);
  });

  it("stores binary content byte for byte", async () => {
    const content = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(10_000)]);
    const result = await store.putFile(file("blob.bin", content));
    expect(result.sha256).toBe(sha(content));
    expect(fs.readFileSync(store.objectPath(result.sha256)).equals(content)).toBe(true);
  });

  it("hashes a file larger than its read buffer (5 MB) identically to crypto over the whole content", async () => {
    const content = randomBytes(5 * 1024 * 1024 + 17);
    const result = await store.putFile(file("big.bin", content));
    expect(result).toMatchObject({ sha256: sha(content), size: content.length, written: true });
    expect(fs.readFileSync(store.objectPath(result.sha256)).equals(content)).toBe(true);
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
    expect((error as Error).message).toContain(store.objectPath(sha("will not fit")));
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
    expect(fs.statSync(store.objectPath(result.sha256)).mode & 0o777).toBe(0o400);
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
});
