/**
 * Compressed objects through the CLI as a process: what a checkpoint stores
 * compressed (and what it keeps raw), that every way back out (rollback,
 * restore, both exports) is byte-exact, that damage to a compressed object is
 * reported like damage to any object, and that a data directory holding only
 * raw objects (as earlier releases wrote them) keeps working.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, jsonOf, makeWorkspaceDirs, readTree, runCli, sha256Of, treeDifferences, writeTree, type CliErrorJson, type WorkspaceDirs } from "../support/workspace";
import { corruptStoredObjectFile, hasStoredObject, isCompressedObjectFile, readStoredObject, storedObjectFile } from "../support/stored-objects";
import { copyObjectFileToBucket } from "../support/object-store-location";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import type { VerifyResult } from "../../server/checkpoints/verify";
import type { VerifyAllResult } from "../../server/retention/integrity";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

/** Source-like text (compresses well), `bytes` long. */
function text(bytes: number, seed: string): Buffer {
  const lines: string[] = [];
  for (let i = 0, length = 0; length < bytes; i++) {
    const line = `export function ${seed}${i % 89}(value: number): number { return value * ${i % 7} + ${i}; }\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join("")).subarray(0, bytes);
}

/** Bytes that do not compress, the same on every run. */
function noise(bytes: number, seed: string): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; parts.length * 32 < bytes; i++) parts.push(createHash("sha256").update(`${seed}-${i}`).digest());
  return Buffer.concat(parts).subarray(0, bytes);
}

const FILES = {
  "src/module.ts": text(40_000, "module"),
  "src/big.log": text(3 * 1024 * 1024 + 17, "log"),
  "src/tiny.ts": "export const tiny = 1;\n",
  "src/empty.txt": "",
  "assets/noise.bin": noise(100_000, "noise"),
  "assets/bundle.js.gz": zlib.gzipSync(noise(150_000, "bundle").toString("base64")),
  "bin/run.sh": { content: Buffer.concat([Buffer.from("#!/bin/sh\n"), text(12_000, "run")]), mode: 0o755 },
};

async function checkpointed(label: string): Promise<{ ws: WorkspaceDirs; created: CheckpointCreated }> {
  const ws = makeWorkspaceDirs(label);
  writeTree(ws.root, FILES);
  await cliJson(ws, ["component", "add", "app", "--root", ws.root]);
  const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "app", "--reason", "before the agent"]);
  return { ws, created };
}

const contentOf = (entry: string | Buffer | { content: Buffer }): Buffer => (Buffer.isBuffer(entry) ? entry : typeof entry === "string" ? Buffer.from(entry) : entry.content);
const shaOf = (rel: keyof typeof FILES) => sha256Of(contentOf(FILES[rel]));

function extract(file: string, into: string): void {
  fs.mkdirSync(into);
  if (file.endsWith(".zip")) execFileSync("unzip", ["-q", file, "-d", into]);
  else execFileSync("tar", ["-xzf", file, "-C", into]);
}

describe("compressed objects through the CLI", () => {
  it("stores compressible files compressed and the rest raw, and a rollback, a restore and both exports give every byte back", async () => {
    const { ws, created } = await checkpointed("cli-compress-roundtrip");
    const original = readTree(ws.root);
    for (const rel of ["src/module.ts", "src/big.log", "bin/run.sh"] as const) {
      const file = storedObjectFile(ws.dataDir, shaOf(rel));
      expect(isCompressedObjectFile(file), rel).toBe(true);
      expect(fs.statSync(file).size, rel).toBeLessThan(contentOf(FILES[rel]).length / 3);
      expect(readStoredObject(ws.dataDir, shaOf(rel)).equals(contentOf(FILES[rel])), rel).toBe(true);
    }
    // Too small to save a block, or no smaller compressed: kept as they are.
    for (const rel of ["src/tiny.ts", "src/empty.txt", "assets/noise.bin", "assets/bundle.js.gz"] as const) {
      expect(isCompressedObjectFile(storedObjectFile(ws.dataDir, shaOf(rel))), rel).toBe(false);
    }
    expect(created.bytes).toBe(Object.values(FILES).reduce((sum, entry) => sum + contentOf(entry).length, 0));
    expect(await cliJson<VerifyResult>(ws, ["checkpoint", "verify", created.id])).toMatchObject({ state: "verified", problems: [] });

    // The agent edits, deletes, truncates and chmods; the rollback puts back every byte, mode and mtime.
    writeTree(ws.root, { "src/module.ts": text(41_000, "edited"), "assets/noise.bin": "truncated", "src/new.ts": text(9_000, "new") });
    fs.rmSync(path.join(ws.root, "src/big.log"));
    fs.chmodSync(path.join(ws.root, "bin/run.sh"), 0o644);
    const rollback = await cliJson<{ outcome: string }>(ws, ["rollback", created.id, "--yes"]);
    expect(rollback.outcome).toBe("succeeded");
    expect(treeDifferences(original, readTree(ws.root), { mtime: "files" })).toEqual([]);

    const restored = path.join(ws.base, "restored");
    await cliJson(ws, ["checkpoint", "restore", created.id, "--to", restored]);
    expect(treeDifferences(original, readTree(restored), { mtime: "files" })).toEqual([]);

    for (const format of ["tar.gz", "zip"] as const) {
      const file = path.join(ws.base, `app.${format}`);
      await cliJson(ws, ["checkpoint", "export", created.id, "--format", format, "-o", file]);
      const into = path.join(ws.base, `x-${format}`);
      extract(file, into);
      expect(treeDifferences(original, readTree(path.join(into, `app-${created.id}`)), { mtime: false }), format).toEqual([]);
    }
  });

  it("verify reports a compressed object whose stream is damaged, or that was cut short, as corrupt (exit 4), naming the file; a rollback and an export refuse", async () => {
    const { ws, created } = await checkpointed("cli-compress-corrupt");
    const damaged = corruptStoredObjectFile(ws.dataDir, shaOf("src/module.ts"));
    expect(isCompressedObjectFile(damaged)).toBe(true);
    const cut = storedObjectFile(ws.dataDir, shaOf("src/big.log"));
    expect(isCompressedObjectFile(cut)).toBe(true);
    fs.chmodSync(cut, 0o644);
    fs.truncateSync(cut, fs.statSync(cut).size - 100);
    // With a bucket, the bucket's copies are damaged the same way (a damaged cached copy alone is replaced by the bucket's).
    await copyObjectFileToBucket(ws.dataDir, shaOf("src/module.ts"));
    await copyObjectFileToBucket(ws.dataDir, shaOf("src/big.log"));

    const verify = await cliJson<VerifyResult>(ws, ["checkpoint", "verify", created.id], 4);
    expect(verify).toMatchObject({ checkpointId: created.id, state: "corrupt" });
    expect(verify.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: "src/module.ts", sha256: shaOf("src/module.ts"), state: "corrupt" }),
        expect.objectContaining({ path: "src/big.log", sha256: shaOf("src/big.log"), state: "corrupt" }),
      ]),
    );
    expect(verify.problems).toHaveLength(2);

    const all = await cliJson<VerifyAllResult>(ws, ["verify", "--all"], 4);
    expect(all).toMatchObject({ outcome: "failed", checkpoints: 1, corrupt: 1 });

    fs.rmSync(path.join(ws.root, "src/module.ts"));
    const rollback = await runCli(ws, ["rollback", created.id, "--yes", "--json"]);
    expect(rollback.status).toBe(4);
    expect(jsonOf<CliErrorJson>(rollback).error.message).toMatch(/src\/module\.ts \(corrupt\)/);
    expect(fs.existsSync(path.join(ws.root, "src/module.ts"))).toBe(false);

    const target = path.join(ws.base, "app.tar.gz");
    const exported = await runCli(ws, ["checkpoint", "export", created.id, "--format", "tar.gz", "-o", target, "--json"]);
    expect(exported.status).toBe(4);
    expect(jsonOf<CliErrorJson>(exported).error.code).toBe("INTEGRITY");
    expect(fs.existsSync(target)).toBe(false);
  });

  it("keeps working on a data directory that holds only raw objects (as earlier releases wrote it), and stores nothing again for their content", async () => {
    const { ws, created } = await checkpointed("cli-compress-legacy");
    // Every compressed object rewritten as the raw object an earlier release wrote: content as it is, 0400.
    const objects = path.join(ws.dataDir, "store", "objects");
    let rewritten = 0;
    for (const fanout of fs.readdirSync(objects)) {
      for (const name of fs.readdirSync(path.join(objects, fanout))) {
        if (!name.endsWith(".z")) continue;
        const sha256 = name.slice(0, -2);
        const content = readStoredObject(ws.dataDir, sha256);
        fs.rmSync(path.join(objects, fanout, name));
        fs.writeFileSync(path.join(objects, fanout, sha256), content, { mode: 0o400 });
        rewritten++;
      }
    }
    expect(rewritten).toBeGreaterThanOrEqual(3);
    const original = readTree(ws.root);

    expect(await cliJson<VerifyResult>(ws, ["checkpoint", "verify", created.id])).toMatchObject({ state: "verified", problems: [] });
    fs.rmSync(path.join(ws.root, "src"), { recursive: true });
    await cliJson(ws, ["rollback", created.id, "--yes"]);
    expect(treeDifferences(original, readTree(ws.root), { mtime: "files" })).toEqual([]);

    // The same content in a new file: already stored (raw), so nothing new is written for it.
    writeTree(ws.root, { "src/copy-of-module.ts": contentOf(FILES["src/module.ts"]) });
    await cliJson(ws, ["checkpoint", "create", "app"]);
    expect(isCompressedObjectFile(storedObjectFile(ws.dataDir, shaOf("src/module.ts")))).toBe(false);
    expect(fs.existsSync(path.join(objects, shaOf("src/module.ts").slice(0, 2), `${shaOf("src/module.ts")}.z`))).toBe(false);
    expect(hasStoredObject(ws.dataDir, shaOf("src/big.log"))).toBe(true);
  });
});
