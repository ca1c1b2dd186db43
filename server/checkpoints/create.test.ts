import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  addComponent,
  cleanUpAfterEach,
  git,
  isIgnoredByDefault,
  makeTree,
  mountTinyDisk,
  openCoreOn,
  openWorkspace,
  readTree,
  sha256Of,
  TEST_ACTOR,
  tmpfsUnavailableReason,
  writeTree,
  type Workspace,
} from "../../test/support/workspace";
import { writeCartProject, writeEdgeCaseTree } from "../../test/support/fixtures";
import { listHistory } from "../audit/history";
import { ConflictError, InvalidInputError, NotFoundError, InsufficientStorageError } from "../errors";
import { createCheckpoint } from "./create";
import { readManifest } from "./manifest";
import { getCheckpoint } from "./queries";

cleanUpAfterEach();

function manifestOf(ws: Workspace, manifestSha256: string) {
  return new Map(readManifest(ws.core.store, manifestSha256).entries.map((e) => [e.path, e]));
}

/** No checkpoint row and no snapshot record: nothing half-made is left. */
async function expectNoCheckpoint(ws: Workspace) {
  expect(await ws.core.db.checkpoint.count()).toBe(0);
  expect(fs.readdirSync(path.join(ws.dataDir, "store", "snapshots"))).toEqual([]);
}

async function lastCreateEvent(ws: Workspace) {
  return (await listHistory(ws.core, { kind: "checkpoint.create" })).items[0];
}

describe("checkpoint create", () => {
  it("records every file, folder and symlink with its kind, mode, size, mtime, sha256 or link target, and stores every file's bytes", async () => {
    const ws = openWorkspace();
    const outside = writeEdgeCaseTree(ws.root, path.join(ws.base, "outside"));
    await addComponent(ws);
    const tree = readTree(ws.root);

    const created = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);

    const manifest = manifestOf(ws, created.manifestSha256);
    expect([...manifest.keys()]).toEqual([...tree.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    for (const [rel, node] of tree) {
      const entry = manifest.get(rel);
      expect(entry, rel).toMatchObject({ kind: node.kind, reason: "primary" });
      if (node.kind !== "symlink") expect(entry?.mode, rel).toBe(node.mode);
      if (node.kind === "file") {
        expect(entry, rel).toMatchObject({ size: node.size, sha256: node.sha256, mtimeMs: node.mtimeMs });
        expect(sha256Of(ws.core.store.readBuffer(node.sha256 as string)), rel).toBe(node.sha256);
      }
      if (node.kind === "symlink") expect(entry?.linkTarget, rel).toBe(node.linkTarget);
    }
    expect(created).toMatchObject({ component: "app", kind: "manual", files: [...tree.values()].filter((n) => n.kind === "file").length });
    // Links that point outside the root are recorded as links: what they point to is never read.
    expect(manifest.get("links/outside-absolute")?.linkTarget).toBe(outside.outsideFile);
    expect(ws.core.store.has(sha256Of(outside.outsideContent))).toBe(false);
  });

  it("leaves out node_modules, .git, dist and files matched by .gitignore", async () => {
    const ws = openWorkspace();
    makeTree(ws.root, { files: 40, mb: 0.2 });
    writeTree(ws.root, { "src/trace.log": "ignored\n" });
    await addComponent(ws);

    const created = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);

    const paths = readManifest(ws.core.store, created.manifestSha256).entries.map((e) => e.path);
    expect(paths.filter((p) => isIgnoredByDefault(p))).toEqual([]);
    expect(paths).toContain(".gitignore");
    expect(paths.filter((p) => p.startsWith("src/")).length).toBeGreaterThan(40);
  });

  it("refuses a component whose root holds its own data directory (a rollback could otherwise reach the store)", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "a\n" });
    const core = openCoreOn({ ...ws, dataDir: path.join(ws.root, "sn-data") }, [ws.base], { fresh: true });

    await expect(addComponent({ ...ws, core })).rejects.toThrow(/contains the Safety Net data directory .*sn-data/);
  });

  it("stores each content once: a second checkpoint of an unchanged tree adds no bytes to the store", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "same\n", "b/a-copy.txt": "same\n", "c.bin": Buffer.alloc(70_000, 3) });
    await addComponent(ws);

    const first = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    const second = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);

    expect(first.newBytes).toBeGreaterThanOrEqual(5 + 70_000);
    expect(first.newBytes).toBeLessThan(2 * 70_000);
    expect(second).toMatchObject({ newBytes: 0, manifestSha256: first.manifestSha256 });
    expect(second.id).not.toBe(first.id);
  });

  it("records related tests, siblings and imports of a partial checkpoint, each with its reason, and nothing unrelated", async () => {
    const ws = openWorkspace();
    writeCartProject(ws.root);
    await addComponent(ws);

    const created = await createCheckpoint(ws.core, { component: "app", paths: ["./src//cart.ts"] }, TEST_ACTOR);

    const reasons = Object.fromEntries([...manifestOf(ws, created.manifestSha256)].map(([p, e]) => [p, e.reason]));
    expect(reasons).toEqual({ "src/cart.ts": "primary", "src/cart.test.ts": "related-test", "src/cart.css": "sibling", "src/price.ts": "related-import" });
    expect(created.related).toEqual(
      expect.arrayContaining([
        { path: "src/cart.test.ts", reason: "related-test" },
        { path: "src/cart.css", reason: "sibling" },
        { path: "src/price.ts", reason: "related-import" },
      ]),
    );
    const detail = await getCheckpoint(ws.core, created.id);
    expect(detail).toMatchObject({ paths: ["src/cart.ts"], scope: { kind: "paths", paths: ["src/cart.css", "src/cart.test.ts", "src/cart.ts", "src/price.ts"] } });
    expect(detail.reasons).toEqual({ primary: 1, "related-test": 1, sibling: 1, "related-import": 1 });
  });

  it("stores the caller's reason, agent, task and metadata, and the git HEAD, branch and dirty flag of the root", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "committed\n" });
    git(ws.root, "init", "-q");
    git(ws.root, "add", ".");
    git(ws.root, "commit", "-q", "-m", "first");
    git(ws.root, "checkout", "-q", "-b", "feature/x");
    const head = git(ws.root, "rev-parse", "HEAD");
    fs.writeFileSync(path.join(ws.root, "a.txt"), "uncommitted\n");
    await addComponent(ws);

    const created = await createCheckpoint(
      ws.core,
      { component: "app", reason: "before the refactor", agent: "claude", task: "T-42", metadata: { ticket: "JIRA-1", attempt: 2 }, retentionDays: 30, pinned: true },
      TEST_ACTOR,
    );

    const detail = await getCheckpoint(ws.core, created.id);
    expect(detail).toMatchObject({ reason: "before the refactor", actor: TEST_ACTOR, pinned: true });
    expect(detail.callerMeta).toEqual({ agent: "claude", task: "T-42", ticket: "JIRA-1", attempt: 2, git: { head, branch: "feature/x", dirty: true } });
    expect(Date.parse(detail.retentionUntil) - Date.parse(detail.createdAt)).toBe(30 * 86_400_000);
  });

  it("records git as null when the root is not in a git work tree", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "a\n" });
    await addComponent(ws);
    const created = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    expect((await getCheckpoint(ws.core, created.id)).callerMeta).toEqual({ git: null });
  });
});

describe("checkpoint create refuses bad input without leaving a partial checkpoint", () => {
  async function prepared() {
    const ws = openWorkspace();
    const outsideDir = path.join(ws.base, "outside");
    writeTree(ws.base, { "outside/secret.txt": "secret\n" });
    writeTree(ws.root, { "src/a.ts": "a\n", "outside-dir-link": { link: outsideDir }, "outside-file-link": { link: path.join(outsideDir, "secret.txt") } });
    await addComponent(ws);
    return ws;
  }

  it.each([
    ["a path with ..", "../x", /must not contain "\.\.": \.\.\/x/],
    ["an absolute path", "/etc/passwd", /absolute path: \/etc\/passwd/],
    ["a path with a NUL byte", "src/a\0.ts", /NUL byte/],
    ["a path through a symlinked folder pointing outside the root", "outside-dir-link/secret.txt", /symlinked directory: outside-dir-link/],
    ["a symlink pointing outside the root", "outside-file-link", /points outside the component root: outside-file-link/],
    ["a path that does not exist", "src/nope.ts", /"src\/nope\.ts" does not exist/],
  ])("refuses %s, naming it", async (_label, badPath, message) => {
    const ws = await prepared();

    const error = await createCheckpoint(ws.core, { component: "app", paths: ["src/a.ts", badPath] }, TEST_ACTOR).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(message);
    await expectNoCheckpoint(ws);
    const event = await lastCreateEvent(ws);
    expect(event).toMatchObject({ outcome: "failed", component: "app", checkpointId: null, details: { errorCode: "INVALID_INPUT" } });
    expect(event?.error).toMatch(message);
  });

  it("refuses an unknown component with NotFoundError and records the failed attempt", async () => {
    const ws = await prepared();

    const error = await createCheckpoint(ws.core, { component: "nope" }, TEST_ACTOR).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toBe('no component named "nope"');
    await expectNoCheckpoint(ws);
    expect(await lastCreateEvent(ws)).toMatchObject({ outcome: "failed", component: "nope", error: 'no component named "nope"', details: { errorCode: "NOT_FOUND" } });
  });

  it("refuses includeDb, naming the field, because components have no database targets, and stores nothing", async () => {
    const ws = await prepared();

    const error = await createCheckpoint(ws.core, { component: "app", includeDb: true }, TEST_ACTOR).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).details).toMatchObject({ field: "includeDb" });
    await expectNoCheckpoint(ws);
  });

  it("refuses a component whose root is outside the allowed roots", async () => {
    const ws = await prepared();
    const narrowed = openCoreOn(ws, [path.join(ws.base, "outside")], { fresh: true });

    const error = await createCheckpoint(narrowed, { component: "app" }, TEST_ACTOR).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toBe(`component root ${ws.root} is outside the allowed roots (${path.join(ws.base, "outside")})`);
    await expectNoCheckpoint(ws);
    expect(await lastCreateEvent(ws)).toMatchObject({ outcome: "failed", details: { errorCode: "INVALID_INPUT" } });
  });

  it.skipIf(tmpfsUnavailableReason() !== null)("refuses a checkpoint that cannot fit on the store's disk before writing anything, naming the store", async () => {
    const ws = openWorkspace({ beforeOpen: (dirs) => mountTinyDisk(path.join(dirs.dataDir, "store"), 512) });
    writeTree(ws.root, { "a.txt": "fits\n", "big.bin": Buffer.alloc(2 * 1024 * 1024, 9), "medium.bin": Buffer.alloc(600 * 1024, 8) });
    await addComponent(ws);

    const error = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(InsufficientStorageError);
    expect((error as Error).message).toMatch(/^not enough free space for the checkpoint .*: up to \d+ bytes are needed, \d+ are free; nothing was written/);
    expect((error as Error).message).toContain(path.join(ws.dataDir, "store"));
    await expectNoCheckpoint(ws);
    expect(fs.readdirSync(path.join(ws.dataDir, "store", "tmp"))).toEqual([]);
    expect(await lastCreateEvent(ws)).toMatchObject({ outcome: "failed", error: (error as Error).message });
  });

  it("lets exactly one of two concurrent checkpoints of one component run; the other gets ConflictError", async () => {
    const ws = openWorkspace();
    makeTree(ws.root, { files: 60, mb: 0.5 });
    await addComponent(ws);

    const outcomes = await Promise.allSettled([
      createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR),
      createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR),
    ]);

    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
    const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
    expect(rejected?.reason).toBeInstanceOf(ConflictError);
    expect(await ws.core.db.checkpoint.count()).toBe(1);
  });
});
