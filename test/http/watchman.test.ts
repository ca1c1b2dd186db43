/**
 * The server with Watchman, through the user's path: the CLI hands its commands
 * to the running server (the warm path), whose whole-component scans re-read only
 * what Watchman reports changed. Checkpoints taken after edits of every kind
 * (a folder moved, `mkdir -p`, a folder moved in from outside) and rollbacks to
 * them must be exact; removing a component and stopping the server remove the
 * watches. The server runs a Watchman daemon of the test's own
 * (SAFETYNET_WATCHMAN), so what it watches can be checked.
 */
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, makeComponent } from "./api";
import { runCli, startServer, type RunningServer } from "./server";
import { filterTree, readTree, treeDifferences } from "../support/workspace";
import { privateWatchman, type PrivateWatchman } from "../support/watchman";

type Diff = Record<"added" | "modified" | "deleted" | "modeChanged" | "typeChanged" | "mtimeChanged", { path: string }[]>;
const changedPaths = (diff: Diff) => [...diff.added, ...diff.modified, ...diff.deleted, ...diff.modeChanged, ...diff.typeChanged, ...diff.mtimeChanged].map((e) => e.path).sort();

async function scans(server: RunningServer, token: string): Promise<{ watchman: number; walk: number }> {
  const text = await (await fetch(`${server.baseUrl}/api/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const value = (method: string) => Number(new RegExp(`^safetynet_component_scans\\{method="${method}"\\} (\\d+)`, "m").exec(text)?.[1] ?? "NaN");
  return { watchman: value("watchman"), walk: value("walk") };
}

describe("the server with Watchman (the CLI's warm path)", () => {
  let wm: PrivateWatchman;
  let server: RunningServer;
  let admin: Api;

  beforeAll(async () => {
    wm = privateWatchman();
    server = await startServer({ name: "watchman", env: { SAFETYNET_WATCHMAN: wm.binary } });
    admin = new Api(server.baseUrl, server.adminToken);
  });
  afterAll(async () => {
    await server?.stop();
    wm?.stop();
  });

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
    expect(await scans(server, server.adminToken)).toEqual({ watchman: 0, walk: 1 });

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
    // Every scan after the first (the two diffs, the checkpoint) re-read only what Watchman reported.
    expect(await scans(server, server.adminToken)).toEqual({ watchman: 3, walk: 1 });

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
    const counted = await scans(server, server.adminToken);
    expect(counted.walk).toBe(1);
    expect(counted.watchman).toBeGreaterThan(2);

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
    expect(await scans(server, server.adminToken)).toEqual({ watchman: 0, walk: 0 });
  });
});
