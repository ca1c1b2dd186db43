import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fsyncDirectory, fsyncDirectorySync, removeQuietly, removeQuietlySync, writeNewFile, writeNewFileSync } from "./atomic-write";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-atomic-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe.each([
  ["writeNewFile", (p: string, data: Buffer, mode: number) => writeNewFile(p, data, mode)],
  ["writeNewFileSync", async (p: string, data: Buffer, mode: number) => writeNewFileSync(p, data, mode)],
])("%s", (_name, write) => {
  it("creates the file with exactly the given content and a read-only mode", async () => {
    const target = path.join(dir, "new");
    const data = Buffer.from([0, 1, 2, 255, 254]);
    await write(target, data, 0o444);
    expect(fs.readFileSync(target)).toEqual(data);
    expect(fs.statSync(target).mode & 0o777).toBe(0o444);
  });

  it("never replaces an existing file", async () => {
    const target = path.join(dir, "existing");
    fs.writeFileSync(target, "original");
    await expect(write(target, Buffer.from("new"), 0o444)).rejects.toMatchObject({ code: "EEXIST" });
    expect(fs.readFileSync(target, "utf8")).toBe("original");
  });

  it("never writes through a symlink at the path", async () => {
    const victim = path.join(dir, "victim");
    fs.writeFileSync(victim, "untouched");
    const link = path.join(dir, "link");
    fs.symlinkSync(victim, link);
    await expect(write(link, Buffer.from("evil"), 0o644)).rejects.toMatchObject({ code: "EEXIST" });
    expect(fs.readFileSync(victim, "utf8")).toBe("untouched");
  });

  it("reports a missing parent directory and leaves nothing behind", async () => {
    const target = path.join(dir, "missing-dir", "file");
    await expect(write(target, Buffer.from("x"), 0o444)).rejects.toMatchObject({ code: "ENOENT" });
    expect(fs.existsSync(target)).toBe(false);
  });
});

describe("fsyncDirectory", () => {
  it("fsyncs an existing directory (async and sync)", async () => {
    await expect(fsyncDirectory(dir)).resolves.toBeUndefined();
    expect(() => fsyncDirectorySync(dir)).not.toThrow();
  });

  it("reports a missing directory", async () => {
    await expect(fsyncDirectory(path.join(dir, "nope"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(() => fsyncDirectorySync(path.join(dir, "nope"))).toThrow(/ENOENT/);
  });
});

describe("removeQuietly", () => {
  it("removes a file and ignores one that is already gone", async () => {
    const target = path.join(dir, "f");
    fs.writeFileSync(target, "x");
    await removeQuietly(target);
    expect(fs.existsSync(target)).toBe(false);
    await expect(removeQuietly(target)).resolves.toBeUndefined();
    expect(() => removeQuietlySync(target)).not.toThrow();
  });
});
