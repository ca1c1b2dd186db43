import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { closeCore, openCore, type Core } from "../core";
import { metadataUrlFor } from "../../test/support/metadata-store";
import { copyObjectFileToBucket, deleteObjectEverywhere, objectStoreConfigFor } from "../../test/support/object-store-location";
import { IntegrityError, InvalidInputError, NotFoundError } from "../errors";
import { upsertComponent } from "../registry/components";
import { createCheckpoint } from "../checkpoints/create";
import { readManifest } from "../checkpoints/manifest";
import { restoreCheckpointInto } from "./restore-into";

const ACTOR = "test";
let tmp: string;
let root: string;
let core: Core;

beforeEach(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sn-restore-into-")));
  root = path.join(tmp, "work");
  fs.mkdirSync(root);
  // An explicit config: the test must not depend on SAFETYNET_* variables of the environment.
  core = openCore({ dataDir: path.join(tmp, "data"), allowedRoots: [tmp], databaseUrl: metadataUrlFor(path.join(tmp, "data")), ...objectStoreConfigFor(path.join(tmp, "data")) });
});
afterEach(async () => {
  await closeCore(core.config.dataDir);
  // Read-only directories (restored on purpose) must be writable again to be removed.
  for (const dir of walkDirs(tmp)) fs.chmodSync(dir, 0o700);
  fs.rmSync(tmp, { recursive: true, force: true });
});

function walkDirs(dir: string): string[] {
  const out = [dir];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) out.push(...walkDirs(path.join(dir, e.name)));
  return out;
}

function write(rel: string, content: string | Buffer, mode = 0o644): void {
  const abs = path.join(root, rel);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, content);
  fs.chmodSync(abs, mode);
}

const OLD = new Date("2024-03-01T12:00:00.250Z");

/** A tree exercising every kind of entry the restore handles. */
function buildTree(): void {
  write("README.md", "# hello\n");
  write("src/index.ts", "export const x = 1;\n");
  write("src/deep/er/leaf.ts", "export {};\n");
  write("bin/run.sh", "#!/bin/sh\necho run\n", 0o755);
  write("assets/big.bin", randomBytes(3 * 1024 * 1024 + 17)); // above the small-file limit: the streamed path
  write("empty.txt", "");
  write("readonly/inside.txt", "cannot add files here after restore\n", 0o444);
  fs.chmodSync(path.join(root, "readonly"), 0o555);
  fs.mkdirSync(path.join(root, "empty-dir"));
  fs.symlinkSync("src/index.ts", path.join(root, "link-to-index"));
  fs.symlinkSync("../outside/nowhere", path.join(root, "dangling-link"));
  write("node_modules/dep/index.js", "ignored by default\n");
  write(".gitignore", "*.log\n");
  write("debug.log", "ignored by .gitignore\n");
  // Old mtimes on everything, deepest first so parents keep theirs (the restore must put back exactly
  // these: .250 ms survives the float seconds of utimes exactly, unlike a fresh nanosecond mtime).
  const all = [...snapshot(root).keys()].sort((a, b) => b.split("/").length - a.split("/").length);
  for (const rel of all) fs.lutimesSync(path.join(root, rel), OLD, OLD);
}

interface Seen {
  kind: "file" | "dir" | "symlink";
  mode: number;
  mtimeMs: number;
  sha256?: string;
  linkTarget?: string;
}

/** Every entry under `dir` (relative path -> kind, mode, mtime, content hash or link target). */
function snapshot(dir: string, skip: (rel: string) => boolean = () => false): Map<string, Seen> {
  const out = new Map<string, Seen>();
  const visit = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel))) {
      const childRel = rel ? `${rel}/${name}` : name;
      if (skip(childRel)) continue;
      const abs = path.join(dir, childRel);
      const st = fs.lstatSync(abs);
      const mode = st.mode & 0o7777;
      if (st.isSymbolicLink()) out.set(childRel, { kind: "symlink", mode: 0, mtimeMs: st.mtimeMs, linkTarget: fs.readlinkSync(abs) });
      else if (st.isDirectory()) {
        out.set(childRel, { kind: "dir", mode, mtimeMs: st.mtimeMs });
        visit(childRel);
      } else out.set(childRel, { kind: "file", mode, mtimeMs: st.mtimeMs, sha256: createHash("sha256").update(fs.readFileSync(abs)).digest("hex") });
    }
  };
  visit("");
  return out;
}

const ignoredByDefault = (rel: string) => rel === "node_modules" || rel === "debug.log";

async function checkpointOfRoot(paths?: string[]) {
  await upsertComponent(core, { name: "app", root }, ACTOR);
  return createCheckpoint(core, { component: "app", paths, depth: 1 }, ACTOR);
}

describe("restoreCheckpointInto", () => {
  it("recreates the checkpointed tree exactly: contents, modes, mtimes, empty dirs, symlinks; not ignored files", async () => {
    buildTree();
    const cp = await checkpointOfRoot();
    const expected = snapshot(root, ignoredByDefault);
    const target = path.join(tmp, "restored");
    fs.mkdirSync(target);

    const result = await restoreCheckpointInto(core, cp.id, target);

    expect(snapshot(target)).toEqual(expected);
    expect(result).toMatchObject({ checkpointId: cp.id, component: "app", target, files: cp.files, manifestSha256: cp.manifestSha256 });
    expect(result.symlinks).toBe(2);
    expect(result.bytes).toBe(cp.bytes);
    expect(fs.existsSync(path.join(target, "node_modules"))).toBe(false);
  });

  it("restores the checkpoint's state, not the live one, and leaves the component root alone", async () => {
    buildTree();
    const cp = await checkpointOfRoot();
    const expected = snapshot(root, ignoredByDefault);
    write("src/index.ts", "export const x = 2; // changed after the checkpoint\n");
    fs.rmSync(path.join(root, "README.md"));
    write("src/new.ts", "new\n");
    const liveBefore = snapshot(root);

    const target = path.join(tmp, "fresh"); // does not exist yet: created
    await restoreCheckpointInto(core, cp.id, target);

    expect(snapshot(target)).toEqual(expected);
    expect(snapshot(root)).toEqual(liveBefore);
  });

  it("creates the parents a partial-scope checkpoint leaves implicit", async () => {
    buildTree();
    const cp = await checkpointOfRoot(["src/deep/er/leaf.ts"]);
    const target = path.join(tmp, "partial");
    const result = await restoreCheckpointInto(core, cp.id, target);
    expect(fs.readFileSync(path.join(target, "src/deep/er/leaf.ts"), "utf8")).toBe("export {};\n");
    expect(result.files).toBe(cp.files);
  });

  it("refuses a non-empty target and changes nothing in it", async () => {
    buildTree();
    const cp = await checkpointOfRoot();
    const target = path.join(tmp, "busy");
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, "keep.txt"), "mine");
    await expect(restoreCheckpointInto(core, cp.id, target)).rejects.toThrow(InvalidInputError);
    expect(fs.readdirSync(target)).toEqual(["keep.txt"]);
  });

  it("refuses a target that is a file or a symlink, whose parent is missing, outside the allowed roots, or in the data directory", async () => {
    buildTree();
    const cp = await checkpointOfRoot();
    fs.writeFileSync(path.join(tmp, "a-file"), "x");
    fs.mkdirSync(path.join(tmp, "empty-real"));
    fs.symlinkSync(path.join(tmp, "empty-real"), path.join(tmp, "a-link"));
    const outside = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "sn-restore-outside-")));
    try {
      for (const bad of [
        path.join(tmp, "a-file"),
        path.join(tmp, "a-link"),
        path.join(tmp, "no", "such", "parent"),
        path.join(outside, "x"),
        path.join(core.config.dataDir, "inside"),
        "",
      ]) {
        await expect(restoreCheckpointInto(core, cp.id, bad), bad).rejects.toThrow(InvalidInputError);
      }
      expect(fs.readdirSync(outside)).toEqual([]);
      expect(fs.existsSync(path.join(core.config.dataDir, "inside"))).toBe(false);
      expect(fs.readdirSync(path.join(tmp, "empty-real"))).toEqual([]);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it("fails with IntegrityError on a corrupt object and leaves the target as empty as it was", async () => {
    buildTree();
    const cp = await checkpointOfRoot();
    const manifest = readManifest(core.store, cp.manifestSha256);
    const victim = manifest.entries.find((e) => e.path === "src/deep/er/leaf.ts");
    const objectPath = (core.store.locate(victim?.sha256 as string)?.path as string);
    fs.chmodSync(objectPath, 0o644);
    fs.writeFileSync(objectPath, "tampered\n");
    // With a bucket, its copy there too (a damaged cached copy alone is replaced by the bucket's).
    await copyObjectFileToBucket(path.join(tmp, "data"), victim?.sha256 as string);

    const existing = path.join(tmp, "existing-empty");
    fs.mkdirSync(existing);
    await expect(restoreCheckpointInto(core, cp.id, existing, { concurrency: 4 })).rejects.toThrow(IntegrityError);
    expect(fs.readdirSync(existing)).toEqual([]);

    const created = path.join(tmp, "to-be-created");
    await expect(restoreCheckpointInto(core, cp.id, created)).rejects.toThrow(IntegrityError);
    expect(fs.existsSync(created)).toBe(false);
  });

  it("on failure removes only what it wrote: a file someone else put into the target meanwhile stays", async () => {
    buildTree();
    const cp = await checkpointOfRoot();
    const manifest = readManifest(core.store, cp.manifestSha256);
    const victim = manifest.entries.find((e) => e.path === "src/index.ts");
    await deleteObjectEverywhere(path.join(tmp, "data"), victim?.sha256 as string);
    const target = path.join(tmp, "shared");
    fs.mkdirSync(target);
    let injected = false;
    const onProgress = () => {
      if (injected) return;
      injected = true;
      fs.writeFileSync(path.join(target, "not-mine.txt"), "someone else's");
    };
    await expect(restoreCheckpointInto(core, cp.id, target, { onProgress })).rejects.toThrow(IntegrityError);
    expect(injected).toBe(true);
    expect(fs.readdirSync(target)).toEqual(["not-mine.txt"]);
  });

  it("fails with IntegrityError on a missing object, leaving nothing behind", async () => {
    buildTree();
    const cp = await checkpointOfRoot();
    const manifest = readManifest(core.store, cp.manifestSha256);
    const victim = manifest.entries.find((e) => e.path === "assets/big.bin");
    await deleteObjectEverywhere(path.join(tmp, "data"), victim?.sha256 as string);
    const target = path.join(tmp, "t");
    fs.mkdirSync(target);
    await expect(restoreCheckpointInto(core, cp.id, target)).rejects.toThrow(IntegrityError);
    expect(fs.readdirSync(target)).toEqual([]);
  });

  it("names an unknown checkpoint NotFound and records restores in history", async () => {
    buildTree();
    const cp = await checkpointOfRoot();
    await expect(restoreCheckpointInto(core, "cp_nope", path.join(tmp, "x"))).rejects.toThrow(NotFoundError);
    await restoreCheckpointInto(core, cp.id, path.join(tmp, "ok"), { actor: "cli:me" });
    const events = await core.db.auditEvent.findMany({ where: { kind: "checkpoint.restore" } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: "succeeded", actor: "cli:me", checkpointId: cp.id, files: cp.files });
  });
});
