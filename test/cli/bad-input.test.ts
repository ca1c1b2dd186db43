import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  assertCliBundleFresh,
  cleanUpAfterEach,
  cliJson,
  inspectData,
  IS_ROOT,
  jsonOf,
  makeWorkspaceDirs,
  mountTinyDisk,
  NOBODY,
  readTree,
  runCli,
  tmpfsUnavailableReason,
  treeDifferences,
  writeTree,
  type CliErrorJson,
  type CliOptions,
  type Lifetime,
  type WorkspaceDirs,
} from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import { listHistory } from "../../server/audit/history";
import type { Core } from "../../server/core";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

/** A component "web" with a few files and links pointing outside its root. */
async function registered(label: string, lifetime: Lifetime = "test"): Promise<WorkspaceDirs> {
  const ws = makeWorkspaceDirs(label, lifetime);
  const outside = path.join(ws.base, "outside");
  writeTree(ws.base, { "outside/secret.txt": "secret\n" });
  writeTree(ws.root, { "src/a.ts": "a\n", "src/b.ts": "b\n", "outside-dir-link": { link: outside }, "outside-file-link": { link: path.join(outside, "secret.txt") } });
  await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
  return ws;
}

/** Runs a failing command with --json: checks the exit code and that stdout is exactly one `{error}` object. */
async function failing(ws: WorkspaceDirs, args: string[], status: number, options: CliOptions = {}): Promise<CliErrorJson["error"]> {
  const result = await runCli(ws, [...args, "--json"], options);
  expect(result.status, result.stderr).toBe(status);
  return jsonOf<CliErrorJson>(result).error;
}

async function lastFailedCreate(core: Core, component = "web") {
  return (await listHistory(core, { kind: "checkpoint.create", outcome: "failed", component })).items[0];
}

describe("refusals of bad input", () => {
  let ws: WorkspaceDirs;
  let data: Core;
  beforeAll(async () => {
    ws = await registered("cli-refusals", "file");
    data = inspectData(ws);
  });

  it.each([
    ["a path with ..", "../x", /must not contain "\.\.": \.\.\/x/],
    ["an absolute path", "/etc/passwd", /absolute path: \/etc\/passwd/],
    ["a path through a symlinked folder pointing outside the root", "outside-dir-link/secret.txt", /symlinked directory: outside-dir-link/],
    ["a symlink pointing outside the root", "outside-file-link", /points outside the component root: outside-file-link/],
  ])("checkpoint create refuses %s with exit 2, names it, and leaves no checkpoint", async (_label, badPath, message) => {
    const error = await failing(ws, ["checkpoint", "create", "web", "--path", "src/a.ts", "--path", badPath], 2);

    expect(error).toMatchObject({ code: "INVALID_INPUT", message: expect.stringMatching(message), details: { field: "paths.1" } });
    expect(error.message).toMatch(/^invalid paths\.1: /);
    expect(await data.db.checkpoint.count()).toBe(0);
    expect(fs.readdirSync(path.join(ws.dataDir, "store", "snapshots"))).toEqual([]);
    expect((await lastFailedCreate(data))?.error).toMatch(message);
  });

  it("refuses --retention-days abc with exit 2, naming the option", async () => {
    const error = await failing(ws, ["checkpoint", "create", "web", "--retention-days", "abc"], 2);
    expect(error).toEqual({ code: "INVALID_INPUT", message: '--retention-days expects a whole number, got "abc"', details: { field: "--retention-days" } });
    expect(await data.db.checkpoint.count()).toBe(0);
  });

  it("refuses --meta without a value with exit 2", async () => {
    expect(await failing(ws, ["checkpoint", "create", "web", "--meta", "novalue"], 2)).toMatchObject({ code: "INVALID_INPUT", message: '--meta expects key=value, got "novalue"' });
  });

  it("answers an unknown checkpoint id with exit 5 on every command that takes one", async () => {
    for (const args of [["rollback", "cp_nope", "--yes"], ["checkpoint", "show", "cp_nope"], ["checkpoint", "diff", "cp_nope"], ["checkpoint", "verify", "cp_nope"]]) {
      expect(await failing(ws, args, 5), args.join(" ")).toMatchObject({ code: "NOT_FOUND", message: 'no checkpoint with id "cp_nope"' });
    }
  });

  it("answers an unknown component with exit 5, and records the failed create in history", async () => {
    expect(await failing(ws, ["checkpoint", "create", "nope"], 5)).toMatchObject({ code: "NOT_FOUND", message: 'no component named "nope"' });
    expect(await failing(ws, ["checkpoint", "list", "nope"], 5)).toMatchObject({ code: "NOT_FOUND", message: 'no component named "nope"' });
    expect(await lastFailedCreate(data, "nope")).toMatchObject({ error: 'no component named "nope"', details: { errorCode: "NOT_FOUND" } });
  });

  it("prints exactly one JSON object for a usage error too (missing argument, unknown option), with exit 2", async () => {
    expect(await failing(ws, ["rollback"], 2)).toMatchObject({ code: "INVALID_INPUT", message: "missing required argument 'checkpoint-id'" });
    expect(await failing(ws, ["checkpoint", "list", "--frobnicate"], 2)).toMatchObject({ code: "INVALID_INPUT", message: "unknown option '--frobnicate'" });
  });

  it("without --json, prints the error on stderr only, with the same exit code", async () => {
    const result = await runCli(ws, ["checkpoint", "create", "web", "--path", "../x"]);
    expect(result).toMatchObject({ status: 2, stdout: "", stderr: 'safetynet: invalid paths.0: path must not contain "..": ../x\n' });
  });
});

describe("refusals that concern the component's root", () => {
  it("refuses a component root outside SAFETYNET_ALLOWED_ROOTS with exit 2, naming it", async () => {
    const ws = makeWorkspaceDirs("cli-allowed");
    const allowed = path.join(ws.base, "allowed");
    fs.mkdirSync(allowed);

    const error = await failing(ws, ["component", "add", "web", "--root", ws.root], 2, { allowedRoots: [allowed] });

    expect(error).toMatchObject({ code: "INVALID_INPUT", message: `component root ${ws.root} is outside the allowed roots (${allowed})` });
    expect(await inspectData(ws).db.component.count()).toBe(0);
  });

  it("refuses to checkpoint or roll back a component whose root is no longer allowed, with exit 2, changing nothing", async () => {
    const ws = await registered("cli-narrowed");
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    fs.writeFileSync(path.join(ws.root, "src/a.ts"), "agent\n");
    const before = readTree(ws.root);
    const narrowed = { allowedRoots: [path.join(ws.base, "outside")] };

    expect(await failing(ws, ["checkpoint", "create", "web"], 2, narrowed)).toMatchObject({ message: expect.stringContaining(`component root ${ws.root} is outside the allowed roots`) });
    expect(await failing(ws, ["rollback", created.id, "--yes"], 2, narrowed)).toMatchObject({ message: expect.stringContaining(`component root ${ws.root} is outside the allowed roots`) });

    expect(treeDifferences(before, readTree(ws.root), { inode: true, mtime: "all" })).toEqual([]);
    expect(await inspectData(ws).db.checkpoint.count()).toBe(1);
  });

  it("refuses a rollback without a terminal and without --yes, with exit 2, changing nothing", async () => {
    const ws = await registered("cli-noyes");
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    fs.writeFileSync(path.join(ws.root, "src/a.ts"), "agent\n");
    fs.writeFileSync(path.join(ws.root, "src/new.ts"), "agent\n");
    const before = readTree(ws.root);

    const error = await failing(ws, ["rollback", created.id], 2);

    expect(error).toMatchObject({ code: "INVALID_INPUT", message: expect.stringMatching(/no terminal to ask on; pass --yes/) });
    expect(treeDifferences(before, readTree(ws.root), { inode: true, mtime: "all" })).toEqual([]);
    expect(await inspectData(ws).db.checkpoint.count()).toBe(1);
  });
});

describe("environmental failures exit 1, name the culprit and leave no partial checkpoint", () => {
  it("names an unreadable file", async () => {
    // Root reads any file whatever its mode, so as root the CLI runs as `nobody`, on folders nobody owns.
    const as: CliOptions = IS_ROOT ? { user: NOBODY } : {};
    const ws = makeWorkspaceDirs("cli-unreadable");
    writeTree(ws.root, { "src/a.ts": "a\n", "src/secret.ts": "unreadable\n" });
    if (IS_ROOT) execFileSync("chown", ["-R", `${NOBODY.uid}:${NOBODY.gid}`, ws.base]);
    await cliJson(ws, ["component", "add", "web", "--root", ws.root], 0, as);
    fs.chmodSync(path.join(ws.root, "src/secret.ts"), 0o000);

    const error = await failing(ws, ["checkpoint", "create", "web"], 1, as);

    expect(error).toMatchObject({ code: "FAILED", message: `permission denied: ${path.join(ws.root, "src/secret.ts")}`, details: { errno: "EACCES" } });
    const data = inspectData(ws);
    expect(await data.db.checkpoint.count()).toBe(0);
    expect(await lastFailedCreate(data)).toMatchObject({ error: error.message, details: { errorCode: "FAILED" } });
  });

  it.skipIf(tmpfsUnavailableReason() !== null)("refuses a checkpoint that cannot fit on the data disk before writing, naming the store and the sizes", async () => {
    const ws = await registered("cli-enospc");
    writeTree(ws.root, { "big.bin": Buffer.alloc(2 * 1024 * 1024, 1) });
    // After `component add` made the data dir: the store now lives on a tiny, empty disk.
    fs.rmSync(path.join(ws.dataDir, "store"), { recursive: true });
    mountTinyDisk(path.join(ws.dataDir, "store"), 512);

    const error = await failing(ws, ["checkpoint", "create", "web"], 1);

    expect(error.code).toBe("NO_SPACE");
    expect(error.message).toMatch(new RegExp(`^not enough free space for the checkpoint on the data directory's file system \\(${path.join(ws.dataDir, "store")}\\): up to \\d+ bytes are needed, \\d+ are free; nothing was written`));
    const data = inspectData(ws);
    expect(await data.db.checkpoint.count()).toBe(0);
    expect(await lastFailedCreate(data)).toMatchObject({ error: error.message });
    expect(fs.readdirSync(path.join(ws.dataDir, "store", "tmp"))).toEqual([]);
  });
});
