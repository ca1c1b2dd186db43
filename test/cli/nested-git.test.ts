import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, git, makeWorkspaceDirs, writeTree, type WorkspaceDirs } from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import type { RollbackResult } from "../../server/rollback/execute";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

type Diff = Record<"added" | "modified" | "deleted", { path: string }[]>;

async function entriesOf(ws: WorkspaceDirs, id: string): Promise<string[]> {
  const shown = await cliJson<{ entries: { path: string }[] }>(ws, ["checkpoint", "show", id, "--entries"]);
  return shown.entries.map((e) => e.path);
}

/** A project (itself a git repository) that vendors a library cloned with its own history. */
function projectWithVendoredRepo(ws: WorkspaceDirs): string {
  writeTree(ws.root, { "main.py": "from vendor.parser import parse\n" });
  git(ws.root, "init", "-q");
  git(ws.root, "add", "main.py");
  git(ws.root, "commit", "-q", "-m", "project");
  const parser = path.join(ws.root, "vendor/parser");
  writeTree(parser, { "parse.py": "def parse(text):\n    return text.split()\n", "README.md": "# parser\n" });
  git(parser, "init", "-q");
  git(parser, "add", "-A");
  git(parser, "commit", "-q", "-m", "parser: first version");
  fs.appendFileSync(path.join(parser, "parse.py"), "\ndef parse_lines(text):\n    return text.splitlines()\n");
  git(parser, "commit", "-q", "-am", "parser: parse_lines");
  return parser;
}

describe("nested git repositories", () => {
  it("checkpoints a nested repository's .git, and a rollback brings it back after an agent deleted it", async () => {
    const ws = makeWorkspaceDirs("nested-git");
    const parser = projectWithVendoredRepo(ws);
    const history = git(parser, "log", "--format=%H %s");
    // A git command that was running when the checkpoint was taken holds a lock: it is not part of the repository's content.
    fs.writeFileSync(path.join(parser, ".git/index.lock"), "");
    await cliJson(ws, ["component", "add", "project", "--root", ws.root]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "project", "--reason", "before the agent"]);
    const entries = await entriesOf(ws, created.id);
    expect(entries).toEqual(expect.arrayContaining(["vendor/parser/.git", "vendor/parser/.git/HEAD", "vendor/parser/.git/config", "vendor/parser/.git/index", "vendor/parser/parse.py"]));
    expect(entries.filter((p) => p.startsWith("vendor/parser/.git/objects/")).length).toBeGreaterThan(6);
    // The project's own repository stays git's, and the lock file is left out.
    expect(entries.filter((p) => p === ".git" || p.startsWith(".git/"))).toEqual([]);
    expect(entries).not.toContain("vendor/parser/.git/index.lock");
    fs.rmSync(path.join(parser, ".git/index.lock"));

    // The agent "cleans up" the vendored library's repository.
    fs.rmSync(path.join(parser, ".git"), { recursive: true });
    // git now finds only the project's repository from there: the library's history is gone.
    expect(git(parser, "rev-parse", "--show-toplevel")).toBe(fs.realpathSync(ws.root));
    const diff = await cliJson<Diff>(ws, ["checkpoint", "diff", created.id]);
    expect(diff.deleted.map((e) => e.path)).toEqual(expect.arrayContaining(["vendor/parser/.git", "vendor/parser/.git/HEAD"]));

    const rollback = await cliJson<RollbackResult>(ws, ["rollback", created.id, "--yes"]);
    expect(rollback.outcome).toBe("succeeded");
    expect(git(parser, "rev-parse", "--show-toplevel")).toBe(fs.realpathSync(parser));
    expect(git(parser, "log", "--format=%H %s")).toBe(history);
    expect(git(parser, "status", "--porcelain")).toBe("");
    expect(git(parser, "fsck", "--no-progress")).toBe("");
    // The project's repository was never touched.
    expect(git(ws.root, "log", "--format=%s")).toBe("project");
  });

  it("restores a nested repository's history after an agent rewrote it (a reset and a new commit)", async () => {
    const ws = makeWorkspaceDirs("nested-git-reset");
    const parser = projectWithVendoredRepo(ws);
    const head = git(parser, "rev-parse", "HEAD");
    await cliJson(ws, ["component", "add", "project", "--root", ws.root]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "project"]);

    git(parser, "reset", "-q", "--hard", "HEAD~1");
    fs.writeFileSync(path.join(parser, "parse.py"), "def parse(text):\n    raise NotImplementedError\n");
    git(parser, "commit", "-q", "-am", "parser: agent rewrite");
    expect(git(parser, "rev-parse", "HEAD")).not.toBe(head);

    await cliJson<RollbackResult>(ws, ["rollback", created.id, "--yes"]);
    expect(git(parser, "rev-parse", "HEAD")).toBe(head);
    expect(git(parser, "log", "--format=%s")).toBe("parser: parse_lines\nparser: first version");
    expect(git(parser, "status", "--porcelain")).toBe("");
  });

  it("leaves alone a nested .git the checkpoint does not hold inside a folder it does hold (a git init since, or a checkpoint from before nested repositories were captured)", async () => {
    const ws = makeWorkspaceDirs("nested-git-init");
    writeTree(ws.root, { "tools/lint.sh": "#!/bin/sh\necho lint\n", "app.txt": "v1\n" });
    await cliJson(ws, ["component", "add", "project", "--root", ws.root]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "project"]);

    git(path.join(ws.root, "tools"), "init", "-q");
    git(path.join(ws.root, "tools"), "add", "lint.sh");
    git(path.join(ws.root, "tools"), "commit", "-q", "-m", "lint tool");
    fs.writeFileSync(path.join(ws.root, "app.txt"), "v2\n");
    const diff = await cliJson<Diff>(ws, ["checkpoint", "diff", created.id]);
    expect(diff.added).toEqual([]);
    expect(diff.modified.map((e) => e.path)).toEqual(["app.txt"]);

    await cliJson<RollbackResult>(ws, ["rollback", created.id, "--yes"]);
    expect(fs.readFileSync(path.join(ws.root, "app.txt"), "utf8")).toBe("v1\n");
    expect(git(path.join(ws.root, "tools"), "log", "--format=%s")).toBe("lint tool");
  });

  it("leaves nested .git folders out when the component excludes them", async () => {
    const ws = makeWorkspaceDirs("nested-git-excluded");
    projectWithVendoredRepo(ws);
    await cliJson(ws, ["component", "add", "project", "--root", ws.root, "--exclude", "**/.git"]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "project"]);
    expect((await entriesOf(ws, created.id)).filter((p) => p.includes(".git"))).toEqual([]);
  });
});
