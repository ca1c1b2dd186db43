import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ObjectStore, sha256Hex } from "./object-store";

let work: string;
let store: ObjectStore;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-batch-"));
  store = new ObjectStore(path.join(work, "store"));
  store.init();
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

function file(name: string, content: Buffer | string): string {
  const p = path.join(work, "src", name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  return p;
}
const tmpEntries = () => fs.readdirSync(path.join(store.dir, "tmp"));
/** This process's descriptors open on files in the store's tmp/. */
const openTmpFiles = () =>
  fs.readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(path.join(store.dir, "tmp") + path.sep);
    } catch {
      return false;
    }
  });

describe("WriteBatch", () => {
  it("keeps staged objects out of objects/ until commit, then places them all", async () => {
    const batch = store.createBatch();
    const a = await store.putFile(file("a.txt", "alpha"), undefined, batch);
    const b = await store.putFile(file("b.txt", "beta"), undefined, batch);
    expect(a.written && b.written).toBe(true);
    expect(store.has(a.sha256)).toBe(false);
    expect(tmpEntries()).toHaveLength(2);
    await batch.commit();
    expect(store.readBuffer(a.sha256, { verify: true }).toString()).toBe("alpha");
    expect(store.readBuffer(b.sha256, { verify: true }).toString()).toBe("beta");
    expect(tmpEntries()).toHaveLength(0);
  });

  it("stages identical content once and skips content the store already holds", async () => {
    store.putBuffer("gamma");
    const batch = store.createBatch();
    const first = await store.putFile(file("one.txt", "same"), undefined, batch);
    const second = await store.putFile(file("two.txt", "same"), undefined, batch);
    const known = await store.putFile(file("three.txt", "gamma"), undefined, batch);
    expect([first.written, second.written, known.written]).toEqual([true, false, false]);
    expect(batch.size).toBe(1);
    await batch.commit();
    expect(store.has(sha256Hex("same"))).toBe(true);
  });

  it("keeps a small batch's files open from write to flush, and closes every one of them (commit or abort)", async () => {
    const batch = store.createBatch();
    const shas: string[] = [];
    for (let i = 0; i < 20; i++) shas.push((await store.putFile(file(`s${i}.txt`, `small ${i}`), undefined, batch)).sha256);
    expect(openTmpFiles()).toHaveLength(20);
    await batch.commit();
    expect(openTmpFiles()).toEqual([]);
    for (const sha of shas) expect(await store.verifyObject(sha)).toBe("ok");

    const dropped = store.createBatch();
    for (let i = 0; i < 5; i++) await store.putFile(file(`d${i}.txt`, `dropped ${i}`), undefined, dropped);
    expect(openTmpFiles()).toHaveLength(5);
    await dropped.abort();
    expect(openTmpFiles()).toEqual([]);
    expect(tmpEntries()).toHaveLength(0);
  });

  it("flushes a large batch through one file-system sync and places every object", async () => {
    const batch = store.createBatch();
    const shas: string[] = [];
    for (let i = 0; i < 300; i++) shas.push((await store.putFile(file(`f${i}.txt`, `content ${i}`), undefined, batch)).sha256);
    await batch.commit();
    expect(openTmpFiles()).toEqual([]);
    for (const sha of shas) expect(await store.verifyObject(sha)).toBe("ok");
    expect(tmpEntries()).toHaveLength(0);
  });

  it("leaves nothing behind when aborted", async () => {
    const batch = store.createBatch();
    const staged = await store.putFile(file("x.txt", "never stored"), undefined, batch);
    await batch.abort();
    expect(store.has(staged.sha256)).toBe(false);
    expect(tmpEntries()).toHaveLength(0);
    await expect(batch.stage(staged.sha256, { data: Buffer.from("never stored"), compressible: true })).rejects.toThrow(/already committed or aborted/);
  });
});
