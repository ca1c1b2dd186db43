/**
 * Hard links between files of one checkpoint are recorded and put back: after a
 * rollback, a restore into a folder or a tar export, files that were one file
 * (one inode, several names) are one file again, and files that were separate
 * stay separate. Through the CLI as a process.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, makeTempDir, makeWorkspaceDirs, runCli, type WorkspaceDirs } from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

interface PlanJson {
  restore: { path: string; action: string }[];
  delete: { path: string }[];
}

const ino = (root: string, rel: string) => fs.lstatSync(path.join(root, rel)).ino;
const read = (root: string, rel: string) => fs.readFileSync(path.join(root, rel), "utf8");

/** a.txt, docs/b.txt and c.txt are one file (three names); d.txt is a copy of the same bytes, on its own. */
async function workspace(label: string): Promise<WorkspaceDirs> {
  const ws = makeWorkspaceDirs(label);
  fs.mkdirSync(path.join(ws.root, "docs"));
  fs.writeFileSync(path.join(ws.root, "a.txt"), "shared content\n");
  fs.linkSync(path.join(ws.root, "a.txt"), path.join(ws.root, "docs", "b.txt"));
  fs.linkSync(path.join(ws.root, "a.txt"), path.join(ws.root, "c.txt"));
  fs.writeFileSync(path.join(ws.root, "d.txt"), "shared content\n");
  await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
  return ws;
}

function expectLinkedAsAtCheckpoint(root: string): void {
  expect(ino(root, "docs/b.txt")).toBe(ino(root, "a.txt"));
  expect(ino(root, "c.txt")).toBe(ino(root, "a.txt"));
  expect(fs.lstatSync(path.join(root, "a.txt")).nlink).toBe(3);
  expect(ino(root, "d.txt")).not.toBe(ino(root, "a.txt"));
  expect(fs.lstatSync(path.join(root, "d.txt")).nlink).toBe(1);
  for (const rel of ["a.txt", "docs/b.txt", "c.txt", "d.txt"]) expect(read(root, rel)).toBe("shared content\n");
}

describe("hard links", () => {
  it("are put back by a rollback: names the agent split apart become one file again, and the plan says so", async () => {
    const ws = await workspace("hardlinks-rollback");
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    expect(created.files).toBe(4);

    // The agent edits a.txt in place (c.txt and docs/b.txt change with it), then saves docs/b.txt
    // the way editors do (write a new file, rename it over): it is a file of its own now.
    fs.appendFileSync(path.join(ws.root, "a.txt"), "edited\n");
    fs.writeFileSync(path.join(ws.root, "docs", "b.txt.tmp"), "shared content\nedited\n");
    fs.renameSync(path.join(ws.root, "docs", "b.txt.tmp"), path.join(ws.root, "docs", "b.txt"));
    expect(ino(ws.root, "docs/b.txt")).not.toBe(ino(ws.root, "a.txt"));

    const plan = await cliJson<PlanJson>(ws, ["rollback", created.id, "--dry-run"]);
    expect(plan.restore.find((r) => r.path === "docs/b.txt")?.action).toBe("link");
    expect(plan.restore.find((r) => r.path === "c.txt")?.action).toBe("link");
    const text = await runCli(ws, ["rollback", created.id, "--dry-run"]);
    expect(text.stdout).toMatch(/docs\/b\.txt.*same file as a\.txt/);

    await cliJson(ws, ["rollback", created.id, "--yes"]);
    expectLinkedAsAtCheckpoint(ws.root);
    // Nothing left to do: the links are what the checkpoint holds.
    expect(await cliJson<PlanJson>(ws, ["rollback", created.id, "--dry-run"])).toMatchObject({ restore: [], delete: [] });
  });

  it("a rollback of some paths leaves a name alone that is still one file with its first name outside those paths, and links it again once split", async () => {
    const ws = await workspace("hardlinks-restricted");
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);

    // Nothing changed: docs/b.txt is still another name of a.txt, which the paths leave out.
    const unchanged = await cliJson<PlanJson>(ws, ["rollback", created.id, "--path", "docs/b.txt", "--path", "d.txt", "--dry-run"]);
    expect(unchanged.restore).toEqual([]);
    expect(unchanged.delete).toEqual([]);

    // Saved the way editors do, it is a file of its own: the same rollback links it to a.txt again.
    fs.writeFileSync(path.join(ws.root, "docs", "b.txt.tmp"), "shared content\n");
    fs.renameSync(path.join(ws.root, "docs", "b.txt.tmp"), path.join(ws.root, "docs", "b.txt"));
    const split = await cliJson<PlanJson>(ws, ["rollback", created.id, "--path", "docs/b.txt", "--path", "d.txt", "--dry-run"]);
    expect(split.restore).toEqual([expect.objectContaining({ path: "docs/b.txt", action: "link" })]);
    const done = await cliJson<{ restored: number; restoredPaths: string[] }>(ws, ["rollback", created.id, "--path", "docs/b.txt", "--path", "d.txt", "--yes"]);
    expect(done).toMatchObject({ restored: 1, restoredPaths: ["docs/b.txt"] });
    expectLinkedAsAtCheckpoint(ws.root);
  });

  it("a file the agent linked to another is made its own file again", async () => {
    const ws = await workspace("hardlinks-separate");
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    // d.txt becomes another name of a.txt (same bytes, so only the link tells them apart).
    fs.rmSync(path.join(ws.root, "d.txt"));
    fs.linkSync(path.join(ws.root, "a.txt"), path.join(ws.root, "d.txt"));
    const diff = await cliJson<{ linkChanged: { path: string }[] }>(ws, ["checkpoint", "diff", created.id]);
    expect(diff.linkChanged.map((e) => e.path)).toEqual(["d.txt"]);
    await cliJson(ws, ["rollback", created.id, "--yes"]);
    expectLinkedAsAtCheckpoint(ws.root);
  });

  it("a file linked to another and given a new mode in one step has the mode change in its history", async () => {
    const ws = await workspace("hardlinks-mode");
    await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    // d.txt becomes another name of a.txt (same bytes) and the file turns executable: a.txt's mode changes with it.
    fs.rmSync(path.join(ws.root, "d.txt"));
    fs.linkSync(path.join(ws.root, "a.txt"), path.join(ws.root, "d.txt"));
    fs.chmodSync(path.join(ws.root, "d.txt"), 0o755);
    const after = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);

    const history = await cliJson<{ items: { checkpointId: string; change: string }[] }>(ws, ["log", "web", "d.txt"]);

    expect(history.items[0]).toMatchObject({ checkpointId: after.id, change: "mode" });
    const linkedName = await cliJson<{ items: { checkpointId: string; change: string }[] }>(ws, ["log", "web", "a.txt"]);
    expect(linkedName.items[0]).toMatchObject({ checkpointId: after.id, change: "mode" });
  });

  it("a mode or mtime put back on a file leaves its other names outside the checkpoint's scope as they were", async () => {
    const ws = await workspace("hardlinks-out-of-scope");
    const partial = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web", "--path", "d.txt"]);
    // outside.txt, which the partial checkpoint does not cover, becomes another name of d.txt; then the file's
    // mode and mtime change (through either name: they are one file).
    fs.linkSync(path.join(ws.root, "d.txt"), path.join(ws.root, "outside.txt"));
    fs.chmodSync(path.join(ws.root, "d.txt"), 0o600);
    const old = new Date("2021-03-04T05:06:07Z");
    fs.utimesSync(path.join(ws.root, "d.txt"), old, old);

    await cliJson(ws, ["rollback", partial.id, "--yes"]);

    const restored = fs.lstatSync(path.join(ws.root, "d.txt"));
    const outside = fs.lstatSync(path.join(ws.root, "outside.txt"));
    expect(restored.mode & 0o777).toBe(0o644);
    expect(restored.mtimeMs).not.toBe(old.getTime());
    expect(outside.mode & 0o777).toBe(0o600);
    expect(outside.mtimeMs).toBe(old.getTime());
    expect(read(ws.root, "outside.txt")).toBe("shared content\n");
    expect(read(ws.root, "d.txt")).toBe("shared content\n");
    expect(await cliJson<PlanJson>(ws, ["rollback", partial.id, "--dry-run"])).toMatchObject({ restore: [], delete: [] });
  });

  it("a mode put back on files that are one file keeps them one file", async () => {
    const ws = await workspace("hardlinks-mode-back");
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    fs.chmodSync(path.join(ws.root, "c.txt"), 0o755);
    const plan = await cliJson<PlanJson>(ws, ["rollback", created.id, "--dry-run"]);
    expect(plan.restore.map((r) => r.path).sort()).toEqual(["a.txt", "c.txt", "docs/b.txt"]);
    await cliJson(ws, ["rollback", created.id, "--yes"]);
    expectLinkedAsAtCheckpoint(ws.root);
    expect(fs.lstatSync(path.join(ws.root, "a.txt")).mode & 0o777).toBe(0o644);
    expect(await cliJson<PlanJson>(ws, ["rollback", created.id, "--dry-run"])).toMatchObject({ restore: [], delete: [] });
  });

  it("are kept by a restore into another folder and by a tar export", async () => {
    const ws = await workspace("hardlinks-restore");
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    const target = path.join(ws.base, "restored");
    await cliJson(ws, ["checkpoint", "restore", created.id, "--to", target]);
    expectLinkedAsAtCheckpoint(target);

    const archive = path.join(ws.base, "out.tar.gz");
    await cliJson(ws, ["checkpoint", "export", created.id, "--format", "tar.gz", "-o", archive]);
    const unpacked = makeTempDir("hardlinks-untar");
    execFileSync("tar", ["-xzf", archive, "-C", unpacked]);
    expectLinkedAsAtCheckpoint(path.join(unpacked, `web-${created.id}`));
  });

  it("are stored as copies in a zip, which cannot hold them, and the export says so", async () => {
    const ws = await workspace("hardlinks-zip");
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    const report = await cliJson<{ warnings: { path: string; reason: string }[] }>(ws, ["checkpoint", "export", created.id, "--format", "zip", "-o", path.join(ws.base, "out.zip")]);
    expect(report.warnings.map((w) => w.path).sort()).toEqual(["c.txt", "docs/b.txt"]);
    expect(report.warnings[0]?.reason).toMatch(/copy of a\.txt/);
  });
});
