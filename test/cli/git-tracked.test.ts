import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, git, makeWorkspaceDirs, writeTree } from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import type { RollbackResult } from "../../server/rollback/execute";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

interface ShownEntry {
  path: string;
  kind: string;
  reason: string;
}

async function entriesOf(ws: Parameters<typeof cliJson>[0], id: string): Promise<string[]> {
  const shown = await cliJson<{ entries: ShownEntry[] }>(ws, ["checkpoint", "show", id, "--entries"]);
  return shown.entries.map((e) => e.path).sort();
}

describe("files git tracks are checkpointed even when a .gitignore matches them", () => {
  it("captures and restores tracked-but-ignored files, and leaves untracked ignored files out and untouched", async () => {
    const ws = makeWorkspaceDirs("git-tracked");
    // A service repository whose .gitignore keeps local settings and build output out, but which commits
    // a settings template and a generated schema on purpose (git add -f).
    writeTree(ws.root, {
      ".gitignore": "*.env\nbuild/\ncoverage/\n",
      "src/server.py": "from settings import load\n",
      "config/defaults.env": "PORT=8080\nLOG_LEVEL=info\n",
      "build/schema.sql": "CREATE TABLE users (id INTEGER PRIMARY KEY);\n",
      "build/cache/objects.bin": "untracked build output\n",
      "local.env": "SECRET=untracked\n",
      "coverage/index.html": "<html>untracked</html>\n",
    });
    git(ws.root, "init", "-q");
    git(ws.root, "add", ".gitignore", "src/server.py");
    git(ws.root, "add", "-f", "config/defaults.env", "build/schema.sql");
    git(ws.root, "commit", "-q", "-m", "service with a committed settings template and schema");
    await cliJson(ws, ["component", "add", "service", "--root", ws.root]);

    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "service", "--reason", "before the agent"]);
    expect(await entriesOf(ws, created.id)).toEqual([".gitignore", "build", "build/schema.sql", "config", "config/defaults.env", "src", "src/server.py"]);

    // The agent edits the tracked template, deletes the tracked schema, and changes untracked ignored files.
    fs.writeFileSync(path.join(ws.root, "config/defaults.env"), "PORT=9999\n");
    fs.rmSync(path.join(ws.root, "build/schema.sql"));
    fs.writeFileSync(path.join(ws.root, "local.env"), "SECRET=changed by the agent\n");
    fs.writeFileSync(path.join(ws.root, "build/cache/objects.bin"), "rebuilt\n");

    const diff = await cliJson<{ modified: { path: string }[]; deleted: { path: string }[]; added: { path: string }[] }>(ws, ["checkpoint", "diff", created.id]);
    expect(diff.modified.map((e) => e.path)).toEqual(["config/defaults.env"]);
    expect(diff.deleted.map((e) => e.path)).toEqual(["build/schema.sql"]);
    expect(diff.added).toEqual([]);

    const rollback = await cliJson<RollbackResult>(ws, ["rollback", created.id, "--yes"]);
    expect(rollback.outcome).toBe("succeeded");
    expect(fs.readFileSync(path.join(ws.root, "config/defaults.env"), "utf8")).toBe("PORT=8080\nLOG_LEVEL=info\n");
    expect(fs.readFileSync(path.join(ws.root, "build/schema.sql"), "utf8")).toBe("CREATE TABLE users (id INTEGER PRIMARY KEY);\n");
    // Untracked ignored files: never captured, never touched.
    expect(fs.readFileSync(path.join(ws.root, "local.env"), "utf8")).toBe("SECRET=changed by the agent\n");
    expect(fs.readFileSync(path.join(ws.root, "build/cache/objects.bin"), "utf8")).toBe("rebuilt\n");
    expect(fs.readFileSync(path.join(ws.root, "coverage/index.html"), "utf8")).toBe("<html>untracked</html>\n");
    expect(git(ws.root, "status", "--porcelain")).toBe("");
  });

  it("follows what git tracks: a file added with git add -f joins the next checkpoint, one removed with git rm --cached leaves it", async () => {
    const ws = makeWorkspaceDirs("git-tracked-changes");
    writeTree(ws.root, { ".gitignore": "*.lock\n", "app.js": "console.log('app');\n", "deps.lock": "left-pad@1.3.0\n" });
    git(ws.root, "init", "-q");
    git(ws.root, "add", ".gitignore", "app.js");
    git(ws.root, "commit", "-q", "-m", "app");
    await cliJson(ws, ["component", "add", "app", "--root", ws.root]);

    const untracked = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "app"]);
    expect(await entriesOf(ws, untracked.id)).toEqual([".gitignore", "app.js"]);

    git(ws.root, "add", "-f", "deps.lock");
    const tracked = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "app"]);
    expect(await entriesOf(ws, tracked.id)).toEqual([".gitignore", "app.js", "deps.lock"]);

    git(ws.root, "rm", "-q", "--cached", "deps.lock");
    const again = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "app"]);
    expect(await entriesOf(ws, again.id)).toEqual([".gitignore", "app.js"]);
  });

  it("applies to a component that is a folder of a larger repository", async () => {
    const ws = makeWorkspaceDirs("git-tracked-subdir");
    writeTree(ws.root, {
      "packages/api/.gitignore": "*.generated.ts\n",
      "packages/api/src/routes.ts": "export const routes = [];\n",
      "packages/api/src/client.generated.ts": "export const client = 'committed';\n",
      "packages/api/src/types.generated.ts": "export type T = 'untracked';\n",
      "packages/web/index.ts": "export {};\n",
    });
    git(ws.root, "init", "-q");
    git(ws.root, "add", "packages/api/.gitignore", "packages/api/src/routes.ts", "packages/web/index.ts");
    git(ws.root, "add", "-f", "packages/api/src/client.generated.ts");
    git(ws.root, "commit", "-q", "-m", "monorepo");
    const api = path.join(ws.root, "packages/api");
    await cliJson(ws, ["component", "add", "api", "--root", api]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "api"]);
    // git ls-files runs in the component's folder: its paths are the component's.
    expect(await entriesOf(ws, created.id)).toEqual([".gitignore", "src", "src/client.generated.ts", "src/routes.ts"]);
  });
});
