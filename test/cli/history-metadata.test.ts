import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  assertCliBundleFresh,
  cleanUpAfterEach,
  cliJson,
  corruptObject,
  git,
  makeWorkspaceDirs,
  runCli,
  sha256Of,
  writeTree,
} from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import type { CheckpointDetail } from "../../server/checkpoints/queries";
import type { CheckpointDiff } from "../../server/checkpoints/diff";
import type { HistoryItem } from "../../server/audit/history";
import type { ComponentView } from "../../server/registry/components";
import type { RollbackResult } from "../../server/rollback/execute";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

describe("metadata", () => {
  it("checkpoint show --json returns the reason, agent, task, --meta pairs and the git HEAD, branch and dirty flag", async () => {
    const ws = makeWorkspaceDirs("cli-meta");
    writeTree(ws.root, { "a.txt": "committed\n" });
    git(ws.root, "init", "-q");
    git(ws.root, "add", ".");
    git(ws.root, "commit", "-q", "-m", "first");
    const head = git(ws.root, "rev-parse", "HEAD");
    fs.writeFileSync(path.join(ws.root, "a.txt"), "uncommitted\n");
    await cliJson(ws, ["component", "add", "web", "--root", ws.root, "--meta", "owner=alice"]);

    const created = await cliJson<CheckpointCreated>(ws, [
      "checkpoint", "create", "web", "--reason", "before the refactor", "--agent", "claude", "--task", "T-42", "--meta", "ticket=JIRA-1", "--meta", "note=a=b", "--retention-days", "30", "--pin",
    ]);
    const shown = await cliJson<CheckpointDetail>(ws, ["checkpoint", "show", created.id]);

    expect(shown).toMatchObject({
      id: created.id,
      component: "web",
      reason: "before the refactor",
      pinned: true,
      manifestSha256: created.manifestSha256,
      componentMeta: { owner: "alice", status: "active" },
      callerMeta: { agent: "claude", task: "T-42", ticket: "JIRA-1", note: "a=b", git: { head, branch: "main", dirty: true } },
    });
    expect(Date.parse(shown.retentionUntil) - Date.parse(shown.createdAt)).toBe(30 * 86_400_000);
  });

  it("in a repository whose index is over SAFETYNET_GIT_STATUS_MAX_INDEX_BYTES, records HEAD and the branch from its files and dirty as not checked", async () => {
    const ws = makeWorkspaceDirs("cli-meta-large-repo");
    writeTree(ws.root, { "a.txt": "committed\n" });
    git(ws.root, "init", "-q", "-b", "main");
    git(ws.root, "add", ".");
    git(ws.root, "commit", "-q", "-m", "first");
    fs.writeFileSync(path.join(ws.root, "a.txt"), "uncommitted\n");
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
    const large = { SAFETYNET_GIT_STATUS_MAX_INDEX_BYTES: "1" };
    const gitOf = async () => {
      const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"], 0, { env: large });
      return (await cliJson<CheckpointDetail>(ws, ["checkpoint", "show", created.id])).callerMeta.git;
    };
    expect(await gitOf()).toEqual({ head: git(ws.root, "rev-parse", "HEAD"), branch: "main", dirty: null });
    // The branch's ref packed (as after git gc), then a detached HEAD: still read from the files.
    git(ws.root, "commit", "-qam", "second");
    git(ws.root, "pack-refs", "--all");
    expect(fs.existsSync(path.join(ws.root, ".git/refs/heads/main"))).toBe(false);
    expect(await gitOf()).toEqual({ head: git(ws.root, "rev-parse", "HEAD"), branch: "main", dirty: null });
    git(ws.root, "checkout", "-q", "--detach");
    expect(await gitOf()).toEqual({ head: git(ws.root, "rev-parse", "HEAD"), branch: null, dirty: null });
    // Under the limit (the default), git status is asked as before.
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    expect((await cliJson<CheckpointDetail>(ws, ["checkpoint", "show", created.id])).callerMeta.git).toMatchObject({ branch: null, dirty: false });
  });

  it("takes a .git folder that is not a repository (no objects/ or refs/) for what git takes it: it looks further up", async () => {
    const ws = makeWorkspaceDirs("cli-meta-not-a-repo");
    writeTree(ws.base, { "outer.txt": "outer\n" });
    git(ws.base, "init", "-q", "-b", "trunk");
    git(ws.base, "add", "outer.txt");
    git(ws.base, "commit", "-q", "-m", "outer");
    writeTree(ws.root, { "a.txt": "a\n", ".git/HEAD": "ref: refs/heads/main\n" });
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    expect((await cliJson<CheckpointDetail>(ws, ["checkpoint", "show", created.id])).callerMeta.git).toMatchObject({ head: git(ws.base, "rev-parse", "HEAD"), branch: "trunk" });
  });

  it("a rollback puts back the component's metadata document of the checkpoint, with status rolled-back", async () => {
    const ws = makeWorkspaceDirs("cli-component-meta");
    writeTree(ws.root, { "a.txt": "a\n" });
    await cliJson(ws, ["component", "add", "web", "--root", ws.root, "--meta", "owner=alice", "--meta", "version=1.0.0"]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    const edited = await cliJson<ComponentView>(ws, ["component", "add", "web", "--root", ws.root, "--meta", "version=2.0.0", "--meta", "status=editing"]);
    expect(edited.metadata).toEqual({ owner: "alice", version: "2.0.0", status: "editing" });
    fs.writeFileSync(path.join(ws.root, "a.txt"), "agent\n");

    const rollback = await cliJson<{ rollbackId: string }>(ws, ["rollback", created.id, "--yes"]);

    expect((await cliJson<ComponentView>(ws, ["component", "show", "web"])).metadata).toEqual({
      owner: "alice",
      version: "1.0.0",
      status: "rolled-back",
      rolledBack: { rollbackId: rollback.rollbackId, checkpointId: created.id, at: expect.any(String), statusBefore: "active" },
    });

    // The next checkpoint taken on purpose clears the rollback's status.
    await cliJson(ws, ["checkpoint", "create", "web", "--reason", "fixed"]);
    expect((await cliJson<ComponentView>(ws, ["component", "show", "web"])).metadata).toEqual({ owner: "alice", version: "1.0.0", status: "active" });
  });
});

describe("history", () => {
  it("lists creates and rollbacks with duration, files, bytes, checksum and outcome; a failed rollback has its error", async () => {
    const ws = makeWorkspaceDirs("cli-history");
    writeTree(ws.root, { "a.txt": "version one\n", "b.txt": "bee\n" });
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    writeTree(ws.root, { "a.txt": "version two\n", "c.txt": "agent\n" });
    const rollback = await cliJson<RollbackResult>(ws, ["rollback", created.id, "--yes"]);
    writeTree(ws.root, { "a.txt": "version three\n" });
    await corruptObject(ws.dataDir, sha256Of("version one\n"));
    const failed = await runCli(ws, ["rollback", created.id, "--yes"]);
    expect(failed.status).toBe(4);

    const history = await cliJson<{ items: HistoryItem[] }>(ws, ["history", "web"]);

    const [failedRollback, succeededRollback, create] = history.items.filter((e) => e.kind !== "component.upsert");
    expect(create).toMatchObject({
      kind: "checkpoint.create",
      component: "web",
      checkpointId: created.id,
      outcome: "succeeded",
      durationMs: expect.any(Number),
      files: 2,
      bytes: created.bytes,
      checksum: created.manifestSha256,
      error: null,
    });
    expect(succeededRollback).toMatchObject({
      kind: "rollback",
      checkpointId: created.id,
      outcome: "succeeded",
      durationMs: expect.any(Number),
      files: 2,
      bytes: "version one\n".length,
      checksum: created.manifestSha256,
      error: null,
      details: expect.objectContaining({ rollbackId: rollback.rollbackId, safetyCheckpointId: rollback.safetyCheckpointId, restored: 1, deleted: 1 }),
    });
    expect(failedRollback).toMatchObject({ kind: "rollback", outcome: "failed", checkpointId: created.id, error: expect.stringMatching(/a\.txt \(corrupt\)/) });
    expect(failed.stderr).toContain(failedRollback?.error);
    const onlyFailed = await cliJson<{ items: HistoryItem[] }>(ws, ["history", "web", "--kind", "rollback", "--outcome", "failed"]);
    expect(onlyFailed.items.map((e) => e.id)).toEqual([failedRollback?.id]);
  });
});

describe("checkpoint diff", () => {
  it("prints added, modified, deleted, mode- and type-changed paths, and a unified diff with --patch", async () => {
    const ws = makeWorkspaceDirs("cli-diff");
    writeTree(ws.root, { "notes.md": "one\ntwo\nthree\n", "gone.txt": "x\n", "run.sh": { content: "#!/bin/sh\n", mode: 0o644 }, "was-file": "f\n" });
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    fs.writeFileSync(path.join(ws.root, "notes.md"), "one\n2\nthree\n");
    fs.rmSync(path.join(ws.root, "gone.txt"));
    fs.chmodSync(path.join(ws.root, "run.sh"), 0o755);
    fs.rmSync(path.join(ws.root, "was-file"));
    writeTree(ws.root, { "was-file/inner.txt": "now a folder\n", "added.txt": "new\n" });

    const diff = await cliJson<CheckpointDiff>(ws, ["checkpoint", "diff", created.id, "--patch"]);

    const paths = (entries: { path: string }[]) => entries.map((e) => e.path);
    expect({
      added: paths(diff.added),
      modified: paths(diff.modified),
      deleted: paths(diff.deleted),
      modeChanged: paths(diff.modeChanged),
      typeChanged: paths(diff.typeChanged),
    }).toEqual({ added: ["added.txt", "was-file/inner.txt"], modified: ["notes.md"], deleted: ["gone.txt"], modeChanged: ["run.sh"], typeChanged: ["was-file"] });
    expect(diff.modified[0]?.patch).toContain("--- a/notes.md\tcheckpoint\n+++ b/notes.md\tlive\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n");
  });
});
