/**
 * The server with Watchman, through the user's path: the CLI hands its commands
 * to the running server (the warm path), whose whole-component scans re-read only
 * what Watchman reports changed. Checkpoints taken after edits of every kind
 * (a folder moved, `mkdir -p`, a folder moved in from outside) and rollbacks to
 * them must be exact; removing a component and stopping the server remove the
 * watches. The server runs a Watchman daemon of the test's own
 * (SAFETYNET_WATCHMAN), so what it watches can be checked.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, chmodSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, makeComponent } from "./api";
import { runCli, startServer, type RunningServer } from "./server";
import { filterTree, readTree, treeDifferences } from "../support/workspace";
import { privateWatchman, type PrivateWatchman } from "../support/watchman";
import type { ManifestEntry } from "../../server/checkpoints/manifest-types";

type Diff = Record<"added" | "modified" | "deleted" | "modeChanged" | "typeChanged" | "mtimeChanged", { path: string }[]>;
const changedPaths = (diff: Diff) => [...diff.added, ...diff.modified, ...diff.deleted, ...diff.modeChanged, ...diff.typeChanged, ...diff.mtimeChanged].map((e) => e.path).sort();

async function scans(server: RunningServer): Promise<{ watchman: number; walk: number }> {
  return { watchman: await metric(server, "watchman"), walk: await metric(server, "walk") };
}

async function metric(server: RunningServer, method: string): Promise<number> {
  const text = await (await fetch(`${server.baseUrl}/api/metrics`, { headers: { authorization: `Bearer ${server.adminToken}` } })).text();
  return Number(new RegExp(`^safetynet_component_scans\\{method="${method}"\\} (\\d+)`, "m").exec(text)?.[1] ?? "NaN");
}

type RollbackPlan = { confirmToken: string; restore: { path: string }[]; delete: { path: string }[] };
/** The paths a plan restores or deletes, sorted. */
const planPaths = (plan: RollbackPlan) => [...plan.restore, ...plan.delete].map((e) => e.path).sort();

type StoredEntry = Pick<ManifestEntry, "path" | "kind" | "mode" | "size" | "mtimeMs" | "sha256" | "linkTarget">;

/** What a checkpoint of the whole tree must hold, read from the disk: every entry but node_modules and `*.log`, with its content's sha256. */
function diskEntries(root: string): StoredEntry[] {
  const out: StoredEntry[] = [];
  const visit = (rel: string) => {
    for (const name of readdirSync(path.join(root, rel))) {
      const child = rel === "" ? name : `${rel}/${name}`;
      const st = lstatSync(path.join(root, child));
      if ((st.isDirectory() && name === "node_modules") || (!st.isDirectory() && name.endsWith(".log"))) continue;
      const entry: StoredEntry = { path: child, kind: st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "file", mode: st.mode & 0o7777, size: st.isDirectory() ? 0 : st.size, mtimeMs: st.mtimeMs };
      if (st.isFile()) entry.sha256 = createHash("sha256").update(readFileSync(path.join(root, child))).digest("hex");
      if (st.isSymbolicLink()) entry.linkTarget = readlinkSync(path.join(root, child));
      out.push(entry);
      if (st.isDirectory()) visit(child);
    }
  };
  visit("");
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Every entry of a checkpoint, paged through checkpoint.entries as a client would. */
async function checkpointEntries(api: Api, id: string): Promise<StoredEntry[]> {
  const all: StoredEntry[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await api.get<{ items: (StoredEntry & { reason: string })[]; nextCursor: string | null }>("checkpoint.entries", { id, limit: 1000, ...(cursor ? { cursor } : {}) });
    for (const { reason: _reason, ...entry } of page.items) all.push(entry);
    if (!page.nextCursor) return all;
    cursor = page.nextCursor;
  }
}

/**
 * A server of its own with a private Watchman daemon for the enclosing describe
 * block: started before its tests, both stopped after them. `use` receives them.
 */
function withWatchmanServer(name: string, use: (started: { wm: PrivateWatchman; server: RunningServer; admin: Api }) => void): void {
  let wm: PrivateWatchman | undefined;
  let server: RunningServer | undefined;
  beforeAll(async () => {
    wm = privateWatchman();
    server = await startServer({ name, env: { SAFETYNET_WATCHMAN: wm.binary } });
    use({ wm, server, admin: new Api(server.baseUrl, server.adminToken) });
  });
  afterAll(async () => {
    await server?.stop();
    wm?.stop();
  });
}

describe("the server with Watchman (the CLI's warm path)", () => {
  let wm: PrivateWatchman;
  let server: RunningServer;
  let admin: Api;
  withWatchmanServer("watchman", (started) => ({ wm, server, admin } = started));

  it("checkpoints and rolls back exactly, re-reading only what changed, and removes its watches when a component goes and when it stops", async () => {
    expect(readFileSync(server.logFile, "utf8")).toMatch(/Watchman 4\.\d+\.\d+ \(.*\) tracks changes/);
    const { name, root } = await makeComponent(admin, server.workspace, {
      ".gitignore": "*.log\n",
      "src/a.ts": "export const a = 1;\n",
      "src/lib/b.ts": "export const b = 2;\n",
      "src/lib/deep/c.ts": "export const c = 3;\n",
      "docs/d.md": "# d\n",
      "keep.txt": "keep\n",
      "node_modules/x/index.js": "installed\n",
    });
    const cli = (args: string[]) => {
      const result = runCli(server.dataDir, [...args, "--json"]);
      if (result.status !== 0) throw new Error(`safetynet ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
      return JSON.parse(result.stdout) as Record<string, unknown>;
    };
    const diffOf = (id: string) => admin.get<Diff>("checkpoint.diff", { id });

    const first = cli(["checkpoint", "create", name, "--reason", "before the agent"]) as { id: string; files: number };
    const before = readTree(root);
    expect(await scans(server)).toEqual({ watchman: 0, walk: 1 });

    // The agent's changes: edits, a removal, a folder moved and written under, `mkdir -p`, a folder moved in, a mode, ignored files.
    appendFileSync(path.join(root, "src/a.ts"), "// edited\n");
    rmSync(path.join(root, "docs/d.md"));
    renameSync(path.join(root, "src/lib"), path.join(root, "src/moved"));
    appendFileSync(path.join(root, "src/moved/deep/c.ts"), "// edited after the move\n");
    mkdirSync(path.join(root, "gen/x/y"), { recursive: true });
    writeFileSync(path.join(root, "gen/x/y/z.ts"), "export const z = 0;\n");
    const outside = mkdtempSync(path.join(os.tmpdir(), "sn-watchman-outside-"));
    mkdirSync(path.join(outside, "pkg/lib"), { recursive: true });
    writeFileSync(path.join(outside, "pkg/lib/index.js"), "unpacked\n");
    renameSync(path.join(outside, "pkg"), path.join(root, "pkg"));
    rmSync(outside, { recursive: true, force: true });
    chmodSync(path.join(root, "keep.txt"), 0o755);
    writeFileSync(path.join(root, "debug.log"), "ignored\n");
    writeFileSync(path.join(root, "node_modules/x/more.js"), "ignored\n");

    const diff = await diffOf(first.id);
    expect(changedPaths(diff)).toEqual(
      ["docs/d.md", "gen", "gen/x", "gen/x/y", "gen/x/y/z.ts", "keep.txt", "pkg", "pkg/lib", "pkg/lib/index.js", "src/a.ts", "src/lib", "src/lib/b.ts", "src/lib/deep", "src/lib/deep/c.ts", "src/moved", "src/moved/b.ts", "src/moved/deep", "src/moved/deep/c.ts"].sort(),
    );
    const second = cli(["checkpoint", "create", name, "--reason", "after the agent"]) as { id: string };
    const after = readTree(root);
    expect(changedPaths(await diffOf(second.id))).toEqual([]);
    // Nothing after the first checkpoint scanned the tree: the first diff and the second checkpoint patched the first
    // one's tree with the paths Watchman reported, and the diff against the second reused its tree as it was.
    expect(await scans(server)).toEqual({ watchman: 0, walk: 1 });
    expect({ patched: await metric(server, "patched"), unchanged: await metric(server, "unchanged") }).toEqual({ patched: 2, unchanged: 1 });

    // Back to before the agent: every path as it was, the ignored files left alone.
    cli(["rollback", first.id, "--yes"]);
    const ignored = (rel: string) => rel.endsWith(".log") || rel.startsWith("node_modules");
    expect(treeDifferences(filterTree(before, (rel) => !ignored(rel)), filterTree(readTree(root), (rel) => !ignored(rel)))).toEqual([]);
    expect(readFileSync(path.join(root, "debug.log"), "utf8")).toBe("ignored\n");
    expect(readFileSync(path.join(root, "node_modules/x/more.js"), "utf8")).toBe("ignored\n");
    expect(changedPaths(await diffOf(first.id))).toEqual([]);
    // ...and forward again (the rollback's own writes are changes Watchman reports too).
    cli(["rollback", second.id, "--yes"]);
    expect(treeDifferences(filterTree(after, (rel) => !ignored(rel)), filterTree(readTree(root), (rel) => !ignored(rel)))).toEqual([]);
    expect(changedPaths(await diffOf(second.id))).toEqual([]);
    // Two rollbacks (each a comparison by trees and a safety checkpoint) and two diffs, and still no scan.
    // (The first rollback found the tree as the second checkpoint left it: it reused that tree as it was.)
    expect(await scans(server)).toEqual({ watchman: 0, walk: 1 });
    expect({ patched: await metric(server, "patched"), unchanged: await metric(server, "unchanged") }).toEqual({ patched: 5, unchanged: 2 });

    // A component removed through the server is no longer watched; the others are, until the server stops.
    const other = await makeComponent(admin, server.workspace, { "o.txt": "other\n" });
    cli(["checkpoint", "create", other.name]);
    expect(wm.watchList().sort()).toEqual([root, other.root].sort());
    await admin.call("component.remove", { name: other.name });
    expect(wm.watchList()).toEqual([root]);
    await server.terminate();
    expect(wm.watchList()).toEqual([]);
  });
});

describe("an unchanged checkpoint with Watchman", () => {
  let server: RunningServer;
  let admin: Api;
  withWatchmanServer("watchman-unchanged", (started) => ({ server, admin } = started));

  const unchangedCount = () => metric(server, "unchanged");

  it("reuses the last tree without scanning or reading, and goes back to scanning as soon as anything changed", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "src/a.ts": "export const a = 1;\n", "src/lib/b.ts": "b\n", "top.txt": "top\n" });
    type Created = { id: string; manifestSha256: string; filesRead: number; newBytes: number; files: number; changes: { added: number; modified: number; deleted: number } | null };
    const create = (reason: string) => admin.call<Created>("checkpoint.create", { component: name, reason });
    const first = await create("first");
    const before = await scans(server);
    const objects = () => readdirSync(path.join(server.dataDir, "store", "objects"), { recursive: true }).length;
    const stored = objects();

    expect(await unchangedCount()).toBe(0);
    const again = await create("nothing changed");
    expect(await unchangedCount()).toBe(1);
    expect(await scans(server)).toEqual(before);
    // The same tree, and the same root record: not one object more in the store.
    expect(again).toMatchObject({ manifestSha256: first.manifestSha256, filesRead: 0, newBytes: 0, files: 3, changes: { added: 0, modified: 0, deleted: 0 } });
    expect(objects()).toBe(stored);

    writeFileSync(path.join(root, "src/lib/b.ts"), "b changed\n");
    const changed = await create("one file changed");
    expect(await unchangedCount()).toBe(1);
    expect(changed.changes).toEqual({ added: 0, modified: 1, deleted: 0 });
    const third = await create("nothing changed again");
    expect(await unchangedCount()).toBe(2);
    expect(third.manifestSha256).toBe(changed.manifestSha256);

    // A rollback's writes are changes like any other: the next checkpoint scans, and holds the rolled-back tree.
    const plan = await admin.call<{ confirmToken: string }>("rollback.plan", { checkpointId: first.id });
    await admin.call("rollback.execute", { checkpointId: first.id, confirmToken: plan.confirmToken });
    // The plan and the rollback compared the unchanged tree with the checkpoint's: no scan either.
    expect(await unchangedCount()).toBe(4);
    expect(await scans(server)).toEqual(before);
    const afterRollback = await create("after the rollback");
    expect(await unchangedCount()).toBe(4);
    expect(afterRollback.changes).toEqual({ added: 0, modified: 1, deleted: 0 });
    const sinceFirst = await admin.get<Diff>("checkpoint.diff", { id: first.id, against: afterRollback.id });
    expect([...sinceFirst.added, ...sinceFirst.modified, ...sinceFirst.deleted, ...sinceFirst.modeChanged, ...sinceFirst.typeChanged]).toEqual([]);
    expect(readFileSync(path.join(root, "src/lib/b.ts"), "utf8")).toBe("b\n");

    // A file with another name: a write through a name outside the root is no event under it, so it is always scanned.
    // A file with another name outside the root: a write through that name is no event under the root, so such a
    // component is always scanned (the scan re-reads files with several names). A link made from outside after the
    // last scan is not seen until a walk, as for every scan Watchman spares.
    const linked = await makeComponent(admin, server.workspace, { "shared.txt": "one\n", "other.txt": "other\n" });
    linkSync(path.join(linked.root, "shared.txt"), path.join(server.workspace, `outside-${linked.name}.txt`));
    const createLinked = (reason: string) => admin.call<Created>("checkpoint.create", { component: linked.name, reason });
    await createLinked("with a hard link");
    await createLinked("with a hard link, unchanged");
    expect(await unchangedCount()).toBe(4);
    writeFileSync(path.join(server.workspace, `outside-${linked.name}.txt`), "written through the other name\n");
    const throughLink = await createLinked("written through the other name");
    expect(throughLink.changes).toEqual({ added: 0, modified: 1, deleted: 0 });
  });

  it("records git's answer for each checkpoint: reused while nothing changed, asked again after a commit, a checkout or an edit", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "src/a.ts": "a\n", "b.txt": "b\n" });
    const git = (...args: string[]) => execFileSync("git", ["-C", root, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { encoding: "utf8" }).trim();
    git("init", "-q", "-b", "main");
    git("add", "-A");
    git("commit", "-qm", "one");
    type Got = { callerMeta: { git: { head: string | null; branch: string | null; dirty: boolean } | null } };
    const gitOf = async (reason: string) => {
      const { id } = await admin.call<{ id: string }>("checkpoint.create", { component: name, reason });
      return (await admin.get<Got>("checkpoint.get", { id })).callerMeta.git;
    };
    const head = () => git("rev-parse", "HEAD");
    expect(await gitOf("first")).toEqual({ head: head(), branch: "main", dirty: false });
    const reused = await unchangedCount();
    expect(await gitOf("unchanged")).toEqual({ head: head(), branch: "main", dirty: false });
    git("commit", "-q", "--allow-empty", "-m", "two");
    // The work tree did not change (the tree is reused), but HEAD did: git is asked again.
    expect(await gitOf("after a commit")).toEqual({ head: head(), branch: "main", dirty: false });
    git("checkout", "-q", "-b", "feature");
    expect(await gitOf("after a checkout")).toEqual({ head: head(), branch: "feature", dirty: false });
    expect(await unchangedCount()).toBe(reused + 3);
    writeFileSync(path.join(root, "b.txt"), "b changed\n");
    expect(await gitOf("an edit")).toEqual({ head: head(), branch: "feature", dirty: true });
    expect(await gitOf("the edit, unchanged since")).toEqual({ head: head(), branch: "feature", dirty: true });
    git("commit", "-qam", "three");
    expect(await gitOf("the edit committed")).toEqual({ head: head(), branch: "feature", dirty: false });
    expect(await unchangedCount()).toBe(reused + 5);
  });

  it("captures a tracked file a .gitignore matches when it changes, and one that git starts or stops tracking, without a walk", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { ".gitignore": "*.env\n", "app.py": "print('app')\n", "defaults.env": "PORT=8080\n", "local.env": "SECRET=1\n" });
    const git = (...args: string[]) => execFileSync("git", ["-C", root, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { encoding: "utf8" }).trim();
    git("init", "-q", "-b", "main");
    git("add", ".gitignore", "app.py");
    git("add", "-f", "defaults.env");
    git("commit", "-qm", "one");
    type Created = { id: string; changes: { added: number; modified: number; deleted: number } | null };
    const create = (reason: string) => admin.call<Created>("checkpoint.create", { component: name, reason });
    const paths = async (id: string) => (await checkpointEntries(admin, id)).map((e) => e.path);
    const first = await create("first");
    expect(await paths(first.id)).toEqual([".gitignore", "app.py", "defaults.env"]);
    const walked = (await scans(server)).walk;

    writeFileSync(path.join(root, "defaults.env"), "PORT=9090\n");
    writeFileSync(path.join(root, "local.env"), "SECRET=2\n");
    const edited = await create("the tracked template edited, the untracked one too");
    expect(edited.changes).toEqual({ added: 0, modified: 1, deleted: 0 });
    expect((await checkpointEntries(admin, edited.id)).find((e) => e.path === "defaults.env")?.sha256).toBe(createHash("sha256").update("PORT=9090\n").digest("hex"));

    git("add", "-f", "local.env");
    const added = await create("git add -f of an ignored file");
    expect(added.changes).toEqual({ added: 1, modified: 0, deleted: 0 });
    expect(await paths(added.id)).toEqual([".gitignore", "app.py", "defaults.env", "local.env"]);
    git("rm", "-q", "--cached", "defaults.env");
    const removed = await create("git rm --cached of an ignored file");
    expect(removed.changes).toEqual({ added: 0, modified: 0, deleted: 1 });
    expect(await paths(removed.id)).toEqual([".gitignore", "app.py", "local.env"]);
    expect((await scans(server)).walk).toBe(walked);
  });

  it("captures a nested repository's .git from Watchman's reports, leaves its lock files out, and a rollback brings it back", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "main.py": "import vendor.lib\n", "vendor/lib/lib.py": "VERSION = 1\n" });
    const lib = path.join(root, "vendor/lib");
    const git = (...args: string[]) => execFileSync("git", ["-C", lib, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { encoding: "utf8" }).trim();
    git("init", "-q", "-b", "main");
    git("add", "-A");
    git("commit", "-qm", "lib v1");
    await admin.call("checkpoint.create", { component: name, reason: "first" });
    const walked = (await scans(server)).walk;

    // A commit in the nested repository is a change Watchman reports; its lock file is never part of a checkpoint.
    writeFileSync(path.join(lib, "lib.py"), "VERSION = 2\n");
    git("commit", "-qam", "lib v2");
    writeFileSync(path.join(lib, ".git/index.lock"), "");
    const second = await admin.call<{ id: string }>("checkpoint.create", { component: name, reason: "after a nested commit" });
    const entries = (await checkpointEntries(admin, second.id)).map((e) => e.path);
    expect(entries).toContain("vendor/lib/.git/HEAD");
    expect(entries).not.toContain("vendor/lib/.git/index.lock");
    rmSync(path.join(lib, ".git/index.lock"));

    rmSync(path.join(lib, ".git"), { recursive: true });
    const diff = await admin.get<Diff>("checkpoint.diff", { id: second.id });
    expect(diff.deleted.map((e) => e.path)).toContain("vendor/lib/.git/HEAD");
    const plan = await admin.call<RollbackPlan>("rollback.plan", { checkpointId: second.id });
    await admin.call("rollback.execute", { checkpointId: second.id, confirmToken: plan.confirmToken });
    expect(git("log", "--format=%s")).toBe("lib v2\nlib v1");
    expect(git("status", "--porcelain")).toBe("");
    expect((await scans(server)).walk).toBe(walked);
  });
});

describe("a checkpoint after a change, with Watchman", () => {
  let server: RunningServer;
  let admin: Api;
  withWatchmanServer("watchman-patched", (started) => ({ server, admin } = started));

  it("patches the last tree with what Watchman reported: reads only the changed files, and holds exactly what is on disk after edits of every kind", async () => {
    const files: Record<string, string> = { ".gitignore": "*.log\n", "top.txt": "top\n", "node_modules/x/index.js": "installed\n" };
    for (const folder of ["src", "src/lib", "src/lib/deep", "docs", "old"]) for (let i = 0; i < 4; i++) files[`${folder}/f${i}.ts`] = `${folder} ${i}\n`;
    const { name, root } = await makeComponent(admin, server.workspace, files);
    type Created = { id: string; filesRead: number; files: number; bytes: number; changes: { added: number; modified: number; deleted: number } | null };
    const create = (reason: string) => admin.call<Created>("checkpoint.create", { component: name, reason });
    const first = await create("first: a walk");
    expect(await metric(server, "patched")).toBe(0);
    let patched = 0;

    const step = async (reason: string, edit: () => void, expected: { filesRead: number; changes: Created["changes"] }) => {
      edit();
      const created = await create(reason);
      expect(await metric(server, "patched"), reason).toBe(++patched);
      expect({ filesRead: created.filesRead, changes: created.changes }, reason).toEqual(expected);
      const onDisk = diskEntries(root);
      expect(await checkpointEntries(admin, created.id), reason).toEqual(onDisk);
      expect({ files: created.files, bytes: created.bytes }, reason).toEqual({
        files: onDisk.filter((e) => e.kind === "file").length,
        bytes: onDisk.filter((e) => e.kind === "file").reduce((sum, e) => sum + e.size, 0),
      });
      return created;
    };

    await step("one file edited", () => appendFileSync(path.join(root, "src/lib/deep/f1.ts"), "// edited\n"), { filesRead: 1, changes: { added: 0, modified: 1, deleted: 0 } });
    await step("mkdir -p with files, and a file at the top", () => {
      mkdirSync(path.join(root, "gen/x/y"), { recursive: true });
      writeFileSync(path.join(root, "gen/x/y/z.ts"), "z\n");
      writeFileSync(path.join(root, "gen/x/w.ts"), "w\n");
      writeFileSync(path.join(root, "new-top.txt"), "new\n");
    }, { filesRead: 3, changes: { added: 3, modified: 0, deleted: 0 } });
    await step("a folder removed", () => rmSync(path.join(root, "old"), { recursive: true }), { filesRead: 0, changes: { added: 0, modified: 0, deleted: 4 } });
    await step("a folder renamed, then written under", () => {
      renameSync(path.join(root, "src/lib"), path.join(root, "src/moved"));
      appendFileSync(path.join(root, "src/moved/f0.ts"), "// after the move\n");
    }, { filesRead: 8, changes: { added: 8, modified: 0, deleted: 8 } });
    await step("a mode, a symlink, a file become a folder, ignored files", () => {
      chmodSync(path.join(root, "top.txt"), 0o755);
      symlinkSync("../top.txt", path.join(root, "docs/link"));
      rmSync(path.join(root, "docs/f3.ts"));
      mkdirSync(path.join(root, "docs/f3.ts"));
      writeFileSync(path.join(root, "docs/f3.ts/inside.md"), "inside\n");
      writeFileSync(path.join(root, "debug.log"), "ignored\n");
      writeFileSync(path.join(root, "node_modules/x/more.js"), "ignored\n");
    }, { filesRead: 2, changes: { added: 2, modified: 2, deleted: 0 } });

    // Back to the first checkpoint, after a few more edits. The diff, the plan and the rollback patch the last tree
    // with them too and compare it with the checkpoint's by trees: they list exactly what a CLI working on its own
    // (a walk, no Watchman) diffs.
    appendFileSync(path.join(root, "top.txt"), "more\n");
    rmSync(path.join(root, "src/f0.ts"));
    writeFileSync(path.join(root, "src/extra.ts"), "extra\n");
    const walked = runCli(server.dataDir, ["--json", "checkpoint", "diff", first.id], { SAFETYNET_ALLOWED_ROOTS: server.workspace, SAFETYNET_NO_SERVER: "1" });
    expect(walked.status, walked.stderr).toBe(0);
    const diff = JSON.parse(walked.stdout) as Diff;
    expect(changedPaths(diff).length).toBeGreaterThan(20);
    expect(changedPaths(await admin.get<Diff>("checkpoint.diff", { id: first.id }))).toEqual(changedPaths(diff));
    expect(await metric(server, "patched")).toBe(++patched);
    const plan = await admin.call<RollbackPlan>("rollback.plan", { checkpointId: first.id });
    expect(await metric(server, "patched")).toBe(++patched);
    expect(planPaths(plan)).toEqual(changedPaths(diff));
    const executed = await admin.call<{ restoredPaths: string[]; deletedPaths: string[] }>("rollback.execute", { checkpointId: first.id, confirmToken: plan.confirmToken });
    expect(await metric(server, "patched")).toBe(++patched);
    expect([...executed.restoredPaths, ...executed.deletedPaths].sort()).toEqual(planPaths(plan));
    // The rollback's writes are changes like any other, and the next checkpoint patches them in.
    const back = await create("after the rollback");
    expect(await metric(server, "patched")).toBe(++patched);
    expect(await checkpointEntries(admin, back.id)).toEqual(diskEntries(root));
    const sinceFirst = await admin.get<Diff>("checkpoint.diff", { id: first.id, against: back.id });
    expect([...sinceFirst.added, ...sinceFirst.modified, ...sinceFirst.deleted, ...sinceFirst.modeChanged, ...sinceFirst.typeChanged]).toEqual([]);
    // Nothing was walked after the first checkpoint: the diff, the plan and the rollback compared trees.
    expect((await scans(server)).walk).toBe(1);
  });
});

describe("a rollback planned by a whole capture and carried out by comparing trees, with Watchman", () => {
  let server: RunningServer;
  let admin: Api;
  withWatchmanServer("watchman-token", (started) => ({ server, admin } = started));

  it("accepts the plan's confirm token: both ways see the same workspace, and the rollback puts back exactly the checkpoint", async () => {
    const files: Record<string, string> = { "top.txt": "top\n" };
    for (const folder of ["src", "src/lib", "docs"]) for (let i = 0; i < 3; i++) files[`${folder}/f${i}.ts`] = `${folder} ${i}\n`;
    const { name, root } = await makeComponent(admin, server.workspace, files);
    // Taken by a CLI that works on its own (not through the server): the server has no tree of this component to start from.
    const viaCli = runCli(server.dataDir, ["--json", "checkpoint", "create", name, "--reason", "before the agent"], { SAFETYNET_ALLOWED_ROOTS: server.workspace, SAFETYNET_NO_SERVER: "1" });
    expect(viaCli.status, viaCli.stderr).toBe(0);
    const target = (JSON.parse(viaCli.stdout) as { id: string }).id;
    const targetEntries = await checkpointEntries(admin, target);

    appendFileSync(path.join(root, "src/lib/f1.ts"), "// edited\n");
    rmSync(path.join(root, "docs/f2.ts"));
    writeFileSync(path.join(root, "src/new.ts"), "new\n");
    chmodSync(path.join(root, "top.txt"), 0o700);
    const counts = async () => ({ unchanged: await metric(server, "unchanged"), patched: await metric(server, "patched") });
    const before = await counts();
    const plan = await admin.call<RollbackPlan>("rollback.plan", { checkpointId: target });
    expect(planPaths(plan)).toEqual(["docs/f2.ts", "src/lib/f1.ts", "src/new.ts", "top.txt"]);
    // No tree to patch: the plan captured the whole component.
    expect(await counts()).toEqual(before);

    // A checkpoint changes nothing in the workspace (the token stays good), and leaves the server a tree to start from.
    await admin.call("checkpoint.create", { component: name, reason: "the agent's step" });
    const executed = await admin.call<{ outcome: string; restoredPaths: string[]; deletedPaths: string[] }>("rollback.execute", { checkpointId: target, confirmToken: plan.confirmToken });
    expect(await counts()).toEqual({ unchanged: before.unchanged + 1, patched: before.patched });
    expect(executed.outcome).toBe("succeeded");
    expect([...executed.restoredPaths, ...executed.deletedPaths].sort()).toEqual(planPaths(plan));
    // A restored mtime is exact to the microsecond (utimes keeps no more): compared in whole microseconds, rounded,
    // since flooring milliseconds splits a time such as …242.9996 ms, restored as …243.000, across a boundary.
    const toMicros = (entries: StoredEntry[]) => entries.map((e) => ({ ...e, mtimeMs: Math.round(e.mtimeMs * 1000) }));
    expect(toMicros(diskEntries(root))).toEqual(toMicros(targetEntries));
  });
});

describe("the server without Watchman", () => {
  let server: RunningServer;
  let admin: Api;

  beforeAll(async () => {
    server = await startServer({ name: "no-watchman", env: { SAFETYNET_WATCHMAN: "/nonexistent/watchman" } });
    admin = new Api(server.baseUrl, server.adminToken);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("says so once in its log, walks every scan, and checkpoints and rolls back exactly", async () => {
    const log = readFileSync(server.logFile, "utf8");
    expect(log.match(/Watchman is not installed \(no \/nonexistent\/watchman file\); scans walk the whole tree/g)).toHaveLength(1);
    const { name, root } = await makeComponent(admin, server.workspace, { "src/a.ts": "a\n", "src/lib/b.ts": "b\n" });
    const first = await admin.call<{ id: string }>("checkpoint.create", { component: name });
    const before = readTree(root);
    renameSync(path.join(root, "src/lib"), path.join(root, "src/moved"));
    mkdirSync(path.join(root, "gen/x/y"), { recursive: true });
    writeFileSync(path.join(root, "gen/x/y/z.ts"), "z\n");
    expect(changedPaths(await admin.get<Diff>("checkpoint.diff", { id: first.id }))).toEqual(["gen", "gen/x", "gen/x/y", "gen/x/y/z.ts", "src/lib", "src/lib/b.ts", "src/moved", "src/moved/b.ts"]);
    const plan = await admin.call<{ confirmToken: string }>("rollback.plan", { checkpointId: first.id });
    await admin.call("rollback.execute", { checkpointId: first.id, confirmToken: plan.confirmToken });
    expect(treeDifferences(before, readTree(root))).toEqual([]);
    expect(await scans(server)).toEqual({ watchman: 0, walk: 0 });
  });
});
