/**
 * `safetynet hook claude-code|cursor` as the agents run it: a process with the
 * agent's event JSON on stdin, before each step. A step that changes files
 * gets a checkpoint of the component it works in, recorded with the agent, its
 * session and a redacted summary; whatever goes wrong, the agent's step goes on
 * (exit 0, one line on stderr, the answer its protocol expects on stdout).
 */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, inspectData, makeTempDir, makeWorkspaceDirs, writeTree, type WorkspaceDirs } from "../support/workspace";
import { filesContaining, hookEvent, runHook } from "../support/hook-events";
import { waitFor } from "../support/processes";
import { lockComponent } from "../../server/locks";
import type { ComponentView } from "../../server/registry/components";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

interface ListedCheckpoint {
  id: string;
  component: string;
  reason: string | null;
  callerMeta: { agent?: string; task?: string; hook?: Record<string, unknown> };
}

/** Cursor is told to go on, and never given a permission: approving commands stays Cursor's (and the user's) business. */
const CURSOR_GO_ON = { continue: true };

async function project(label: string): Promise<{ ws: WorkspaceDirs; component: ComponentView; home: string }> {
  const ws = makeWorkspaceDirs(label);
  writeTree(ws.root, { "src/index.ts": "const retries = 1;\n", "README.md": "# project\n" });
  const component = await cliJson<ComponentView>(ws, ["component", "add", "project", "--root", ws.root]);
  // A home of its own: nothing here reads or writes the real one.
  return { ws, component, home: makeTempDir(`${label}-home`) };
}

async function checkpoints(ws: WorkspaceDirs): Promise<ListedCheckpoint[]> {
  return (await cliJson<{ items: ListedCheckpoint[] }>(ws, ["checkpoint", "list"])).items;
}

const stderrLines = (stderr: string) => stderr.split("\n").filter((line) => line !== "");

describe("safetynet hook claude-code", () => {
  it("checkpoints the component before a Bash step, recording agent, session, command and reason, with the secrets in the command redacted everywhere", async () => {
    const { ws, home } = await project("hook-bash");
    const secrets = ["s3cr3t-pa55w0rd-917", "AKIAIOSFODNN7EXAMPLE", "tok_live_9c1f0e7a2b44", "hunter2hunter2", "d3pl0y-k3y-55", "ghp_Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz9Xc8"];
    const command =
      `API_KEY=${secrets[2]} curl -H "Authorization: Bearer ${secrets[3]}" https://example.test/deploy --data password=${secrets[0]} && ` +
      `AWS_ACCESS_KEY_ID=${secrets[1]} aws s3 ls && git push https://ci:${secrets[4]}@git.example.test/app.git && gh auth login --with-token ${secrets[5]}`;

    const run = await runHook(ws, "claude-code", hookEvent("claude-code-pretooluse-bash", ws.root, { tool_input: { command } }), { env: { HOME: home } });

    expect(run.status).toBe(0);
    // Claude Code adds nothing to its context from us: no stdout, and nothing to report on stderr.
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe("");
    const [checkpoint, ...others] = await checkpoints(ws);
    expect(others).toEqual([]);
    expect(checkpoint?.component).toBe("project");
    expect(checkpoint?.callerMeta).toMatchObject({ agent: "claude-code", task: "7f0c2d1e-3b4a-4c5d-8e9f-0a1b2c3d4e5f", hook: { event: "PreToolUse", tool: "Bash" } });
    const recorded = String(checkpoint?.callerMeta.hook?.command);
    expect(checkpoint?.reason).toBe(`before Bash: ${recorded}`);
    expect(recorded).toContain("curl -H");
    expect(recorded).toContain("[REDACTED]");
    for (const secret of secrets) {
      expect(recorded).not.toContain(secret);
      expect(filesContaining(ws.dataDir, secret), `${secret} stored in the data directory`).toEqual([]);
    }
  });

  it("takes no checkpoint before a Read, and says nothing", async () => {
    const { ws, home } = await project("hook-read");
    const run = await runHook(ws, "claude-code", hookEvent("claude-code-pretooluse-read", ws.root), { env: { HOME: home } });
    expect(run).toMatchObject({ status: 0, stdout: "", stderr: "" });
    expect(await checkpoints(ws)).toEqual([]);
  });

  it("takes one checkpoint per prompt (UserPromptSubmit), keeping at most 200 characters of the prompt", async () => {
    const { ws, home } = await project("hook-prompt");
    const prompt = `Refactor the retry logic. ${"Keep the public API. ".repeat(40)}`;
    const run = await runHook(ws, "claude-code", hookEvent("claude-code-userpromptsubmit", ws.root, { prompt }), { env: { HOME: home } });
    expect(run).toMatchObject({ status: 0, stdout: "", stderr: "" });
    const [checkpoint, ...others] = await checkpoints(ws);
    expect(others).toEqual([]);
    expect(checkpoint?.reason).toBe("before prompt");
    const kept = String(checkpoint?.callerMeta.hook?.prompt);
    expect(kept.length).toBeLessThanOrEqual(200);
    expect(prompt.startsWith(kept.slice(0, -1))).toBe(true);
    expect(kept.endsWith("…")).toBe(true);
  });

  it("checkpoints the component holding the file an Edit changes, even when the session's folder is outside it", async () => {
    const { ws, home } = await project("hook-edit");
    // The recorded Edit runs in the project's parent folder and edits src/index.ts inside the project.
    const run = await runHook(ws, "claude-code", hookEvent("claude-code-pretooluse-edit", ws.root), { env: { HOME: home } });
    expect(run).toMatchObject({ status: 0, stdout: "", stderr: "" });
    const [checkpoint] = await checkpoints(ws);
    expect(checkpoint).toMatchObject({ component: "project", reason: `before Edit: ${path.join(ws.root, "src", "index.ts")}`, callerMeta: { hook: { tool: "Edit" } } });
  });

  it("goes on with one line on stderr when stdin is not JSON", async () => {
    const { ws, home } = await project("hook-malformed");
    const run = await runHook(ws, "claude-code", '{"hook_event_name": "PreToolUse", "tool_name": "Ba', { env: { HOME: home } });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe("");
    expect(stderrLines(run.stderr)).toEqual([expect.stringMatching(/^safetynet hook: no checkpoint taken: the claude-code hook event on stdin is not JSON/)]);
    expect(await checkpoints(ws)).toEqual([]);
  });

  it("goes on with one line on stderr when no registered component holds the folder", async () => {
    const { ws, home } = await project("hook-unknown");
    const elsewhere = path.join(ws.base, "elsewhere");
    fs.mkdirSync(elsewhere);
    const run = await runHook(ws, "claude-code", hookEvent("claude-code-pretooluse-bash", elsewhere), { env: { HOME: home } });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe("");
    expect(stderrLines(run.stderr)).toEqual([`safetynet hook: no checkpoint taken: no registered component holds ${elsewhere}; register it with \`safetynet hooks install claude-code\` in that folder`]);
    expect(await checkpoints(ws)).toEqual([]);
  });

  it("goes on with one line on stderr while another operation holds the component's lock", async () => {
    const { ws, component, home } = await project("hook-locked");
    const release = await lockComponent(inspectData(ws).locks, component, "rollback");
    try {
      const run = await runHook(ws, "claude-code", hookEvent("claude-code-pretooluse-bash", ws.root), { env: { HOME: home } });
      expect(run.status).toBe(0);
      expect(run.stdout).toBe("");
      expect(stderrLines(run.stderr)).toEqual([expect.stringMatching(/^safetynet hook: no checkpoint taken: component "project" is locked by another operation in progress: rollback \(pid \d+/)]);
    } finally {
      await release();
    }
    expect(await checkpoints(ws)).toEqual([]);
  });

  it("waits for a component another hook is checkpointing (parallel tool calls), then takes its own checkpoint", async () => {
    const { ws, component, home } = await project("hook-parallel");
    const release = await lockComponent(inspectData(ws).locks, component, "checkpoint");
    let released = false;
    const run = runHook(ws, "claude-code", hookEvent("claude-code-pretooluse-bash", ws.root), {
      env: { HOME: home },
      onSpawn: (child) => {
        // Released once the hook has its SQLite database open (it then looks at the lock; with PostgreSQL metadata,
        // after 2.5 s), as another hook's checkpoint ends.
        void (async () => {
          const database = path.join(ws.dataDir, "safetynet.db");
          const opened = () => {
            try {
              return fs.readdirSync(`/proc/${child.pid}/fd`).some((fd) => fs.readlinkSync(`/proc/${child.pid}/fd/${fd}`) === database);
            } catch {
              return false;
            }
          };
          await waitFor(opened, 2_500, 10);
          await new Promise((resolve) => setTimeout(resolve, 500));
          released = true;
          await release();
        })();
      },
    });
    const result = await run;
    if (!released) await release();
    expect(result).toMatchObject({ status: 0, stdout: "", stderr: "" });
    expect(await checkpoints(ws)).toHaveLength(1);
  });

  it("goes on with one line on stderr when the disk is full", async () => {
    const { ws, home } = await project("hook-full-disk");
    // Every write under the data directory fails as on a full disk, from the first.
    const run = await runHook(ws, "claude-code", hookEvent("claude-code-pretooluse-bash", ws.root), { env: { HOME: home }, fault: { after: 1, under: ws.dataDir, mode: "enospc" } });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe("");
    expect(stderrLines(run.stderr)).toEqual([expect.stringMatching(/^safetynet hook: no checkpoint taken: .*(space|ENOSPC)/i)]);
    expect(await checkpoints(ws)).toEqual([]);
  });

  it("goes on with one line on stderr when the data directory does not exist, and creates none", async () => {
    const { ws, home } = await project("hook-no-data");
    const missing = path.join(ws.base, "no-such-data");
    const run = await runHook({ ...ws, dataDir: missing }, "claude-code", hookEvent("claude-code-pretooluse-bash", ws.root), { env: { HOME: home } });
    expect(run.status).toBe(0);
    expect(run.stdout).toBe("");
    expect(stderrLines(run.stderr)).toEqual([`safetynet hook: no checkpoint taken: the data directory ${missing} does not exist (run \`safetynet hooks install claude-code\` again)`]);
    expect(fs.existsSync(missing)).toBe(false);
  });
});

describe("safetynet hook cursor", () => {
  it("checkpoints before a shell command and allows it", async () => {
    const { ws, home } = await project("cursor-shell");
    const run = await runHook(ws, "cursor", hookEvent("cursor-beforeshellexecution", ws.root, { command: "DB_PASSWORD=Zq8-very-secret npm run migrate" }), { env: { HOME: home } });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual(CURSOR_GO_ON);
    const [checkpoint, ...others] = await checkpoints(ws);
    expect(others).toEqual([]);
    expect(checkpoint).toMatchObject({
      component: "project",
      reason: "before shell: DB_PASSWORD=[REDACTED] npm run migrate",
      callerMeta: { agent: "cursor", task: "668320d2-2fd8-4888-b33c-2a466fec86e7", hook: { event: "beforeShellExecution", tool: "shell", generation: "490b90b7-a2ce-4c2c-bb76-cb77b125df2f" } },
    });
    expect(filesContaining(ws.dataDir, "Zq8-very-secret")).toEqual([]);
  });

  it("checkpoints before a prompt and lets it continue", async () => {
    const { ws, home } = await project("cursor-prompt");
    const run = await runHook(ws, "cursor", hookEvent("cursor-beforesubmitprompt", ws.root), { env: { HOME: home } });
    expect(run).toMatchObject({ status: 0, stderr: "" });
    expect(JSON.parse(run.stdout)).toEqual({ continue: true });
    const [checkpoint] = await checkpoints(ws);
    expect(checkpoint).toMatchObject({ reason: "before prompt", callerMeta: { agent: "cursor", hook: { prompt: "Add input validation to the signup form" } } });
  });

  it("checkpoints before an MCP tool call (the workspace root names the component) and allows it", async () => {
    const { ws, home } = await project("cursor-mcp");
    const run = await runHook(ws, "cursor", hookEvent("cursor-beforemcpexecution", ws.root), { env: { HOME: home } });
    expect(run).toMatchObject({ status: 0, stderr: "" });
    expect(JSON.parse(run.stdout)).toEqual(CURSOR_GO_ON);
    const [checkpoint] = await checkpoints(ws);
    expect(checkpoint).toMatchObject({ reason: "before MCP: database_query", callerMeta: { hook: { tool: "database_query", input: '{"query": "DELETE FROM sessions"}' } } });
  });

  it("still allows the step, with one line on stderr, when stdin is not JSON, no component holds the folder, or the component is locked", async () => {
    const { ws, component, home } = await project("cursor-failures");
    const malformed = await runHook(ws, "cursor", "not json at all", { env: { HOME: home } });
    const unknown = await runHook(ws, "cursor", hookEvent("cursor-beforeshellexecution", ws.base, { workspace_roots: [ws.base] }), { env: { HOME: home } });
    const release = await lockComponent(inspectData(ws).locks, component, "checkpoint");
    let locked;
    try {
      locked = await runHook(ws, "cursor", hookEvent("cursor-beforesubmitprompt", ws.root), { env: { HOME: home } });
    } finally {
      await release();
    }
    for (const run of [malformed, unknown]) {
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual(CURSOR_GO_ON);
      expect(stderrLines(run.stderr)).toHaveLength(1);
    }
    expect(locked.status).toBe(0);
    expect(JSON.parse(locked.stdout)).toEqual({ continue: true });
    expect(stderrLines(locked.stderr)).toEqual([expect.stringMatching(/^safetynet hook: no checkpoint taken: component "project" is locked/)]);
    expect(await checkpoints(ws)).toEqual([]);
  });
});
