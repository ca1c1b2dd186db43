import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { closeFd, closeFdQuietly, closeFdQuietlySync, fdatasyncFd, fstatFd, openFd, readFd, readFdUpToSync, writeFdAll, writeFdAllSync } from "./raw-fd";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-rawfd-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("raw descriptor helpers", () => {
  it("write, fdatasync, fstat, then read back the same bytes", async () => {
    const p = path.join(dir, "f");
    const data = Buffer.from("0123456789".repeat(1000));
    const out = await openFd(p, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    await writeFdAll(out, data);
    await fdatasyncFd(out);
    expect((await fstatFd(out)).size).toBe(data.length);
    await closeFd(out);

    const fd = await openFd(p, fs.constants.O_RDONLY);
    const buffer = Buffer.alloc(data.length + 10);
    expect(readFdUpToSync(fd, buffer, buffer.length)).toBe(data.length);
    expect(buffer.subarray(0, data.length).equals(data)).toBe(true);
    expect(await readFd(fd, buffer, 0, 1)).toBe(0);
    await closeFd(fd);
  });

  it("reject with Node's errno errors", async () => {
    await expect(openFd(path.join(dir, "missing"), fs.constants.O_RDONLY)).rejects.toMatchObject({ code: "ENOENT" });
    const fd = await openFd(dir, fs.constants.O_RDONLY);
    await expect(readFd(fd, Buffer.alloc(1), 0, 1)).rejects.toMatchObject({ code: "EISDIR" });
    await closeFd(fd);
    await expect(closeFd(fd)).rejects.toMatchObject({ code: "EBADF" });
  });

  it("closeFdQuietly never rejects, closeFdQuietlySync never throws", async () => {
    const fd = await openFd(dir, fs.constants.O_RDONLY);
    await closeFdQuietly(fd);
    await expect(closeFdQuietly(fd)).resolves.toBeUndefined();
    expect(() => closeFdQuietlySync(fd)).not.toThrow();
  });

  it("writeFdAllSync writes every byte", () => {
    const p = path.join(dir, "sync");
    const data = Buffer.alloc(300_000, 9);
    const fd = fs.openSync(p, "wx");
    writeFdAllSync(fd, data);
    fs.closeSync(fd);
    expect(fs.readFileSync(p).equals(data)).toBe(true);
  });
});
