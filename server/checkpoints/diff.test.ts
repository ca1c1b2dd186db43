import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { addComponent, cleanUpAfterEach, corruptObject, deleteObject, openWorkspace, readTree, sha256Of, TEST_ACTOR, treeDifferences, writeTree } from "../../test/support/workspace";
import { writeCartProject } from "../../test/support/fixtures";
import { NotFoundError } from "../errors";
import { createCheckpoint } from "./create";
import { diffCheckpoint } from "./diff";
import { getCheckpoint } from "./queries";

cleanUpAfterEach();

describe("checkpoint diff", () => {
  it("classifies every change since the checkpoint: added, modified, deleted, mode-changed and type-changed; and a file whose only change is its mtime", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, {
      "a.txt": "a\n",
      "b.txt": "b\n",
      "c.sh": { content: "#!/bin/sh\n", mode: 0o644 },
      "d": "a file that becomes a folder\n",
      "e/x.txt": "a folder that becomes a file\n",
      "f": { link: "a.txt" },
      "g.txt": "only touched\n",
      "h.txt": "untouched\n",
    });
    await addComponent(ws);
    const checkpoint = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    const at = (rel: string) => path.join(ws.root, rel);
    fs.writeFileSync(at("a.txt"), "changed\n");
    fs.rmSync(at("b.txt"));
    fs.chmodSync(at("c.sh"), 0o755);
    fs.rmSync(at("d"));
    writeTree(ws.root, { "d/inside.txt": "new\n", "new.txt": "new\n" });
    fs.rmSync(at("e"), { recursive: true });
    fs.writeFileSync(at("e"), "now a file\n");
    fs.rmSync(at("f"));
    fs.symlinkSync("h.txt", at("f"));
    fs.utimesSync(at("g.txt"), new Date(), new Date("2030-01-01"));

    const diff = await diffCheckpoint(ws.core, checkpoint.id);

    const paths = (entries: { path: string }[]) => entries.map((e) => e.path);
    expect(paths(diff.added)).toEqual(["d/inside.txt", "new.txt"]);
    expect(paths(diff.modified)).toEqual(["a.txt", "f"]);
    expect(paths(diff.deleted)).toEqual(["b.txt", "e/x.txt"]);
    expect(diff.modeChanged).toEqual([expect.objectContaining({ path: "c.sh", before: expect.objectContaining({ mode: 0o644 }), after: expect.objectContaining({ mode: 0o755 }) })]);
    expect(diff.typeChanged.map((e) => [e.path, e.before?.kind, e.after?.kind])).toEqual([
      ["d", "file", "dir"],
      ["e", "dir", "file"],
    ]);
    expect(diff.modified.find((e) => e.path === "f")).toMatchObject({ before: { linkTarget: "a.txt" }, after: { linkTarget: "h.txt" } });
    // Only its mtime changed: reported, because a rollback puts the old mtime back.
    expect(paths(diff.mtimeChanged)).toEqual(["g.txt"]);
    expect(diff.unchanged).toBe(1);
  });

  it("gives a unified diff for a modified text file when asked, and none for a binary file", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "notes.md": "line one\nline two\nline three\n", "image.bin": Buffer.from([0, 1, 2, 3, 0, 5]) });
    await addComponent(ws);
    const checkpoint = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    fs.writeFileSync(path.join(ws.root, "notes.md"), "line one\nline 2\nline three\n");
    fs.writeFileSync(path.join(ws.root, "image.bin"), Buffer.from([0, 9, 9, 9, 0]));

    const withPatch = await diffCheckpoint(ws.core, checkpoint.id, { textDiff: true });
    const withoutPatch = await diffCheckpoint(ws.core, checkpoint.id);

    const notes = withPatch.modified.find((e) => e.path === "notes.md");
    expect(notes?.patch).toContain("--- a/notes.md\tcheckpoint\n+++ b/notes.md\tlive\n");
    expect(notes?.patch).toContain("@@ -1,3 +1,3 @@\n line one\n-line two\n+line 2\n line three\n");
    expect(withPatch.modified.find((e) => e.path === "image.bin")?.patch).toBeNull();
    expect(withoutPatch.modified.every((e) => e.patch === undefined)).toBe(true);
  });

  it("only reads: the workspace and the store are left exactly as they were", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "a\n", "b.txt": "b\n" });
    await addComponent(ws);
    const checkpoint = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    writeTree(ws.root, { "a.txt": "new content that is not stored anywhere\n", "c.txt": "added\n" });
    const before = readTree(ws.root);
    const storeBefore = ws.core.store.stats();

    await diffCheckpoint(ws.core, checkpoint.id, { textDiff: true });

    expect(treeDifferences(before, readTree(ws.root), { inode: true, mtime: "all" })).toEqual([]);
    expect(ws.core.store.stats()).toEqual(storeBefore);
  });

  it("compares only the checkpoint's scope for a partial checkpoint", async () => {
    const ws = openWorkspace();
    writeCartProject(ws.root);
    await addComponent(ws);
    const checkpoint = await createCheckpoint(ws.core, { component: "app", paths: ["src/cart.ts"] }, TEST_ACTOR);
    for (const rel of ["src/cart.css", "src/other.ts"]) fs.appendFileSync(path.join(ws.root, rel), "/* agent */\n");
    writeTree(ws.root, { "src/new.ts": "new\n" });

    const diff = await diffCheckpoint(ws.core, checkpoint.id);

    expect({ added: diff.added, modified: diff.modified.map((e) => e.path), deleted: diff.deleted }).toEqual({ added: [], modified: ["src/cart.css"], deleted: [] });
    expect(diff.unchanged).toBe(3);
  });

  it("refuses an unknown checkpoint id with NotFoundError", async () => {
    const ws = openWorkspace();
    await expect(diffCheckpoint(ws.core, "cp_doesnotexist")).rejects.toThrow(NotFoundError);
  });

  it("compares two checkpoints with damaged objects on either side: the damaged rows are marked and unpatched, the rest patched, and the damage recorded on each", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "old.txt": "old side\n", "fine.txt": "fine one\n", "new.txt": "unchanged\n" });
    await addComponent(ws);
    const first = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    writeTree(ws.root, { "old.txt": "old side changed\n", "fine.txt": "fine two\n", "new.txt": "new side\n" });
    const second = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    await corruptObject(ws.dataDir, sha256Of("old side\n"));
    await deleteObject(ws.dataDir, sha256Of("new side\n"));

    const diff = await diffCheckpoint(ws.core, first.id, { against: second.id, textDiff: true });

    const byPath = new Map(diff.modified.map((e) => [e.path, e]));
    expect(byPath.get("old.txt")).toMatchObject({ damaged: "corrupt", patch: null });
    expect(byPath.get("new.txt")).toMatchObject({ damaged: "missing", patch: null });
    expect(byPath.get("fine.txt")?.damaged).toBeUndefined();
    expect(byPath.get("fine.txt")?.patch).toMatch(/-fine one\n\+fine two/);
    expect(diff.damaged.map((d) => [d.checkpointId, d.path, d.state]).sort()).toEqual(
      [
        [first.id, "old.txt", "corrupt"],
        [second.id, "new.txt", "missing"],
      ].sort(),
    );
    expect((await getCheckpoint(ws.core, first.id)).damagedFiles).toEqual([expect.objectContaining({ path: "old.txt", state: "corrupt" })]);
    expect((await getCheckpoint(ws.core, second.id)).damagedFiles).toEqual([expect.objectContaining({ path: "new.txt", state: "missing" })]);
  });
});
