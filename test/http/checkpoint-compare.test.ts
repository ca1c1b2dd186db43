/**
 * What the console's cards and compare view read, over HTTP against the production
 * server: checkpoint.changes (one checkpoint's change records, paged), a rollback
 * plan's mode changes, checkpoint.diff of one path and of a damaged checkpoint
 * (damaged rows marked, the rest compared), and the archive of a damaged checkpoint
 * (refused, or its intact files only, labelled partial).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { Api, createToken, expectError, makeComponent, writeTree } from "./api";
import { corruptObjectUndoablyEverywhere } from "../support/object-store-location";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);
const scratch = mkdtempSync(path.join(os.tmpdir(), "safetynet-compare-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

interface ChangesPage {
  checkpointId: string;
  against: string | null;
  counts: { added: number; modified: number; deleted: number } | null;
  items: { path: string; change: string; kind: string; oldMode: number | null; newMode: number | null; size: number | null }[];
  nextCursor: string | null;
}

interface DiffEntry {
  path: string;
  patch?: string | null;
  damaged?: string;
  before?: { mode: number };
  after?: { mode: number };
}

interface Diff {
  added: DiffEntry[];
  modified: DiffEntry[];
  deleted: DiffEntry[];
  modeChanged: DiffEntry[];
  unchanged: number;
  damaged: { path: string | null; state: string; checkpointId: string }[];
}

/** Flips a byte of the stored object holding `content` (in the bucket too, on the S3 pass); returns a function that puts it back. */
function corruptObject(content: string | Buffer): Promise<() => Promise<void>> {
  return corruptObjectUndoablyEverywhere(server.dataDir, sha256(content));
}

async function checkpoint(component: string, reason: string): Promise<string> {
  return (await admin.call<{ id: string }>("checkpoint.create", { component, reason })).id;
}

describe("checkpoint.changes", () => {
  it("pages one checkpoint's changes against the previous one in path order, with kinds and modes; the first checkpoint has none", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "a.txt": "a\n", "c.txt": "c\n", "run.sh": "#!/bin/sh\n", "keep.txt": "k\n" });
    chmodSync(path.join(root, "run.sh"), 0o644);
    const first = await checkpoint(name, "first");
    writeTree(root, { "a.txt": "a changed\n", "b.txt": "new\n", "lib/new/deep.txt": "deep\n" });
    rmSync(path.join(root, "c.txt"));
    chmodSync(path.join(root, "run.sh"), 0o755);
    const second = await checkpoint(name, "second");

    const start = await admin.get<ChangesPage>("checkpoint.changes", { id: first });
    expect(start).toEqual({ checkpointId: first, against: null, counts: null, items: [], nextCursor: null });

    const all = await admin.get<ChangesPage>("checkpoint.changes", { id: second });
    expect(all.against).toBe(first);
    expect(all.counts).toEqual({ added: 2, modified: 2, deleted: 1 });
    // Folders are not listed (lib/ and lib/new/ were added too): the list is of the files the counts count.
    expect(all.items.map((i) => [i.path, i.change])).toEqual([
      ["a.txt", "modified"],
      ["b.txt", "added"],
      ["c.txt", "deleted"],
      ["lib/new/deep.txt", "added"],
      ["run.sh", "mode"],
    ]);
    const mode = all.items.find((i) => i.path === "run.sh");
    expect([(mode?.oldMode ?? 0) & 0o777, (mode?.newMode ?? 0) & 0o777]).toEqual([0o644, 0o755]);
    expect(all.nextCursor).toBeNull();

    const page1 = await admin.get<ChangesPage>("checkpoint.changes", { id: second, limit: 2 });
    expect(page1.items.map((i) => i.path)).toEqual(["a.txt", "b.txt"]);
    expect(page1.nextCursor).toBe("b.txt");
    const page2 = await admin.get<ChangesPage>("checkpoint.changes", { id: second, limit: 2, cursor: page1.nextCursor });
    expect(page2.items.map((i) => i.path)).toEqual(["c.txt", "lib/new/deep.txt"]);
    const page3 = await admin.get<ChangesPage>("checkpoint.changes", { id: second, limit: 2, cursor: page2.nextCursor });
    expect(page3.items.map((i) => i.path)).toEqual(["run.sh"]);
    expect(page3.nextCursor).toBeNull();
  });

  it("refuses an unknown id (404), a bad limit (400), and a token scoped to another component (403)", async () => {
    const { name } = await makeComponent(admin, server.workspace, { "x.txt": "x\n" });
    const id = await checkpoint(name, "one");
    expectError(await admin.query("checkpoint.changes", { id: "cp_doesnotexist" }), 404);
    expect(expectError(await admin.query("checkpoint.changes", { id, limit: 0 }), 400).data.field).toBe("limit");
    const other = await makeComponent(admin, server.workspace, { "y.txt": "y\n" });
    const scoped = await createToken(admin, "viewer", [other.name]);
    expectError(await admin.as(scoped.token).query("checkpoint.changes", { id }), 403);
  });
});

describe("rollback.plan and checkpoint.diff of one path", () => {
  it("shows a mode change 0644 → 0755 on a file whose content changed too, and diffs just that path", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "tool.sh": "#!/bin/sh\necho one\n", "other.txt": "other\n" });
    chmodSync(path.join(root, "tool.sh"), 0o644);
    const id = await checkpoint(name, "before");
    writeFileSync(path.join(root, "tool.sh"), "#!/bin/sh\necho two\n");
    chmodSync(path.join(root, "tool.sh"), 0o755);
    writeFileSync(path.join(root, "other.txt"), "other changed\n");

    const plan = await admin.call<{ restore: { path: string; action: string; modeChange?: { live: number; restored: number } }[] }>("rollback.plan", { checkpointId: id });
    const tool = plan.restore.find((r) => r.path === "tool.sh");
    expect(tool?.action).toBe("write");
    expect([(tool?.modeChange?.live ?? 0) & 0o777, (tool?.modeChange?.restored ?? 0) & 0o777]).toEqual([0o755, 0o644]);
    expect(plan.restore.find((r) => r.path === "other.txt")?.modeChange).toBeUndefined();

    const one = await admin.get<Diff>("checkpoint.diff", { id, path: "tool.sh", textDiff: true });
    expect(one.modified.map((e) => e.path)).toEqual(["tool.sh"]);
    expect(one.modified[0]?.patch).toMatch(/-echo one\n\+echo two/);
    expect([(one.modified[0]?.before?.mode ?? 0) & 0o777, (one.modified[0]?.after?.mode ?? 0) & 0o777]).toEqual([0o644, 0o755]);
    expect(one.added.length + one.deleted.length + one.modeChanged.length).toBe(0);
  });
});

describe("a damaged checkpoint", () => {
  it("is diffed with its damaged row marked and the intact rows patched, and records the damage it found", async () => {
    const damagedContent = `damaged ${Date.now()}\n`;
    const { name, root } = await makeComponent(admin, server.workspace, { "bad.txt": damagedContent, "good.txt": "good one\n", "same.txt": "same\n" });
    const id = await checkpoint(name, "to damage");
    writeTree(root, { "bad.txt": "bad changed\n", "good.txt": "good two\n", "new.txt": "new\n" });
    const restore = await corruptObject(damagedContent);
    try {
      const diff = await admin.get<Diff>("checkpoint.diff", { id, textDiff: true });
      const bad = diff.modified.find((e) => e.path === "bad.txt");
      const good = diff.modified.find((e) => e.path === "good.txt");
      expect(bad).toMatchObject({ damaged: "corrupt", patch: null });
      expect(good?.damaged).toBeUndefined();
      expect(good?.patch).toMatch(/-good one\n\+good two/);
      expect(diff.added.map((e) => e.path)).toEqual(["new.txt"]);
      expect(diff.damaged).toEqual([expect.objectContaining({ path: "bad.txt", state: "corrupt", checkpointId: id })]);
      const detail = await admin.get<{ verifyState: string; damagedFiles: { path: string; state: string }[] }>("checkpoint.get", { id });
      expect(detail.verifyState).toBe("corrupt");
      expect(detail.damagedFiles).toEqual([expect.objectContaining({ path: "bad.txt", state: "corrupt" })]);

      // Known damage marks the row without reading the object again (a diff without patches too).
      const plain = await admin.get<Diff>("checkpoint.diff", { id });
      expect(plain.modified.find((e) => e.path === "bad.txt")?.damaged).toBe("corrupt");
    } finally {
      await restore();
    }
  });

  it("fails a diff only when a compared manifest is damaged (422), and records that damage on its checkpoint", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "m.txt": "m\n" });
    const first = await checkpoint(name, "first");
    writeTree(root, { "m.txt": "m changed\n" });
    const second = await checkpoint(name, "second");
    const manifestSha = (await admin.get<{ manifestSha256: string }>("checkpoint.get", { id: first })).manifestSha256;
    const repair = await corruptObjectUndoablyEverywhere(server.dataDir, manifestSha);
    try {
      const refused = expectError(await admin.query("checkpoint.diff", { id: first, against: second }), 422);
      expect(refused.message).toMatch(/corrupt/);
      const listed = await admin.get<{ items: { id: string; verifyState: string }[] }>("checkpoint.list", { component: name });
      expect(listed.items.find((c) => c.id === first)?.verifyState).toBe("corrupt");
      // The intact checkpoint against the live workspace still diffs.
      expect((await admin.get<Diff>("checkpoint.diff", { id: second })).damaged).toEqual([]);
    } finally {
      await repair();
    }
  });

  it("refuses its archive naming the damaged file, and with intact=1 sends the intact files only, named partial, listing what was left out", async () => {
    const damagedContent = `lost ${Date.now()}\n`;
    const { name } = await makeComponent(admin, server.workspace, { "lost.txt": damagedContent, "kept/one.txt": "one\n", "kept/two.txt": "two\n" });
    const id = await checkpoint(name, "to damage");
    const restore = await corruptObject(damagedContent);
    try {
      await admin.call("checkpoint.verify", { id });
      const headers = { authorization: `Bearer ${server.adminToken}` };
      const refused = await fetch(`${server.baseUrl}/api/checkpoints/${id}/archive?format=tar.gz`, { headers });
      expect(refused.status).toBe(422);
      const body = (await refused.json()) as { error: { message: string; data: { details: Record<string, unknown> } } };
      expect(body.error.message).toMatch(/lost\.txt \(corrupt\)/);
      expect(body.error.data.details).toMatchObject({ intactAvailable: true });

      const partial = await fetch(`${server.baseUrl}/api/checkpoints/${id}/archive?format=tar.gz&intact=1`, { headers });
      expect(partial.status).toBe(200);
      expect(partial.headers.get("content-disposition")).toBe(`attachment; filename="${name}-${id}-partial.tar.gz"`);
      expect(partial.headers.get("x-safetynet-partial")).toBe("1");
      const file = path.join(scratch, `${id}.tar.gz`);
      writeFileSync(file, Buffer.from(await partial.arrayBuffer()));
      const into = mkdtempSync(path.join(scratch, "x-"));
      execFileSync("tar", ["-xzf", file, "-C", into]);
      const folder = path.join(into, `${name}-${id}`);
      expect(readFileSync(path.join(folder, "kept/one.txt"), "utf8")).toBe("one\n");
      expect(readFileSync(path.join(folder, "kept/two.txt"), "utf8")).toBe("two\n");
      expect(existsSync(path.join(folder, "lost.txt"))).toBe(false);
      const notes = JSON.parse(readFileSync(path.join(folder, ".safetynet-export-notes.json"), "utf8")) as { path: string; archivedAs: string | null; reason: string }[];
      expect(notes).toEqual([expect.objectContaining({ path: "lost.txt", archivedAs: null, reason: expect.stringMatching(/corrupt: left out of this archive of the intact files only/) })]);
    } finally {
      await restore();
    }
  });
});
