/**
 * `safetynet sessions`: checkpoints grouped by the task they name, as an agent
 * hook takes them (one before each step), with what each session changed and
 * the rollback that undoes it.
 */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, makeWorkspaceDirs, readTree, runCli, treeDifferences, writeTree, type CliErrorJson, type WorkspaceDirs } from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import type { SessionPage } from "../../server/sessions/list-sessions";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

/** An agent session of two steps on `web`, then a checkpoint by someone else that records the last step. */
async function agentSession(ws: WorkspaceDirs) {
  writeTree(ws.root, { "a.txt": "original\n", "c.txt": "doomed\n", "keep.txt": "kept\n" });
  await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
  await cliJson(ws, ["checkpoint", "create", "web", "--reason", "before the agent"]);
  const before = readTree(ws.root);
  const step1 = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web", "--agent", "claude-code", "--meta", "task=session-7f3a"]);
  fs.writeFileSync(path.join(ws.root, "a.txt"), "rewritten by the agent\n");
  fs.mkdirSync(path.join(ws.root, "src"));
  fs.writeFileSync(path.join(ws.root, "src", "new.ts"), "export {};\n");
  const step2 = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web", "--agent", "claude-code", "--meta", "task=session-7f3a"]);
  fs.rmSync(path.join(ws.root, "c.txt"));
  const after = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web", "--reason", "end of day"]);
  return { before, step1, step2, after };
}

describe("safetynet sessions", () => {
  it("--json lists the session: agent, task, steps, net changes and the checkpoint to roll back to", async () => {
    const ws = makeWorkspaceDirs("cli-sessions");
    const { step1, step2, after } = await agentSession(ws);

    const page = await cliJson<SessionPage>(ws, ["sessions", "web"]);

    expect(page).toEqual({
      items: [
        {
          component: "web",
          task: "session-7f3a",
          agent: "claude-code",
          startedAt: expect.any(String),
          lastAt: expect.any(String),
          steps: 2,
          changes: { added: 1, modified: 1, deleted: 1 },
          firstCheckpointId: step1.id,
          lastCheckpointId: step2.id,
          rollbackTo: step1.id,
          closedBy: after.id,
          cursor: expect.any(String),
        },
      ],
      nextCursor: null,
    });
    expect(Date.parse(page.items[0]?.lastAt ?? "")).toBeGreaterThan(Date.parse(page.items[0]?.startedAt ?? ""));
  });

  it("prints a table with the rollback command, and `safetynet rollback <id>` from it undoes the whole session", async () => {
    const ws = makeWorkspaceDirs("cli-sessions-table");
    const { before, step1 } = await agentSession(ws);

    const shown = await runCli(ws, ["sessions", "web"]);

    expect(shown.status, shown.stderr).toBe(0);
    const [header, row] = shown.stdout.trimEnd().split("\n");
    expect(header?.split(/\s{2,}/)).toEqual(["STARTED", "AGENT", "TASK", "STEPS", "CHANGES", "ROLL BACK WITH"]);
    expect(row).toMatch(/claude-code\s+session-7f3a\s+2\s+\+1 ~1 -1\s+safetynet rollback cp_/);
    const command = /safetynet rollback (\S+)/.exec(row ?? "")?.[1];
    expect(command).toBe(step1.id);

    const rolledBack = await runCli(ws, ["rollback", command as string, "--yes"]);
    expect(rolledBack.status, rolledBack.stderr).toBe(0);
    expect(treeDifferences(before, readTree(ws.root))).toEqual([]);
  });

  it("without a component lists every component's sessions, latest first, and pages with --limit and --cursor", async () => {
    const ws = makeWorkspaceDirs("cli-sessions-all");
    const other = path.join(ws.base, "api");
    writeTree(ws.root, { "a.txt": "a\n" });
    writeTree(other, { "b.txt": "b\n" });
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
    await cliJson(ws, ["component", "add", "api", "--root", other]);
    await cliJson(ws, ["checkpoint", "create", "web", "--task", "first"]);
    await cliJson(ws, ["checkpoint", "create", "api", "--task", "second"]);
    await cliJson(ws, ["checkpoint", "create", "web", "--task", "third"]);

    const table = await runCli(ws, ["sessions"]);
    expect(table.status, table.stderr).toBe(0);
    const rows = table.stdout.trimEnd().split("\n");
    expect(rows[0]).toMatch(/^COMPONENT\s+STARTED/);
    expect(rows.slice(1).map((r) => r.split(/\s+/)[0])).toEqual(["web", "api", "web"]);

    const first = await cliJson<SessionPage>(ws, ["sessions", "--limit", "2"]);
    expect(first.items.map((s) => [s.component, s.task])).toEqual([
      ["web", "third"],
      ["api", "second"],
    ]);
    const rest = await cliJson<SessionPage>(ws, ["sessions", "--limit", "2", "--cursor", first.nextCursor as string]);
    expect(rest).toMatchObject({ items: [{ component: "web", task: "first", steps: 1 }], nextCursor: null });
  });

  it("says how checkpoints join a session when there is none", async () => {
    const ws = makeWorkspaceDirs("cli-sessions-none");
    writeTree(ws.root, { "a.txt": "a\n" });
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
    await cliJson(ws, ["checkpoint", "create", "web", "--reason", "no task"]);

    const shown = await runCli(ws, ["sessions", "web"]);

    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain("no sessions of web: checkpoints join a session when they name a task (--task or --meta task=...)");
  });

  it("refuses bad input with exit 2 naming the field, and an unknown component with exit 5", async () => {
    const ws = makeWorkspaceDirs("cli-sessions-bad");
    writeTree(ws.root, { "a.txt": "a\n" });
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);

    const zero = await cliJson<CliErrorJson>(ws, ["sessions", "web", "--limit", "0"], 2);
    expect(zero.error.details).toMatchObject({ field: "limit" });
    const cursor = await cliJson<CliErrorJson>(ws, ["sessions", "web", "--cursor", "bm90LWEtY3Vyc29y"], 2);
    expect(cursor.error).toMatchObject({ code: "INVALID_INPUT", details: { field: "cursor" } });
    const unknown = await cliJson<CliErrorJson>(ws, ["sessions", "nope"], 5);
    expect(unknown.error.message).toContain('no component named "nope"');
  });
});
