/**
 * File names are bytes on Linux. A name that is not UTF-8 is captured, diffed,
 * rolled back, restored and exported exactly, through the CLI as a process; where
 * a format cannot hold a name (a zip entry), the export says so instead of
 * dropping or merging it.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, makeTempDir, makeWorkspaceDirs, runCli, type WorkspaceDirs } from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import type { HistoryItem } from "../../server/audit/history";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

/** A path under `root` given as bytes (so no name is re-encoded on the way). */
const bytePath = (root: string, ...parts: (string | Buffer)[]) => Buffer.concat([Buffer.from(root), ...parts.flatMap((p) => [Buffer.from("/"), Buffer.isBuffer(p) ? p : Buffer.from(p)])]);

const DIR_FF = Buffer.from([0x64, 0x69, 0x72, 0xff]); // "dir\xff"
const CAFE_LATIN1 = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]); // "caf\xe9.txt" in Latin-1
const A_FE = Buffer.from([0x61, 0xfe]);
const A_FF = Buffer.from([0x61, 0xff]);
const LONG_DIR = Buffer.from(`deep-${"x".repeat(70)}`);
const LONG_FILE = Buffer.concat([Buffer.from("y".repeat(40)), Buffer.from([0xfe]), Buffer.from(".txt")]);

/** How the CLI's JSON names them: each byte that is not UTF-8 as the lone surrogate U+DC00 + byte. */
const json = (bytes: Buffer) => [...bytes].map((b) => (b < 0x80 ? String.fromCharCode(b) : String.fromCharCode(0xdc00 + b))).join("");

/** Every entry under `root`, names as hex of their bytes, with content or link target: an exact picture of the tree. */
function byteTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: Buffer, rel: string) => {
    for (const name of fs.readdirSync(dir, { encoding: "buffer" })) {
      const abs = Buffer.concat([dir, Buffer.from("/"), name]);
      const key = rel + "/" + name.toString("hex");
      const st = fs.lstatSync(abs);
      if (st.isDirectory()) {
        out.set(key, `dir ${(st.mode & 0o7777).toString(8)}`);
        walk(abs, key);
      } else if (st.isSymbolicLink()) out.set(key, `link ${fs.readlinkSync(abs, { encoding: "buffer" }).toString("hex")}`);
      else out.set(key, `file ${(st.mode & 0o7777).toString(8)} ${fs.readFileSync(abs).toString("hex")}`);
    }
  };
  walk(Buffer.from(root), "");
  return out;
}

async function workspaceWithByteNames(label: string): Promise<WorkspaceDirs> {
  const ws = makeWorkspaceDirs(label);
  fs.writeFileSync(path.join(ws.root, "plain.txt"), "plain\n");
  fs.mkdirSync(bytePath(ws.root, DIR_FF));
  fs.writeFileSync(bytePath(ws.root, DIR_FF, "important.txt"), "secret\n");
  fs.mkdirSync(bytePath(ws.root, DIR_FF, "sub"));
  fs.writeFileSync(bytePath(ws.root, DIR_FF, "sub", CAFE_LATIN1), "latin-1 name\n");
  fs.writeFileSync(bytePath(ws.root, A_FE), "fe\n");
  fs.writeFileSync(bytePath(ws.root, A_FF), "ff\n");
  // A link whose target is not UTF-8 either, and one whose own name is not.
  fs.symlinkSync(Buffer.concat([DIR_FF, Buffer.from("/important.txt")]), path.join(ws.root, "to-dir"));
  fs.symlinkSync("plain.txt", bytePath(ws.root, Buffer.from([0x61, 0x80])));
  // Longer than a tar header's name field: the archive carries it in a pax header, as bytes.
  fs.mkdirSync(bytePath(ws.root, LONG_DIR), { recursive: true });
  fs.writeFileSync(bytePath(ws.root, LONG_DIR, LONG_FILE), "deep\n");
  await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
  return ws;
}

describe("names that are not UTF-8", () => {
  it("are checkpointed, shown by diff, and brought back by a rollback with their whole subtree", async () => {
    const ws = await workspaceWithByteNames("bytes-rollback");
    const before = byteTree(ws.root);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    expect(created.files).toBe(6);

    fs.rmSync(bytePath(ws.root, DIR_FF), { recursive: true });
    fs.writeFileSync(bytePath(ws.root, A_FE), "changed by the agent\n");
    const diff = await cliJson<{ deleted: { path: string }[]; modified: { path: string }[] }>(ws, ["checkpoint", "diff", created.id]);
    expect(diff.deleted.map((e) => e.path).sort()).toEqual([json(DIR_FF), `${json(DIR_FF)}/important.txt`, `${json(DIR_FF)}/sub`, `${json(DIR_FF)}/sub/${json(CAFE_LATIN1)}`].sort());
    // Two names that differ only in a byte that is not UTF-8 stay two names.
    expect(diff.modified.map((e) => e.path)).toEqual([json(A_FE)]);

    const text = await runCli(ws, ["checkpoint", "diff", created.id]);
    expect(text.stdout).toContain("dir\\xff/important.txt");

    const rollback = await cliJson<{ outcome: string; restored: number }>(ws, ["rollback", created.id, "--yes"]);
    expect(rollback.outcome).toBe("succeeded");
    expect(byteTree(ws.root)).toEqual(before);
    expect(await cliJson(ws, ["checkpoint", "verify", created.id])).toMatchObject({ state: "verified" });
  });

  it("an unchanged re-checkpoint after a rollback finds nothing to read, and a later edit is seen", async () => {
    const ws = await workspaceWithByteNames("bytes-recheckpoint");
    const first = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    const second = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    expect(second.manifestSha256).toBe(first.manifestSha256);
    fs.writeFileSync(bytePath(ws.root, DIR_FF, "sub", CAFE_LATIN1), "edited\n");
    const third = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    expect(third.manifestSha256).not.toBe(first.manifestSha256);
    const diff = await cliJson<{ modified: { path: string }[] }>(ws, ["checkpoint", "diff", first.id]);
    expect(diff.modified.map((e) => e.path)).toEqual([`${json(DIR_FF)}/sub/${json(CAFE_LATIN1)}`]);
    const shown = await cliJson<{ entries: { path: string }[] }>(ws, ["checkpoint", "show", third.id, "--entries"]);
    expect(shown.entries.map((e) => e.path)).toEqual(expect.arrayContaining([json(A_FE), json(A_FF), `${json(DIR_FF)}/sub/${json(CAFE_LATIN1)}`]));
  });

  it("are restored exactly into another folder", async () => {
    const ws = await workspaceWithByteNames("bytes-restore");
    const before = byteTree(ws.root);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    const target = path.join(ws.base, "restored");
    await cliJson(ws, ["checkpoint", "restore", created.id, "--to", target]);
    expect(byteTree(target)).toEqual(before);
  });

  it("are exported exactly in a tar.gz", async () => {
    const ws = await workspaceWithByteNames("bytes-tar");
    const before = byteTree(ws.root);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    const archive = path.join(ws.base, "out.tar.gz");
    await cliJson(ws, ["checkpoint", "export", created.id, "--format", "tar.gz", "-o", archive]);
    const unpacked = makeTempDir("bytes-untar");
    execFileSync("tar", ["-xzf", archive, "-C", unpacked]);
    expect(byteTree(path.join(unpacked, `web-${created.id}`))).toEqual(before);
  });

  it("a rollback refused because an ignored file is in the way of such a name is still in the history, the name shown as \\xHH", async () => {
    const ws = await workspaceWithByteNames("bytes-refused");
    fs.writeFileSync(path.join(ws.root, ".gitignore"), "*.log\n");
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    // The agent turns the file a\xfe into a folder that holds an ignored file: a rollback never touches it.
    fs.rmSync(bytePath(ws.root, A_FE));
    fs.mkdirSync(bytePath(ws.root, A_FE));
    fs.writeFileSync(bytePath(ws.root, A_FE, "inner.log"), "ignored\n");

    const refused = await runCli(ws, ["rollback", created.id, "--yes", "--json"]);

    expect(refused.status, refused.stderr).toBe(3);
    const history = await cliJson<{ items: HistoryItem[] }>(ws, ["history", "web"]);
    const rollback = history.items.find((e) => e.kind === "rollback");
    expect(rollback?.outcome).toBe("failed");
    expect(rollback?.error).toContain("a\\xfe (in the way: a\\xfe/inner.log)");
  });
});

describe("backslashes in names", () => {
  it("are kept exact in a tar.gz, and a zip escapes them with a listed warning instead of merging two entries", async () => {
    const ws = makeWorkspaceDirs("backslash");
    fs.writeFileSync(path.join(ws.root, "back\\slash.txt"), "one name with a backslash\n");
    fs.mkdirSync(path.join(ws.root, "back"));
    fs.writeFileSync(path.join(ws.root, "back", "slash.txt"), "a folder and a file\n");
    fs.writeFileSync(bytePath(ws.root, A_FF), "not utf-8\n");
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
    const before = byteTree(ws.root);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);

    const tar = path.join(ws.base, "out.tar.gz");
    await cliJson(ws, ["checkpoint", "export", created.id, "--format", "tar.gz", "-o", tar]);
    const names = execFileSync("tar", ["--quoting-style=literal", "-tzf", tar], { encoding: "buffer" }).toString("latin1").split("\n").filter(Boolean);
    expect(names).toContain(`web-${created.id}/back\\slash.txt`);
    expect(names).toContain(`web-${created.id}/back/slash.txt`);
    const unpacked = makeTempDir("backslash-untar");
    execFileSync("tar", ["-xzf", tar, "-C", unpacked]);
    expect(byteTree(path.join(unpacked, `web-${created.id}`))).toEqual(before);

    const zip = path.join(ws.base, "out.zip");
    const report = await cliJson<{ warnings: { path: string; archivedAs: string; reason: string }[] }>(ws, ["checkpoint", "export", created.id, "--format", "zip", "-o", zip]);
    expect(report.warnings.map((w) => w.path).sort()).toEqual([json(A_FF), "back\\slash.txt"].sort());
    const zipNames = execFileSync("zipinfo", ["-1", zip], { encoding: "utf8" }).split("\n").filter(Boolean);
    expect(new Set(zipNames).size).toBe(zipNames.length);
    const escaped = report.warnings.find((w) => w.path === "back\\slash.txt")?.archivedAs as string;
    expect(escaped).not.toContain("\\");
    expect(zipNames).toContain(`web-${created.id}/${escaped}`);
    expect(zipNames).toContain(`web-${created.id}/back/slash.txt`);
    // The renames travel with the archive, and the text output says so.
    expect(zipNames).toContain(`web-${created.id}/.safetynet-export-notes.json`);
    const text = await runCli(ws, ["checkpoint", "export", created.id, "--format", "zip", "-o", path.join(ws.base, "again.zip")]);
    expect(text.status).toBe(0);
    expect(text.stdout + text.stderr).toMatch(/2 names .*renamed/);
  });
});
