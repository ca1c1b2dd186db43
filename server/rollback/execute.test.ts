import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  addComponent,
  cleanUpAfterEach,
  corruptObject,
  deleteObject,
  fillDisk,
  filterTree,
  isIgnoredByDefault,
  journalFiles,
  makeTree,
  mountTinyDisk,
  mutateTree,
  openCoreOn,
  openWorkspace,
  readTree,
  rollbackTo,
  sha256Of,
  TEST_ACTOR,
  tmpfsUnavailableReason,
  treeDifferences,
  writeTree,
  type Workspace,
} from "../../test/support/workspace";
import { editEdgeCaseTree, writeCartProject, writeEdgeCaseTree } from "../../test/support/fixtures";
import { createCheckpoint } from "../checkpoints/create";
import { readManifest } from "../checkpoints/manifest";
import { listCheckpoints } from "../checkpoints/queries";
import { listHistory } from "../audit/history";
import { getComponent, upsertComponent } from "../registry/components";
import { ConflictError, IntegrityError, InvalidInputError, InsufficientStorageError } from "../errors";
import { computePlanForCheckpoint, planRollback } from "./preview";
import { executeRollback } from "./execute";

cleanUpAfterEach();

const notIgnored = (rel: string) => !isIgnoredByDefault(rel);

async function checkpointOf(ws: Workspace, paths?: string[]) {
  return createCheckpoint(ws.core, { component: "app", paths }, TEST_ACTOR);
}

/** The sha256 the checkpoint recorded for `rel`. */
function recordedSha(ws: Workspace, manifestSha256: string, rel: string): string {
  const entry = readManifest(ws.core.store, manifestSha256).entries.find((e) => e.path === rel);
  if (!entry?.sha256) throw new Error(`${rel} is not a file of manifest ${manifestSha256}`);
  return entry.sha256;
}

async function checkpointCount(ws: Workspace): Promise<number> {
  return (await listCheckpoints(ws.core, { component: "app" })).items.length;
}

describe("rollback of a whole component", () => {
  it("puts back the content, mode and mtime of every file after an agent's refactor, removes what the agent created and never touches ignored files (SC-001)", async () => {
    const ws = openWorkspace();
    makeTree(ws.root, { files: 300, mb: 2 });
    await addComponent(ws);
    const original = readTree(ws.root);
    const checkpoint = await checkpointOf(ws);

    const mutation = mutateTree(ws.root, { changes: 60 });
    writeTree(ws.root, {
      "node_modules/left-pad/index.js": "module.exports = () => {};\n",
      "dist/agent-bundle.js": "console.log('built after the checkpoint');\n",
      "agent-run.log": "added after the checkpoint\n",
      ".git/ORIG_HEAD": "0000000000000000000000000000000000000000\n",
    });
    fs.appendFileSync(path.join(ws.root, "debug.log"), "appended after the checkpoint\n");
    const beforeRollback = readTree(ws.root);
    expect(treeDifferences(filterTree(original, notIgnored), filterTree(beforeRollback, notIgnored)).length).toBeGreaterThan(mutation.modified);
    const createdByAgent = [...beforeRollback.keys()].filter((p) => !original.has(p) && notIgnored(p));
    expect(createdByAgent.length).toBeGreaterThanOrEqual(mutation.added);

    const result = await rollbackTo(ws.core, checkpoint.id);

    const after = readTree(ws.root);
    expect(result).toMatchObject({ outcome: "succeeded", checkpointId: checkpoint.id, component: "app" });
    expect(treeDifferences(filterTree(original, notIgnored), filterTree(after, notIgnored))).toEqual([]);
    expect(createdByAgent.filter((p) => after.has(p))).toEqual([]);
    // Ignored files, old and new, are exactly as they were before the rollback: same bytes, same inode.
    expect(treeDifferences(filterTree(beforeRollback, isIgnoredByDefault), filterTree(after, isIgnoredByDefault), { inode: true, mtime: "all" })).toEqual([]);
    expect(after.get("agent-run.log")?.kind).toBe("file");
    expect(after.get("node_modules/left-pad/index.js")?.kind).toBe("file");
  });

  it("restores binary, empty, unicode- and space-named files, exec bits, symlinks (never following those that point outside), empty folders, a renamed folder, type changes and the mtimes of files and folders", async () => {
    const ws = openWorkspace();
    const outside = writeEdgeCaseTree(ws.root, path.join(ws.base, "outside"));
    await addComponent(ws);
    const original = readTree(ws.root);
    const checkpoint = await checkpointOf(ws);
    expect(ws.core.store.has(sha256Of(outside.outsideContent))).toBe(false);

    editEdgeCaseTree(ws.root);
    await rollbackTo(ws.core, checkpoint.id);

    expect(treeDifferences(original, readTree(ws.root), { mtime: "all" })).toEqual([]);
    expect(fs.readFileSync(outside.outsideFile).equals(outside.outsideContent)).toBe(true);
    expect(ws.core.store.has(sha256Of(outside.outsideContent))).toBe(false);
  });

  it("can itself be undone: rolling back to the returned safety checkpoint brings back the agent's version exactly", async () => {
    const ws = openWorkspace();
    writeEdgeCaseTree(ws.root, path.join(ws.base, "outside"));
    await addComponent(ws);
    const checkpoint = await checkpointOf(ws);
    editEdgeCaseTree(ws.root);
    const agentVersion = readTree(ws.root);

    const rollback = await rollbackTo(ws.core, checkpoint.id);
    expect(rollback.safetyCheckpointId).toMatch(/^cp_/);
    const undo = await rollbackTo(ws.core, rollback.safetyCheckpointId as string);

    expect(undo.outcome).toBe("succeeded");
    expect(treeDifferences(agentVersion, readTree(ws.root), { mtime: "all" })).toEqual([]);
  });

  it("writes only what differs: unchanged files keep their inode, and a second rollback finds nothing left to do", async () => {
    const ws = openWorkspace();
    makeTree(ws.root, { files: 60, mb: 0.5 });
    await addComponent(ws);
    const checkpoint = await checkpointOf(ws);
    const files = [...readTree(ws.root)].filter(([rel, n]) => n.kind === "file" && notIgnored(rel)).map(([rel]) => rel);
    const [modifiedA, modifiedB, deleted] = files as [string, string, string];
    fs.appendFileSync(path.join(ws.root, modifiedA), "// agent\n");
    fs.writeFileSync(path.join(ws.root, modifiedB), "rewritten\n");
    fs.rmSync(path.join(ws.root, deleted));
    fs.writeFileSync(path.join(ws.root, "src", "added-by-agent.ts"), "export {};\n");
    const beforeRollback = readTree(ws.root);

    const result = await rollbackTo(ws.core, checkpoint.id);

    expect(result.restoredPaths.map((r) => [r.path, r.action]).sort()).toEqual(
      [
        [deleted, "recreate"],
        [modifiedA, "write"],
        [modifiedB, "write"],
      ].sort(),
    );
    expect(result.deletedPaths.map((d) => d.path)).toEqual(["src/added-by-agent.ts"]);
    const untouched = (rel: string) => notIgnored(rel) && ![modifiedA, modifiedB, deleted, "src/added-by-agent.ts"].includes(rel);
    expect(treeDifferences(filterTree(beforeRollback, untouched), filterTree(readTree(ws.root), untouched), { inode: true })).toEqual([]);

    const again = await computePlanForCheckpoint(ws.core, checkpoint.id);
    expect({ restore: again.restore, delete: again.delete }).toEqual({ restore: [], delete: [] });
  });

  it("keeps a folder the agent created when it holds ignored files, removing only the agent's files in it", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { ".gitignore": "*.log\n", "src/a.ts": "a\n" });
    await addComponent(ws);
    const checkpoint = await checkpointOf(ws);
    writeTree(ws.root, { "src/new/feature.ts": "new\n", "src/new/trace.log": "ignored\n", "src/new/node_modules/x/index.js": "ignored\n" });

    await rollbackTo(ws.core, checkpoint.id);

    const after = readTree(ws.root);
    expect(after.has("src/new/feature.ts")).toBe(false);
    expect(fs.readFileSync(path.join(ws.root, "src/new/trace.log"), "utf8")).toBe("ignored\n");
    expect(after.get("src/new/node_modules/x/index.js")?.kind).toBe("file");
  });
});

describe("rollback of a partial checkpoint", () => {
  it("restores only the checkpointed files and their related files, leaving every other file as the agent left it", async () => {
    const ws = openWorkspace();
    writeCartProject(ws.root);
    await addComponent(ws);
    const original = readTree(ws.root);
    const checkpoint = await checkpointOf(ws, ["src/cart.ts"]);
    for (const rel of ["src/cart.ts", "src/cart.test.ts", "src/cart.css", "src/other.ts", "src/util/format.ts"]) fs.appendFileSync(path.join(ws.root, rel), "// agent\n");
    fs.rmSync(path.join(ws.root, "src/price.ts"));
    writeTree(ws.root, { "src/cart.extra.ts": "out of scope\n" });
    const agentVersion = readTree(ws.root);

    const result = await rollbackTo(ws.core, checkpoint.id);

    const inScope = new Set(["src/cart.ts", "src/cart.test.ts", "src/cart.css", "src/price.ts"]);
    const after = readTree(ws.root);
    expect(treeDifferences(filterTree(original, (p) => inScope.has(p)), filterTree(after, (p) => inScope.has(p)))).toEqual([]);
    const outOfScope = (p: string) => !inScope.has(p) && p !== "src";
    expect(treeDifferences(filterTree(agentVersion, outOfScope), filterTree(after, outOfScope), { inode: true })).toEqual([]);
    expect(result.deleted).toBe(0);
  });

  it("treats a directory path as its whole subtree: the agent's new files inside it are removed, files beside it are left alone", async () => {
    const ws = openWorkspace();
    writeCartProject(ws.root);
    await addComponent(ws);
    const original = readTree(ws.root);
    const checkpoint = await checkpointOf(ws, ["src/util"]);
    fs.writeFileSync(path.join(ws.root, "src/util/format.ts"), "changed\n");
    fs.rmSync(path.join(ws.root, "src/util/parse.ts"));
    writeTree(ws.root, { "src/util/new.ts": "agent\n", "src/util/deeper/new.ts": "agent\n", "src/beside.ts": "agent\n" });
    fs.appendFileSync(path.join(ws.root, "src/cart.ts"), "// agent\n");

    await rollbackTo(ws.core, checkpoint.id);

    const after = readTree(ws.root);
    const underUtil = (p: string) => p.startsWith("src/util/");
    expect(treeDifferences(filterTree(original, underUtil), filterTree(after, underUtil))).toEqual([]);
    expect(after.has("src/beside.ts")).toBe(true);
    expect(fs.readFileSync(path.join(ws.root, "src/cart.ts"), "utf8")).toMatch(/\/\/ agent\n$/);
  });
});

describe("rollback refusals leave the workspace untouched", () => {
  async function prepareModified(ws: Workspace) {
    writeTree(ws.root, { "src/a.txt": "version one\n", "src/b.txt": "bee\n", "src/c.txt": "sea\n" });
    await addComponent(ws);
    const checkpoint = await checkpointOf(ws);
    writeTree(ws.root, { "src/a.txt": "version two\n", "src/b.txt": "bee two\n", "src/new.txt": "agent\n" });
    fs.rmSync(path.join(ws.root, "src/c.txt"));
    return checkpoint;
  }

  async function expectNothingChanged(ws: Workspace, before: ReturnType<typeof readTree>, checkpointsBefore: number) {
    expect(treeDifferences(before, readTree(ws.root), { inode: true, mtime: "all" })).toEqual([]);
    expect(journalFiles(ws.dataDir)).toEqual([]);
    expect(await checkpointCount(ws)).toBe(checkpointsBefore);
  }

  it("refuses a rollback when an object is corrupt, names the file, and leaves the workspace untouched", async () => {
    const ws = openWorkspace();
    const checkpoint = await prepareModified(ws);
    await corruptObject(ws.dataDir, recordedSha(ws, checkpoint.manifestSha256, "src/a.txt"));
    const before = readTree(ws.root);

    const error = await rollbackTo(ws.core, checkpoint.id).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as Error).message).toMatch(/src\/a\.txt \(corrupt\)/);
    expect((error as Error).message).not.toMatch(/src\/b\.txt/);
    await expectNothingChanged(ws, before, 1);
    const failed = (await listHistory(ws.core, { kind: "rollback" })).items[0];
    expect(failed).toMatchObject({ outcome: "failed", checkpointId: checkpoint.id });
    expect(failed?.error).toMatch(/src\/a\.txt \(corrupt\)/);
  });

  it("refuses a rollback when an object is missing, names the file, and leaves the workspace untouched", async () => {
    const ws = openWorkspace();
    const checkpoint = await prepareModified(ws);
    await deleteObject(ws.dataDir, recordedSha(ws, checkpoint.manifestSha256, "src/c.txt"));
    const before = readTree(ws.root);

    const error = await rollbackTo(ws.core, checkpoint.id).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as Error).message).toMatch(/src\/c\.txt \(missing\)/);
    await expectNothingChanged(ws, before, 1);
  });

  it("refuses a rollback whose checkpoint manifest is corrupt", async () => {
    const ws = openWorkspace();
    const checkpoint = await prepareModified(ws);
    await corruptObject(ws.dataDir, checkpoint.manifestSha256);
    const before = readTree(ws.root);

    await expect(rollbackTo(ws.core, checkpoint.id)).rejects.toThrow(IntegrityError);
    await expectNothingChanged(ws, before, 1);
  });

  it("refuses a rollback of a component whose root is no longer inside the allowed roots", async () => {
    const ws = openWorkspace();
    const checkpoint = await prepareModified(ws);
    const elsewhere = fs.mkdtempSync(path.join(ws.base, "elsewhere-"));
    const narrowed = openCoreOn(ws, [elsewhere], { fresh: true });
    const before = readTree(ws.root);

    const error = await rollbackTo(narrowed, checkpoint.id).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toContain(ws.root);
    expect((error as Error).message).toMatch(/outside the allowed roots/);
    await expectNothingChanged(ws, before, 1);
  });

  it("refuses a confirmed plan once the workspace changed after it was shown", async () => {
    const ws = openWorkspace();
    const checkpoint = await prepareModified(ws);
    const plan = await planRollback(ws.core, checkpoint.id, TEST_ACTOR);
    fs.appendFileSync(path.join(ws.root, "src/b.txt"), "changed after the plan was shown\n");
    const before = readTree(ws.root);

    const error = await executeRollback(ws.core, { checkpointId: checkpoint.id, confirmToken: plan.confirmToken }, TEST_ACTOR).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(/workspace changed since the plan/);
    await expectNothingChanged(ws, before, 1);
  });

  it.skipIf(tmpfsUnavailableReason() !== null)("refuses a rollback whose safety checkpoint cannot be stored because the data disk is full", async () => {
    const ws = openWorkspace({ beforeOpen: (dirs) => mountTinyDisk(path.join(dirs.dataDir, "store"), 1024) });
    writeTree(ws.root, { "src/a.txt": "small\n" });
    await addComponent(ws);
    const checkpoint = await checkpointOf(ws);
    writeTree(ws.root, { "src/a.txt": "changed\n", "src/huge.bin": Buffer.alloc(3 * 1024 * 1024, 7) });
    const before = readTree(ws.root);

    const error = await rollbackTo(ws.core, checkpoint.id).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InsufficientStorageError);
    expect((error as Error).message).toMatch(/not enough free space for the checkpoint/);
    expect((error as Error).message).toContain(path.join(ws.dataDir, "store"));
    await expectNothingChanged(ws, before, 1);
  });

  it.skipIf(tmpfsUnavailableReason() !== null)("refuses a rollback that would not fit on the workspace's disk before changing anything", async () => {
    const ws = openWorkspace({ beforeOpen: (dirs) => mountTinyDisk(dirs.root, 2048) });
    writeTree(ws.root, { "a-small.txt": "small\n", "b-big.bin": Buffer.alloc(900 * 1024, 1) });
    await addComponent(ws);
    const checkpoint = await checkpointOf(ws);
    writeTree(ws.root, { "a-small.txt": "edited\n", "b-big.bin": "shrunk by the agent\n", "new.txt": "agent\n" });
    fillDisk(path.join(ws.root, "node_modules", "filler.bin"), 200);
    const before = readTree(ws.root);

    const error = await rollbackTo(ws.core, checkpoint.id).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InsufficientStorageError);
    expect((error as Error).message).toMatch(/space/);
    expect((error as Error).message).toContain(ws.root);
    await expectNothingChanged(ws, before, 1);
  });
});

describe("free space on the workspace's disk", () => {
  it.skipIf(tmpfsUnavailableReason() !== null)("allows a rollback that fits once the agent's files it deletes are gone", async () => {
    const ws = openWorkspace({ beforeOpen: (dirs) => mountTinyDisk(dirs.root, 2048) });
    writeTree(ws.root, { "keep.bin": Buffer.alloc(600 * 1024, 1) });
    await addComponent(ws);
    const original = readTree(ws.root);
    const checkpoint = await checkpointOf(ws);
    fs.rmSync(path.join(ws.root, "keep.bin"));
    writeTree(ws.root, { "agent-output.bin": Buffer.alloc(1200 * 1024, 2) });
    fillDisk(path.join(ws.root, "node_modules", "filler.bin"), 100);

    const result = await rollbackTo(ws.core, checkpoint.id);

    expect(result).toMatchObject({ restored: 1, deleted: 1 });
    expect(treeDifferences(original, filterTree(readTree(ws.root), notIgnored))).toEqual([]);
  });
});

describe("one mutating operation per component", () => {
  it("lets exactly one of two concurrent rollbacks run; the other gets ConflictError", async () => {
    const ws = openWorkspace();
    makeTree(ws.root, { files: 60, mb: 0.5 });
    await addComponent(ws);
    const original = readTree(ws.root);
    const checkpoint = await checkpointOf(ws);
    mutateTree(ws.root, { changes: 30 });

    const outcomes = await Promise.allSettled([rollbackTo(ws.core, checkpoint.id), rollbackTo(ws.core, checkpoint.id)]);

    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.reason).toBeInstanceOf(ConflictError);
    expect((rejected[0]?.reason as Error).message).toMatch(/component "app" is locked/);
    expect(treeDifferences(filterTree(original, notIgnored), filterTree(readTree(ws.root), notIgnored))).toEqual([]);
  });
});

describe("component metadata", () => {
  it("puts back the component's metadata document as it was at the checkpoint, with status rolled-back", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "a\n" });
    await addComponent(ws, { metadata: { owner: "alice", version: "1.0.0" } });
    const checkpoint = await checkpointOf(ws);
    await upsertComponent(ws.core, { name: "app", root: ws.root, metadata: { version: "2.0.0-agent", status: "editing", note: "agent" } }, TEST_ACTOR);
    fs.writeFileSync(path.join(ws.root, "a.txt"), "b\n");

    const result = await rollbackTo(ws.core, checkpoint.id);

    const metadata = (await getComponent(ws.core, "app")).metadata;
    expect(metadata).toEqual({
      owner: "alice",
      version: "1.0.0",
      status: "rolled-back",
      rolledBack: { rollbackId: result.rollbackId, checkpointId: checkpoint.id, at: expect.any(String), statusBefore: "active" },
    });
    expect(Number.isNaN(Date.parse((metadata.rolledBack as { at: string }).at))).toBe(false);
  });

  it("keeps the status from before the first of consecutive rollbacks, and the next checkpoint taken on purpose puts it back", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "a\n" });
    await addComponent(ws, { metadata: { owner: "alice", status: "beta" } });
    const first = await checkpointOf(ws);
    fs.writeFileSync(path.join(ws.root, "a.txt"), "b\n");
    const rollback = await rollbackTo(ws.core, first.id);
    // Undo it (to its safety checkpoint), then roll back again: still "rolled back from beta".
    const undo = await rollbackTo(ws.core, rollback.safetyCheckpointId as string);
    const again = await rollbackTo(ws.core, first.id);
    const marked = (await getComponent(ws.core, "app")).metadata;
    expect(marked.status).toBe("rolled-back");
    expect(marked.rolledBack).toMatchObject({ rollbackId: again.rollbackId, checkpointId: first.id, statusBefore: "beta" });
    expect(undo.outcome).toBe("succeeded");

    const next = await createCheckpoint(ws.core, { component: "app", reason: "after the fix" }, TEST_ACTOR);
    expect((await getComponent(ws.core, "app")).metadata).toEqual({ owner: "alice", status: "beta" });
    // The new checkpoint holds the cleared document, and history says what changed.
    const [created] = (await listHistory(ws.core, { kind: "checkpoint.create", limit: 1 })).items;
    expect(created?.checkpointId).toBe(next.id);
    expect(created?.details).toMatchObject({ statusCleared: { from: "rolled-back", to: "beta" } });
  });
});
