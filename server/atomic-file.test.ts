import fs from "node:fs";
import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { cleanUpAfterEach, makeTempDir, sha256Of } from "../test/support/workspace";
import { writeStreamAtomic } from "./atomic-file";

cleanUpAfterEach();

describe("writeStreamAtomic", () => {
  it("replaces the file with the whole stream, and reports its size and sha256", async () => {
    const dir = makeTempDir("stream-atomic");
    const file = path.join(dir, "out.bin");
    fs.writeFileSync(file, "old\n");
    const chunks = [Buffer.from("first "), Buffer.from("second")];

    expect(await writeStreamAtomic(file, Readable.from(chunks))).toEqual({ bytes: 12, sha256: sha256Of("first second") });
    expect(fs.readFileSync(file, "utf8")).toBe("first second");
    expect(fs.readdirSync(dir)).toEqual(["out.bin"]);
  });

  it("rethrows the stream's failure (even one raised before reading began), leaving the old file and no temp file", async () => {
    const dir = makeTempDir("stream-atomic-fail");
    const file = path.join(dir, "out.bin");
    fs.writeFileSync(file, "old\n");
    const early = new PassThrough();
    // Fails at once, while the temp file is still being opened: nobody reads yet.
    setImmediate(() => early.destroy(new Error("cut off before the first byte")));
    await expect(writeStreamAtomic(file, early)).rejects.toThrow("cut off before the first byte");

    const late = new PassThrough();
    late.write("partial ");
    setTimeout(() => late.destroy(new Error("cut off half-way")), 20);
    await expect(writeStreamAtomic(file, late)).rejects.toThrow("cut off half-way");

    expect(fs.readFileSync(file, "utf8")).toBe("old\n");
    expect(fs.readdirSync(dir)).toEqual(["out.bin"]);
  });
});
