import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { IntegrityError } from "../errors";
import { CHUNK_SIZE } from "./hash-file";
import { materializeObject, type StoredForm } from "./materialize";
import { encodeHeader } from "./object-codec";

const sha = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-materialize-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Places `content` as an object file named by `name` (its sha256 unless a test wants a lie). */
function object(content: Buffer, name = sha(content)): { stored: StoredForm; sha256: string } {
  const objectPath = path.join(dir, name);
  fs.writeFileSync(objectPath, content, { mode: 0o444 });
  return { stored: { path: objectPath, compressed: false }, sha256: name };
}

/** The compressed form of `content` (object-codec.ts), whether or not it would pay. */
function compressedForm(content: Buffer): Buffer {
  return Buffer.concat([encodeHeader(content.length), zlib.brotliCompressSync(content, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } })]);
}

/** Places `stored` as a compressed object file named `name`. */
function compressedObject(stored: Buffer, name: string): { stored: StoredForm; sha256: string } {
  const objectPath = path.join(dir, `${name}.z`);
  fs.writeFileSync(objectPath, stored, { mode: 0o444 });
  return { stored: { path: objectPath, compressed: true }, sha256: name };
}

describe("materializeObject", () => {
  it.each([
    ["a small object", Buffer.from("#!/bin/sh\necho hi\n"), 0o755],
    ["an empty object", Buffer.alloc(0), 0o600],
    ["a large object (streamed)", randomBytes(3 * CHUNK_SIZE + 99), 0o640],
  ])("writes the exact bytes of %s with the exact mode, whatever the umask", async (_label, content, mode) => {
    const { stored, sha256 } = object(content);
    const dest = path.join(dir, "out.tmp");
    const previous = process.umask(0o077);
    try {
      await materializeObject(stored, sha256, dest, mode);
    } finally {
      process.umask(previous);
    }
    expect(fs.readFileSync(dest).equals(content)).toBe(true);
    expect(fs.statSync(dest).mode & 0o7777).toBe(mode);
  });

  it("copies many objects at once, small and large mixed, each with its own bytes and the mtime it is given", async () => {
    const contents = Array.from({ length: 40 }, (_, i) => (i % 10 === 3 ? randomBytes(CHUNK_SIZE + i) : Buffer.from(`object ${i}\n`.repeat(i * 7 + 1))));
    const mtimeMs = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
    await Promise.all(
      contents.map((content, i) => {
        const { stored, sha256 } = object(content);
        return materializeObject(stored, sha256, path.join(dir, `out-${i}`), 0o644, { mtimeMs: mtimeMs + i });
      }),
    );
    contents.forEach((content, i) => {
      const dest = path.join(dir, `out-${i}`);
      expect(fs.readFileSync(dest).equals(content), `out-${i}`).toBe(true);
      expect(Math.round(fs.statSync(dest).mtimeMs)).toBe(mtimeMs + i);
    });
  });

  it("takes only the permission bits of the mode it is given", async () => {
    const { stored, sha256 } = object(Buffer.from("x"));
    const dest = path.join(dir, "out.tmp");
    await materializeObject(stored, sha256, dest, 0o100644);
    expect(fs.statSync(dest).mode & 0o7777).toBe(0o644);
  });

  it.each([
    ["small", Buffer.from("the real content")],
    ["large", randomBytes(2 * CHUNK_SIZE + 1)],
  ])("refuses a corrupt %s object and leaves nothing at the destination", async (_label, content) => {
    const { stored, sha256 } = object(Buffer.from(content), sha(Buffer.concat([content, Buffer.from("!")])));
    const dest = path.join(dir, "out.tmp");
    const error = await materializeObject(stored, sha256, dest, 0o644).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as IntegrityError).details).toMatchObject({ sha256, state: "corrupt" });
    expect(fs.existsSync(dest)).toBe(false);
  });

  it("reports a missing object as an integrity failure and creates nothing", async () => {
    const sha256 = sha("never stored");
    const dest = path.join(dir, "out.tmp");
    const error = await materializeObject({ path: path.join(dir, sha256), compressed: false }, sha256, dest, 0o644).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as IntegrityError).details).toMatchObject({ sha256, state: "missing" });
    expect(fs.existsSync(dest)).toBe(false);
  });

  it("never replaces or follows something already at the destination", async () => {
    const { stored, sha256 } = object(Buffer.from("new"));
    const existing = path.join(dir, "existing");
    fs.writeFileSync(existing, "keep me");
    await expect(materializeObject(stored, sha256, existing, 0o644)).rejects.toThrow(existing);
    expect(fs.readFileSync(existing, "utf8")).toBe("keep me");

    const link = path.join(dir, "link");
    fs.symlinkSync(existing, link);
    await expect(materializeObject(stored, sha256, link, 0o644)).rejects.toThrow(link);
    expect(fs.readFileSync(existing, "utf8")).toBe("keep me");
  });

  it.each([
    ["a small object", Buffer.from("#!/bin/sh\n" + "echo compressed\n".repeat(600)), 0o755],
    ["an empty object", Buffer.alloc(0), 0o600],
    ["a large object (inflated as it streams)", Buffer.from("line of a large log file\n".repeat(200_000)), 0o640],
    ["a large object that did not shrink", randomBytes(2 * CHUNK_SIZE + 5), 0o600],
  ])("inflates the exact bytes of %s stored compressed, with the exact mode and mtime", async (_label, content, mode) => {
    const { stored, sha256 } = compressedObject(compressedForm(content), sha(content));
    const dest = path.join(dir, "out.tmp");
    const mtimeMs = Date.UTC(2023, 5, 6, 7, 8, 9, 123);
    await materializeObject(stored, sha256, dest, mode, { mtimeMs });
    expect(fs.readFileSync(dest).equals(content)).toBe(true);
    expect(fs.statSync(dest).mode & 0o7777).toBe(mode);
    expect(Math.round(fs.statSync(dest).mtimeMs)).toBe(mtimeMs);
  });

  describe.each([
    ["small", Buffer.from("compressible text\n".repeat(1000))],
    ["large", Buffer.from("compressible text\n".repeat(200_000))],
  ])("a damaged compressed %s object is corrupt, and nothing is left at the destination", (_label, content) => {
    const good = compressedForm(content);
    const flipped = Buffer.from(good);
    flipped[Math.floor(good.length / 2)] = (flipped[Math.floor(good.length / 2)] as number) ^ 0x5a;
    const otherContent = Buffer.concat([content.subarray(1), Buffer.from("!")]);
    const longer = Buffer.from(good);
    longer.writeBigUInt64BE(BigInt(content.length + 1), 8);
    const shorter = Buffer.from(good);
    shorter.writeBigUInt64BE(BigInt(content.length - 1), 8);
    it.each([
      ["a byte flipped in the stream", flipped],
      ["the stream cut short", good.subarray(0, good.length - 20)],
      ["only half the header", good.subarray(0, 8)],
      ["a header that is not one", Buffer.concat([Buffer.from("XXXX"), good.subarray(4)])],
      ["a header giving a longer length", longer],
      ["a header giving a shorter length", shorter],
      ["bytes after the stream", Buffer.concat([good, Buffer.from("trailing")])],
      ["another content's stream", compressedForm(otherContent)],
    ])("%s", async (_what, bytes) => {
      const { stored, sha256 } = compressedObject(bytes, sha(content));
      const dest = path.join(dir, "out.tmp");
      const error = await materializeObject(stored, sha256, dest, 0o644).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IntegrityError);
      expect((error as IntegrityError).details).toMatchObject({ sha256, state: "corrupt", path: stored.path });
      expect(fs.existsSync(dest)).toBe(false);
    });
  });
});
