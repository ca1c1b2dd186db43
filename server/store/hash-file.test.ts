import { createHash, randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { InvalidInputError, NotFoundError, OperationFailedError, UnstableFileError } from "../errors";
import { startInPlaceWriter, VERSION_A, versionOf } from "../../test/support/in-place-writer";
import { CHUNK_SIZE, hashFile, hashPath, MAX_READS, RACY_WINDOW_MS, readFileStable, SMALL_FILE_LIMIT } from "./hash-file";
import { RawSpill } from "./spill";

const sha = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-hash-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function file(name: string, content: Buffer | string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return p;
}

describe("hashFile", () => {
  it.each([
    ["an empty file", Buffer.alloc(0)],
    ["a small text file", Buffer.from("hello\n")],
    ["binary content", randomBytes(4096)],
    ["a file just under the small-file limit", randomBytes(SMALL_FILE_LIMIT - 1)],
    ["a file exactly at the small-file limit", randomBytes(SMALL_FILE_LIMIT)],
    ["a file of several chunks, not a multiple of the chunk size", randomBytes(5 * CHUNK_SIZE + 12345)],
  ])("hashes %s like crypto over the whole content", async (_label, content) => {
    const p = file("f", content);
    const result = await hashFile(p);
    expect(result.sha256).toBe(sha(content));
    expect(result.size).toBe(content.length);
  });

  it("returns the fstat of what was read", async () => {
    const p = file("f", "content");
    fs.chmodSync(p, 0o640);
    const st = fs.statSync(p);
    const { stat } = await hashFile(p, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });
    expect(stat).toEqual({ size: 7, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode });
    expect(stat.mode & 0o7777).toBe(0o640);
  });

  it("accepts a file whose size and mtime differ from what the scan saw, as long as it is the same inode", async () => {
    const p = file("f", "old");
    const st = fs.statSync(p);
    fs.writeFileSync(p, "newer content");
    const result = await hashFile(p, { size: st.size, mtimeMs: st.mtimeMs - 1000, ino: st.ino });
    expect(result.sha256).toBe(sha("newer content"));
    expect(result.stat.size).toBe(13);
  });

  it("refuses to follow a symlink, naming the path", async () => {
    const target = file("target", "secret");
    const link = path.join(dir, "link");
    fs.symlinkSync(target, link);
    const error = await hashFile(link).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect((error as Error).message).toContain(link);
    expect((error as Error).message).toMatch(/symbolic link/);
  });

  it("names the path of a file that does not exist", async () => {
    const missing = path.join(dir, "missing");
    const error = await hashFile(missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toContain(missing);
  });

  it("refuses a directory", async () => {
    await expect(hashFile(dir)).rejects.toBeInstanceOf(InvalidInputError);
  });

  it("does not hang on a FIFO swapped in for a scanned file", async () => {
    const p = file("f", "regular");
    const st = fs.statSync(p);
    fs.rmSync(p);
    execFileSync("mkfifo", [p]);
    const error = await hashFile(p, { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect((error as Error).message).toMatch(/changed while being read/);
    expect((error as Error).message).toContain(p);
  });

  it("reads the file the path names now when it was replaced since the scan (an atomic save), never the old one", async () => {
    const p = file("f", "one");
    const st = fs.statSync(p);
    // The old inode stays alive under another name, so the replacement cannot reuse its number.
    fs.linkSync(p, path.join(dir, "old-f"));
    fs.renameSync(file("f.new", "two"), p);
    expect(fs.statSync(p).ino).not.toBe(st.ino);
    const result = await readFileStable(p, { expected: { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino } });
    expect(result.sha256).toBe(sha("two"));
    expect(result.stat.ino).toBe(fs.statSync(p).ino);
  });

  it("records a file replaced by a directory or a symlink since the scan as unstable, never following the link", async () => {
    const p = file("f", "one");
    const st = fs.statSync(p);
    fs.rmSync(p);
    fs.symlinkSync(file("secret", "not in the component"), p);
    const error = await readFileStable(p, { expected: { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnstableFileError);
    expect((error as Error).message).toMatch(/replaced by a symbolic link/);
    fs.rmSync(p);
    fs.mkdirSync(p);
    const dirError = await readFileStable(p, { expected: { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino } }).catch((e: unknown) => e);
    expect(dirError).toBeInstanceOf(UnstableFileError);
    expect((dirError as Error).message).toMatch(/no longer a regular file/);
  });
});

describe("change detection while reading", () => {
  it("detects a file that grows during the read, reads it again, and confirms the racily clean read with a second one", async () => {
    const p = file("f", "first version");
    const attempts: number[] = [];
    const result = await readFileStable(p, {
      afterRead: (attempt) => {
        attempts.push(attempt);
        if (attempt === 0) fs.appendFileSync(p, " plus more");
      },
    });
    expect(attempts).toEqual([0, 1, 2]);
    expect(result.sha256).toBe(sha("first version plus more"));
    expect(result.data?.toString()).toBe("first version plus more");
  });

  it("reads a file changed within the racy window twice, and once it is older than that, once", async () => {
    const p = file("f", "settled");
    let reads = 0;
    const count = () => void reads++;
    await readFileStable(p, { afterRead: count });
    expect(reads).toBe(2);
    // ctime cannot be set back: wait until the file is older than the window.
    await new Promise((r) => setTimeout(r, RACY_WINDOW_MS + 100));
    reads = 0;
    const result = await readFileStable(p, { afterRead: count });
    expect(reads).toBe(1);
    expect(result.sha256).toBe(sha("settled"));
  });

  it("rejects two reads that disagree on content although fstat did not move, and reads until two agree", async () => {
    const p = file("f", "aaaa");
    const st = fs.statSync(p);
    const result = await readFileStable(p, {
      afterRead: (attempt) => {
        // Rewrite with the same size and put the times back: fstat before and after this read agree.
        if (attempt === 0) {
          const fd = fs.openSync(p, "r+");
          fs.writeSync(fd, "bbbb", 0);
          fs.futimesSync(fd, st.atime, st.mtime);
          fs.closeSync(fd);
        }
      },
    });
    expect(result.sha256).toBe(sha("bbbb"));
  });

  it("detects a same-size rewrite during the read (mtime/ctime change)", async () => {
    const p = file("f", "aaaa");
    const result = await readFileStable(p, {
      afterRead: async (attempt) => {
        if (attempt === 0) {
          await new Promise((r) => setTimeout(r, 5));
          fs.writeFileSync(p, "bbbb");
        }
      },
    });
    expect(result.sha256).toBe(sha("bbbb"));
  });

  it(`gives up after ${MAX_READS} reads that never agree with UnstableFileError naming the path`, async () => {
    const p = file("f", "x");
    let reads = 0;
    const error = await readFileStable(p, {
      afterRead: () => {
        reads++;
        fs.appendFileSync(p, "x");
      },
    }).catch((e: unknown) => e);
    expect(reads).toBe(MAX_READS);
    expect(error).toBeInstanceOf(UnstableFileError);
    expect((error as Error).message).toContain(p);
    expect((error as Error).message).toMatch(/kept changing while being read/);
  });

  it("detects a large file changing while streamed, and removes the partial copy of each attempt", async () => {
    const p = file("big", randomBytes(2 * CHUNK_SIZE + 7));
    const spillDir = fs.mkdtempSync(path.join(dir, "spill-"));
    let n = 0;
    const error = await readFileStable(p, {
      spillTo: () => RawSpill.open(path.join(spillDir, `copy-${n++}`), p),
      afterRead: () => fs.appendFileSync(p, "more"),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnstableFileError);
    expect(n).toBe(MAX_READS);
    expect(fs.readdirSync(spillDir)).toEqual([]);
  });

  it("keeps one copy of a large racily clean file: the confirming read only hashes", async () => {
    const content = randomBytes(2 * CHUNK_SIZE + 7);
    const p = file("big", content);
    const spillDir = fs.mkdtempSync(path.join(dir, "spill-"));
    let n = 0;
    const result = await readFileStable(p, { spillTo: () => RawSpill.open(path.join(spillDir, `copy-${n++}`), p) });
    expect(n).toBe(1);
    expect(result.spilled).toEqual({ path: path.join(spillDir, "copy-0"), compressed: false });
    expect(fs.readFileSync(result.spilled?.path as string).equals(content)).toBe(true);
  });
});

describe("spilling large files", () => {
  it("copies a large file to the spill path while hashing it, read-only and fdatasync'ed", async () => {
    const content = randomBytes(3 * CHUNK_SIZE + 1);
    const p = file("big", content);
    const copy = path.join(dir, "copy");
    const result = await readFileStable(p, { spillTo: () => RawSpill.open(copy, p) });
    expect(result.spilled).toEqual({ path: copy, compressed: false });
    expect(result.data).toBeUndefined();
    expect(result.sha256).toBe(sha(content));
    expect(fs.readFileSync(copy).equals(content)).toBe(true);
    expect(fs.statSync(copy).mode & 0o777).toBe(0o400);
  });

  it("keeps a small file in memory and never asks for a spill path", async () => {
    const p = file("small", "tiny");
    const result = await readFileStable(p, {
      spillTo: () => {
        throw new Error("must not be called");
      },
    });
    expect(result.spilled).toBeUndefined();
    expect(result.data?.toString()).toBe("tiny");
  });
});

describe("hashPath", () => {
  it("hashes a file by streaming, small or large", async () => {
    for (const content of [Buffer.alloc(0), Buffer.from("abc"), randomBytes(2 * CHUNK_SIZE + 3)]) {
      const p = file("f", content);
      await expect(hashPath(p)).resolves.toEqual({ sha256: sha(content), size: content.length });
    }
  });
});

describe("readFileStable under a concurrent in-place writer", () => {
  it("never returns a mix of two versions (a same-size rewrite within one clock tick)", { timeout: 60_000 }, async () => {
    const size = 1_000_000;
    const p = file("hot.bin", Buffer.alloc(size, VERSION_A));
    const writer = startInPlaceWriter(p, size, 2);
    // Also when the test times out: the writer must not outlive it.
    onTestFinished(() => void writer.kill("SIGKILL"));
    const outcomes = { whole: 0, unstable: 0, mixed: [] as string[] };
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      // A while, not a count: an unstable file takes its reads about a second, a consistent one a few milliseconds.
      const until = Date.now() + 12_000;
      while (Date.now() < until) {
        try {
          const read = await readFileStable(p);
          const version = versionOf(read.data as Buffer, size);
          if (version === "A" || version === "B") outcomes.whole++;
          else outcomes.mixed.push(version);
          expect(read.sha256).toBe(sha(read.data as Buffer));
        } catch (error) {
          if (!(error instanceof UnstableFileError)) throw error;
          outcomes.unstable++;
        }
      }
    } finally {
      writer.kill("SIGKILL");
    }
    expect(outcomes.mixed, JSON.stringify(outcomes)).toEqual([]);
  });
});
