/**
 * A path's versions over HTTP: rollback.plan/execute restricted to some paths
 * (only they change on disk, the safety checkpoint covers them, its undo puts
 * them back; bad paths name `paths.<index>`; the token binds the paths),
 * file.content (text, binary, capped, 404) and file.diff between two versions,
 * with the token's component scope; and `safetynet rollback --path` handed to
 * the running server.
 */
import { readFileSync, existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { Api, createToken, expectError, hashTree, makeComponent } from "./api";
import { PACKAGE_ROOT, runCli } from "./server";
import { spawnSync } from "node:child_process";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);

interface Plan {
  restore: { path: string; action: string }[];
  delete: { path: string }[];
  paths?: string[];
  confirmToken: string;
  scope: { restrictedTo?: string[] };
}
interface Executed {
  outcome: string;
  restored: number;
  deleted: number;
  safetyCheckpointId: string;
  paths: string[] | null;
}
interface Content {
  path: string;
  kind: string;
  size: number;
  sha256: string | null;
  binary: boolean;
  text: string | null;
  truncated: boolean;
}
interface Diff {
  change: string;
  patch: string | null;
  noPatch: string | null;
  from: { entry: { size: number } | null };
  to: { entry: { size: number } | null };
}

describe("rollback of some paths", () => {
  let app: { name: string; root: string };
  let agent: Api;
  let first: string;

  beforeAll(async () => {
    app = await makeComponent(admin, server.workspace, { "src/a.ts": "a v1\n", "src/b.ts": "b v1\n", "docs/guide.md": "guide v1\n", "space dir/é.txt": "unicode v1\n" });
    agent = admin.as((await createToken(admin, "agent")).token);
    first = (await agent.call<{ id: string }>("checkpoint.create", { component: app.name })).id;
  });

  it("restores exactly the paths asked for; everything else stays; the safety checkpoint covers them and undoes exactly them", async () => {
    writeFileSync(path.join(app.root, "src/a.ts"), "a v2\n");
    writeFileSync(path.join(app.root, "src/b.ts"), "b v2\n");
    writeFileSync(path.join(app.root, "space dir/é.txt"), "unicode v2\n");
    writeFileSync(path.join(app.root, "src/new.ts"), "created after\n");
    const before = hashTree(app.root);

    const plan = await agent.call<Plan>("rollback.plan", { checkpointId: first, paths: ["src/a.ts", "space dir/é.txt", "src/new.ts"] });
    expect(plan.paths).toEqual(["space dir/é.txt", "src/a.ts", "src/new.ts"]);
    expect(plan.scope.restrictedTo).toEqual(plan.paths);
    expect(plan.restore.map((r) => r.path).sort()).toEqual(["space dir/é.txt", "src/a.ts"]);
    expect(plan.delete.map((d) => d.path)).toEqual(["src/new.ts"]);

    const done = await agent.call<Executed>("rollback.execute", { checkpointId: first, confirmToken: plan.confirmToken, paths: plan.paths });
    expect(done).toMatchObject({ outcome: "succeeded", restored: 2, deleted: 1, paths: plan.paths });
    const after = hashTree(app.root);
    expect(readFileSync(path.join(app.root, "src/a.ts"), "utf8")).toBe("a v1\n");
    expect(readFileSync(path.join(app.root, "space dir/é.txt"), "utf8")).toBe("unicode v1\n");
    expect(existsSync(path.join(app.root, "src/new.ts"))).toBe(false);
    // Untouched: every other file is byte for byte what it was before the rollback.
    for (const p of Object.keys(before).filter((p) => !["src/a.ts", "space dir/é.txt", "src/new.ts"].includes(p))) expect(after[p]).toBe(before[p]);

    const safety = await agent.get<{ id: string; kind: string; paths: string[] | null }>("checkpoint.get", { id: done.safetyCheckpointId });
    expect(safety).toMatchObject({ kind: "safety", paths: plan.paths });
    const history = await agent.get<{ items: { kind: string; details: { paths?: string[] } }[] }>("history.list", { component: app.name, kind: "rollback" });
    expect(history.items[0]?.details.paths).toEqual(plan.paths);

    // Undo: a rollback to the safety checkpoint puts back exactly those paths.
    writeFileSync(path.join(app.root, "docs/guide.md"), "guide v2\n");
    const undoPlan = await agent.call<Plan>("rollback.plan", { checkpointId: done.safetyCheckpointId });
    await agent.call("rollback.execute", { checkpointId: done.safetyCheckpointId, confirmToken: undoPlan.confirmToken });
    expect(hashTree(app.root)).toEqual({ ...before, "docs/guide.md": hashTree(app.root)["docs/guide.md"] });
    expect(readFileSync(path.join(app.root, "docs/guide.md"), "utf8")).toBe("guide v2\n");
  });

  it("refuses bad paths with 400 naming paths.<index>, and a token planned for some paths confirms no other rollback", async () => {
    const cases: [unknown[], string][] = [
      [["src/a.ts", "../outside"], "paths.1"],
      [["/etc/passwd"], "paths.0"],
      [["src/a.ts", "nowhere.txt"], "paths.1"],
      [["x\0y"], "paths.0"],
    ];
    for (const [paths, field] of cases) {
      const error = expectError(await agent.mutation("rollback.plan", { checkpointId: first, paths }), 400);
      expect(error.data.field, JSON.stringify(error)).toBe(field);
    }
    expectError(await agent.mutation("rollback.plan", { checkpointId: first, paths: Array.from({ length: 1001 }, (_, i) => `f${i}`) }), 400);

    writeFileSync(path.join(app.root, "src/b.ts"), "b v3\n");
    const plan = await agent.call<Plan>("rollback.plan", { checkpointId: first, paths: ["src/a.ts"] });
    const refused = expectError(await agent.mutation("rollback.execute", { checkpointId: first, confirmToken: plan.confirmToken, paths: ["src/b.ts"] }), 400);
    expect(refused.data.field).toBe("confirmToken");
    expect(readFileSync(path.join(app.root, "src/b.ts"), "utf8")).toBe("b v3\n");
  });

  it("refuses a path outside a partial checkpoint's scope, naming it", async () => {
    const partial = (await agent.call<{ id: string }>("checkpoint.create", { component: app.name, paths: ["docs"] })).id;
    const error = expectError(await agent.mutation("rollback.plan", { checkpointId: partial, paths: ["src/a.ts"] }), 400);
    expect(error.data.field).toBe("paths.0");
    expect(error.message).toMatch(/outside the scope/);
  });

  it("`safetynet rollback --path` handed to the running server restores only that path, with --json", async () => {
    const servedCommands = () => readFileSync(server.logFile, "utf8").split("\n").filter((line) => line.includes('"local-socket.command"')).length;
    const served = servedCommands();
    writeFileSync(path.join(app.root, "src/a.ts"), "a v4\n");
    writeFileSync(path.join(app.root, "src/b.ts"), "b v4\n");
    const run = runCli(server.dataDir, ["rollback", first, "--path", "src/a.ts", "--yes", "--json"], { SAFETYNET_ALLOWED_ROOTS: server.workspace });
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as Executed & { actor?: string };
    expect(result).toMatchObject({ outcome: "succeeded", restored: 1, deleted: 0, paths: ["src/a.ts"] });
    expect(readFileSync(path.join(app.root, "src/a.ts"), "utf8")).toBe("a v1\n");
    expect(readFileSync(path.join(app.root, "src/b.ts"), "utf8")).toBe("b v4\n");
    // The server ran it (its log lines reach the file asynchronously).
    await expect.poll(() => servedCommands() - served, { timeout: 5_000 }).toBe(1);
  });
  it("`safetynet --url --token rollback --path` plans and restores only that path over HTTP; a bad path exits 2 naming it", async () => {
    writeFileSync(path.join(app.root, "src/a.ts"), "a v5\n");
    writeFileSync(path.join(app.root, "src/b.ts"), "b v5\n");
    const token = (await createToken(admin, "agent")).token;
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of ["SAFETYNET_DATA_DIR", "SAFETYNET_URL", "SAFETYNET_TOKEN"]) delete env[key];
    const run = (args: string[]) => spawnSync(process.execPath, [path.join(PACKAGE_ROOT, "bin", "safetynet.mjs"), "--url", server.baseUrl, "--token", token, ...args], { env, encoding: "utf8" });
    const dry = run(["rollback", first, "--path", "src/a.ts", "--dry-run", "--json"]);
    expect(dry.status, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ paths: ["src/a.ts"], restore: [{ path: "src/a.ts" }], delete: [] });
    const done = run(["rollback", first, "--path", "src/a.ts", "--yes", "--json"]);
    expect(done.status, done.stderr).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ outcome: "succeeded", restored: 1, paths: ["src/a.ts"] });
    expect(readFileSync(path.join(app.root, "src/a.ts"), "utf8")).toBe("a v1\n");
    expect(readFileSync(path.join(app.root, "src/b.ts"), "utf8")).toBe("b v5\n");
    const bad = run(["rollback", first, "--path", "src/a.ts", "--path", "../etc", "--yes", "--json"]);
    expect(bad.status).toBe(2);
    expect((JSON.parse(bad.stdout) as { error: { details: { field: string } } }).error.details.field).toBe("paths.1");
  });
});

describe("file.content and file.diff", () => {
  let app: { name: string; root: string };
  let v1: string;
  let v2: string;
  let v3: string;
  let viewer: Api;

  beforeAll(async () => {
    app = await makeComponent(admin, server.workspace, { "notes.txt": "one\ntwo\nthree\n", "blob.bin": Buffer.from([0, 1, 2, 3, 0, 255]), "big.txt": "x".repeat(1024 * 1024 + 10) });
    v1 = (await admin.call<{ id: string }>("checkpoint.create", { component: app.name })).id;
    writeFileSync(path.join(app.root, "notes.txt"), "one\nTWO\nthree\nfour\n");
    v2 = (await admin.call<{ id: string }>("checkpoint.create", { component: app.name })).id;
    writeFileSync(path.join(app.root, "notes.txt"), "");
    (await import("node:fs")).unlinkSync(path.join(app.root, "notes.txt"));
    v3 = (await admin.call<{ id: string }>("checkpoint.create", { component: app.name })).id;
    viewer = admin.as((await createToken(admin, "viewer")).token);
  });

  it("gives a version's text with its size and sha256; binary as binary; a large file's first MiB, truncated", async () => {
    const text = await viewer.get<Content>("file.content", { checkpointId: v1, path: "notes.txt" });
    expect(text).toMatchObject({ path: "notes.txt", kind: "file", size: 14, binary: false, text: "one\ntwo\nthree\n", truncated: false });
    expect(text.sha256).toMatch(/^[0-9a-f]{64}$/);
    const later = await viewer.get<Content>("file.content", { checkpointId: v2, path: "./notes.txt" });
    expect(later.text).toBe("one\nTWO\nthree\nfour\n");
    expect(await viewer.get<Content>("file.content", { checkpointId: v1, path: "blob.bin" })).toMatchObject({ binary: true, text: null, size: 6 });
    const big = await viewer.get<Content>("file.content", { checkpointId: v1, path: "big.txt" });
    expect(big).toMatchObject({ truncated: true, size: 1024 * 1024 + 10 });
    expect(big.text?.length).toBe(1024 * 1024);
  });

  it("404s a path the checkpoint does not hold, 400s a bad path naming the field, 403s a token of another component", async () => {
    expectError(await viewer.query("file.content", { checkpointId: v3, path: "notes.txt" }), 404);
    expect(expectError(await viewer.query("file.content", { checkpointId: v1, path: "../x" }), 400).data.field).toBe("path");
    const other = admin.as((await createToken(admin, "viewer", [(await makeComponent(admin, server.workspace, { "y.txt": "y\n" })).name])).token);
    expectError(await other.query("file.content", { checkpointId: v1, path: "notes.txt" }), 403);
    expectError(await other.query("file.diff", { component: app.name, path: "notes.txt", from: v1, to: v2 }), 403);
  });

  it("diffs two versions of a path: modified with a unified patch, deleted against empty, binary without a patch", async () => {
    const modified = await viewer.get<Diff>("file.diff", { component: app.name, path: "notes.txt", from: v1, to: v2 });
    expect(modified.change).toBe("modified");
    expect(modified.patch).toContain("-two");
    expect(modified.patch).toContain("+TWO");
    expect(modified.patch).toContain("+four");
    const deleted = await viewer.get<Diff>("file.diff", { component: app.name, path: "notes.txt", from: v2, to: v3 });
    expect(deleted).toMatchObject({ change: "deleted", to: { entry: null } });
    expect(deleted.patch).toContain("-four");
    const same = await viewer.get<Diff>("file.diff", { component: app.name, path: "blob.bin", from: v1, to: v3 });
    expect(same).toMatchObject({ change: "unchanged", patch: null });
    const wrong = expectError(await viewer.query("file.diff", { component: "no-such-component", path: "notes.txt", from: v1, to: v2 }), 400);
    expect(wrong.data.field).toBe("from");
  });
});
