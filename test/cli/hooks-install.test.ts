/**
 * `safetynet hooks install|uninstall|status claude-code|cursor`: the agent's own
 * hook configuration, merged with what is there (other hooks and settings kept,
 * a second install changes nothing, uninstall removes only ours, a file that
 * cannot be parsed is refused untouched), and the component registered when the
 * folder is none yet. The configured command then works from any folder.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, jsonOf, makeTempDir, makeWorkspaceDirs, REPO_ROOT, runCli, writeTree, type CliErrorJson, type WorkspaceDirs } from "../support/workspace";
import { hookEvent } from "../support/hook-events";
import { metadataEnvFor } from "../support/metadata-store";
import type { ComponentView } from "../../server/registry/components";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

interface Installed {
  agent: string;
  scope: "project" | "user";
  file: string;
  component: { name: string; root: string } | null;
  changed: boolean;
  registered: boolean;
  events: string[];
  command: string;
}

interface ClaudeSettings {
  hooks?: Record<string, { matcher?: string; hooks: { type: string; command: string; timeout?: number }[] }[]>;
  [key: string]: unknown;
}

interface CursorHooks {
  version?: number;
  hooks?: Record<string, { command: string; [key: string]: unknown }[]>;
}

function setUp(label: string): { ws: WorkspaceDirs; home: string } {
  const ws = makeWorkspaceDirs(label);
  writeTree(ws.root, { "src/app.ts": "export const app = 1;\n" });
  return { ws, home: makeTempDir(`${label}-home`) };
}

/** The CLI as a user runs it in the project folder, with a home of its own. */
const inProject = (ws: WorkspaceDirs, home: string, cwd = ws.root) => ({ cwd, env: { HOME: home } });
const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, "utf8")) as T;

/**
 * Runs a configured hook command the way the agent does: through a shell, from another folder, with none of
 * Safety Net's variables set but the metadata store's (PostgreSQL metadata needs its URL in the agent's
 * environment: the configuration never holds it, as it may hold a password).
 */
function runConfiguredCommand(ws: WorkspaceDirs, command: string, input: string, cwd: string): { status: number | null; stdout: string; stderr: string } {
  const env: Record<string, string | undefined> = { ...process.env, PATH: "/usr/bin:/bin" };
  for (const key of Object.keys(env)) if (key.startsWith("SAFETYNET_")) delete env[key];
  Object.assign(env, metadataEnvFor(ws.dataDir));
  const result = spawnSync("/bin/sh", ["-c", command], { cwd, env: env as NodeJS.ProcessEnv, input, encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("safetynet hooks install claude-code", () => {
  it("registers the folder as a component and writes .claude/settings.json whose command takes a checkpoint from any folder", async () => {
    const { ws, home } = setUp("install-claude");
    const installed = await cliJson<Installed>(ws, ["hooks", "install", "claude-code"], 0, inProject(ws, home));

    const file = path.join(ws.root, ".claude", "settings.json");
    expect(installed).toMatchObject({ agent: "claude-code", scope: "project", file, component: { name: "workspace", root: ws.root }, changed: true, registered: true, events: ["PreToolUse", "UserPromptSubmit"] });
    const components = await cliJson<{ items: ComponentView[] }>(ws, ["component", "list"]);
    expect(components.items.map((c) => [c.name, c.root])).toEqual([["workspace", ws.root]]);

    const settings = readJson<ClaudeSettings>(file);
    const hook = { type: "command", command: installed.command, timeout: 60 };
    expect(settings).toEqual({ hooks: { PreToolUse: [{ matcher: "Edit|Write|MultiEdit|NotebookEdit|Bash", hooks: [hook] }], UserPromptSubmit: [{ hooks: [hook] }] } });
    // This package's hook script, then the Node CLI it falls back to: absolute node and bin, the data directory spelled out.
    const nodeCli = `${process.execPath} ${path.join(REPO_ROOT, "bin", "safetynet.mjs")} --data-dir ${ws.dataDir} hook claude-code`;
    expect(installed.command.startsWith(`/bin/sh ${path.join(REPO_ROOT, "bin", "safetynet-hook")} ${ws.dataDir} claude-code ${nodeCli}`)).toBe(true);

    const run = runConfiguredCommand(ws, installed.command, hookEvent("claude-code-pretooluse-bash", ws.root), os.tmpdir());
    expect(run, run.stderr).toMatchObject({ status: 0, stdout: "", stderr: "" });
    const listed = await cliJson<{ items: { component: string; reason: string; callerMeta: { agent: string } }[] }>(ws, ["checkpoint", "list"]);
    expect(listed.items).toEqual([expect.objectContaining({ component: "workspace", reason: "before Bash: rm -rf build && npm run build", callerMeta: expect.objectContaining({ agent: "claude-code" }) })]);
  });

  it("takes the checkpoint with the Node CLI when the hook socket a crashed server left answers nobody", async () => {
    const { ws, home } = setUp("install-stale-socket");
    const installed = await cliJson<Installed>(ws, ["hooks", "install", "claude-code"], 0, inProject(ws, home));
    // A server killed without cleaning up leaves its socket file behind, with nobody listening.
    const socket = path.join(ws.dataDir, "hook.sock");
    spawnSync(process.execPath, ["-e", `require("node:net").createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, "SIGKILL"))`]);
    expect(fs.statSync(socket).isSocket()).toBe(true);

    const run = runConfiguredCommand(ws, installed.command, hookEvent("claude-code-pretooluse-bash", ws.root), os.tmpdir());
    expect(run, run.stderr).toMatchObject({ status: 0, stdout: "", stderr: "" });
    const listed = await cliJson<{ items: { reason: string }[] }>(ws, ["checkpoint", "list"]);
    expect(listed.items.map((c) => c.reason)).toEqual(["before Bash: rm -rf build && npm run build"]);
  });

  it("keeps the other settings and hooks, changes nothing when run twice, and uninstall removes only its own", async () => {
    const { ws, home } = setUp("install-merge");
    const file = path.join(ws.root, ".claude", "settings.json");
    const theirs: ClaudeSettings = {
      permissions: { allow: ["Bash(npm test)"] },
      hooks: {
        PreToolUse: [{ matcher: "Bash", hooks: [{ type: "command", command: "./scripts/check-command.sh", timeout: 5 }] }],
        Stop: [{ hooks: [{ type: "command", command: "say done" }] }],
      },
    };
    writeTree(ws.root, { ".claude/settings.json": JSON.stringify(theirs, null, 4) });

    const first = await cliJson<Installed>(ws, ["hooks", "install", "claude-code"], 0, inProject(ws, home));
    const merged = readJson<ClaudeSettings>(file);
    expect(merged.permissions).toEqual(theirs.permissions);
    expect(merged.hooks?.Stop).toEqual(theirs.hooks?.Stop);
    expect(merged.hooks?.PreToolUse?.[0]).toEqual(theirs.hooks?.PreToolUse?.[0]);
    expect(merged.hooks?.PreToolUse?.[1]?.hooks[0]?.command).toBe(first.command);
    expect(merged.hooks?.UserPromptSubmit?.[0]?.hooks[0]?.command).toBe(first.command);

    const bytes = fs.readFileSync(file);
    const { ino, mtimeMs } = fs.statSync(file);
    const second = await cliJson<Installed>(ws, ["hooks", "install", "claude-code"], 0, inProject(ws, home));
    expect(second).toMatchObject({ changed: false, registered: false });
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
    expect(fs.statSync(file)).toMatchObject({ ino, mtimeMs });

    const removed = await cliJson<{ changed: boolean; removedEvents: string[] }>(ws, ["hooks", "uninstall", "claude-code"], 0, inProject(ws, home));
    expect(removed).toMatchObject({ changed: true, removedEvents: ["PreToolUse", "UserPromptSubmit"] });
    expect(readJson<ClaudeSettings>(file)).toEqual(theirs);
    const again = await cliJson<{ changed: boolean }>(ws, ["hooks", "uninstall", "claude-code"], 0, inProject(ws, home));
    expect(again.changed).toBe(false);
  });

  it("refuses a settings file it cannot parse with exit 2, leaving it and the registry untouched", async () => {
    const { ws, home } = setUp("install-unparsable");
    const file = path.join(ws.root, ".claude", "settings.json");
    writeTree(ws.root, { ".claude/settings.json": '{ "permissions": { "allow": [ } ' });
    const before = fs.readFileSync(file);

    const run = await runCli(ws, ["hooks", "install", "claude-code", "--json"], inProject(ws, home));
    expect(run.status).toBe(2);
    const error = jsonOf<CliErrorJson>(run).error;
    expect(error.code).toBe("INVALID_INPUT");
    expect(error.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is not valid JSON \\(.+\\); fix or remove it first: it was left untouched$`));
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect((await cliJson<{ items: unknown[] }>(ws, ["component", "list"])).items).toEqual([]);

    const hooksNotAList = await runCli(ws, ["hooks", "install", "claude-code"], { ...inProject(ws, home) });
    expect(hooksNotAList.status).toBe(2);
    fs.writeFileSync(file, JSON.stringify({ hooks: { PreToolUse: { matcher: "Bash" } } }));
    const wrongShape = await runCli(ws, ["hooks", "uninstall", "claude-code"], inProject(ws, home));
    expect(wrongShape.status).toBe(2);
    expect(wrongShape.stderr).toContain(`${file}: "hooks.PreToolUse" is not a list; fix it first: the file was left untouched`);
  });

  it("with --user writes ~/.claude/settings.json and registers no folder", async () => {
    const { ws, home } = setUp("install-user");
    const installed = await cliJson<Installed>(ws, ["hooks", "install", "claude-code", "--user"], 0, inProject(ws, home));
    const file = path.join(home, ".claude", "settings.json");
    expect(installed).toMatchObject({ scope: "user", file, component: null, registered: false, changed: true });
    expect(readJson<ClaudeSettings>(file).hooks?.PreToolUse?.[0]?.hooks[0]?.command).toBe(installed.command);
    expect(fs.existsSync(path.join(ws.root, ".claude"))).toBe(false);
    expect((await cliJson<{ items: unknown[] }>(ws, ["component", "list"])).items).toEqual([]);

    const removed = await cliJson<{ file: string; changed: boolean }>(ws, ["hooks", "uninstall", "claude-code", "--user"], 0, inProject(ws, home));
    expect(removed).toMatchObject({ file, changed: true });
    expect(readJson<ClaudeSettings>(file)).toEqual({ hooks: {} });
  });

  it("with --component installs into that component's root, or registers the folder under that name", async () => {
    const { ws, home } = setUp("install-component");
    const other = path.join(ws.base, "other");
    fs.mkdirSync(other);
    await cliJson(ws, ["component", "add", "api", "--root", other]);

    const existing = await cliJson<Installed>(ws, ["hooks", "install", "claude-code", "--component", "api"], 0, inProject(ws, home));
    expect(existing).toMatchObject({ file: path.join(other, ".claude", "settings.json"), component: { name: "api", root: other }, registered: false });
    const created = await cliJson<Installed>(ws, ["hooks", "install", "claude-code", "--component", "web"], 0, inProject(ws, home));
    expect(created).toMatchObject({ file: path.join(ws.root, ".claude", "settings.json"), component: { name: "web", root: ws.root }, registered: true });
  });

  it("refuses to register a folder outside the allowed roots (as component add does), writing nothing", async () => {
    const { ws, home } = setUp("install-outside");
    const run = await runCli(ws, ["hooks", "install", "claude-code", "--json"], { ...inProject(ws, home), allowedRoots: [path.join(ws.base, "elsewhere")] });
    expect(run.status).toBe(2);
    expect(jsonOf<CliErrorJson>(run).error.code).toBe("INVALID_INPUT");
    expect(fs.existsSync(path.join(ws.root, ".claude"))).toBe(false);
  });

  it("refuses, creating nothing, when the data directory would be made inside the folder it registers", async () => {
    const { ws, home } = setUp("install-data-inside");
    const inside = path.join(ws.root, ".safetynet");
    const run = await runCli({ ...ws, dataDir: inside }, ["hooks", "install", "claude-code", "--json"], inProject(ws, home));
    expect(run.status).toBe(2);
    expect(jsonOf<CliErrorJson>(run).error).toMatchObject({
      code: "INVALID_INPUT",
      message: `the data directory ${inside} would lie inside ${ws.root}, the folder this install registers as a component; keep it outside: pass --data-dir (e.g. --data-dir ~/.safetynet) or set SAFETYNET_DATA_DIR`,
    });
    expect(fs.readdirSync(ws.root)).toEqual(["src"]);
  });

  it("answers an unknown agent with exit 2, naming the field", async () => {
    const { ws, home } = setUp("install-unknown");
    const run = await runCli(ws, ["hooks", "install", "copilot", "--json"], inProject(ws, home));
    expect(run.status).toBe(2);
    expect(jsonOf<CliErrorJson>(run).error).toMatchObject({ code: "INVALID_INPUT", message: "invalid agent: the agent is one of: claude-code, cursor" });
  });
});

describe("safetynet hooks install cursor", () => {
  it("writes .cursor/hooks.json (version 1) beside other hooks, idempotently, and uninstall removes only its own", async () => {
    const { ws, home } = setUp("install-cursor");
    const file = path.join(ws.root, ".cursor", "hooks.json");
    const theirs: CursorHooks = { version: 1, hooks: { afterFileEdit: [{ command: "./hooks/format.sh" }], beforeShellExecution: [{ command: "./hooks/audit.sh", timeout: 5 }] } };
    writeTree(ws.root, { ".cursor/hooks.json": JSON.stringify(theirs) });

    const installed = await cliJson<Installed>(ws, ["hooks", "install", "cursor"], 0, inProject(ws, home));
    expect(installed.events).toEqual(["beforeSubmitPrompt", "beforeShellExecution", "beforeMCPExecution"]);
    const ours = { command: installed.command };
    expect(readJson<CursorHooks>(file)).toEqual({
      version: 1,
      hooks: { afterFileEdit: theirs.hooks?.afterFileEdit, beforeShellExecution: [...(theirs.hooks?.beforeShellExecution ?? []), ours], beforeSubmitPrompt: [ours], beforeMCPExecution: [ours] },
    });
    const bytes = fs.readFileSync(file);
    expect((await cliJson<Installed>(ws, ["hooks", "install", "cursor"], 0, inProject(ws, home))).changed).toBe(false);
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);

    const run = runConfiguredCommand(ws, installed.command, hookEvent("cursor-beforeshellexecution", ws.root), "/");
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ continue: true });

    await cliJson(ws, ["hooks", "uninstall", "cursor"], 0, inProject(ws, home));
    expect(readJson<CursorHooks>(file)).toEqual(theirs);
  });

  it("with --user writes ~/.cursor/hooks.json", async () => {
    const { ws, home } = setUp("install-cursor-user");
    const installed = await cliJson<Installed>(ws, ["hooks", "install", "cursor", "--user"], 0, inProject(ws, home));
    expect(readJson<CursorHooks>(path.join(home, ".cursor", "hooks.json"))).toEqual({
      version: 1,
      hooks: { beforeShellExecution: [{ command: installed.command }], beforeSubmitPrompt: [{ command: installed.command }], beforeMCPExecution: [{ command: installed.command }] },
    });
  });
});

describe("safetynet hooks status", () => {
  it("says which configurations run the hook: the user's and each component's, and which cannot be read", async () => {
    const { ws, home } = setUp("status");
    await cliJson(ws, ["hooks", "install", "claude-code"], 0, inProject(ws, home));
    await cliJson(ws, ["hooks", "install", "cursor", "--user"], 0, inProject(ws, home));
    writeTree(ws.root, { ".cursor/hooks.json": "not json" });

    const status = await cliJson<{ items: { agent: string; scope: string; file: string; component: { name: string } | null; installed: boolean; events: string[]; problem: string | null }[] }>(
      ws,
      ["hooks", "status"],
      0,
      inProject(ws, home),
    );
    const brief = status.items.map((s) => ({ agent: s.agent, scope: s.scope, file: s.file, component: s.component?.name ?? null, installed: s.installed, events: s.events, unreadable: s.problem !== null }));
    expect(brief).toEqual([
      { agent: "claude-code", scope: "user", file: path.join(home, ".claude", "settings.json"), component: null, installed: false, events: [], unreadable: false },
      { agent: "claude-code", scope: "project", file: path.join(ws.root, ".claude", "settings.json"), component: "workspace", installed: true, events: ["PreToolUse", "UserPromptSubmit"], unreadable: false },
      { agent: "cursor", scope: "user", file: path.join(home, ".cursor", "hooks.json"), component: null, installed: true, events: ["beforeSubmitPrompt", "beforeShellExecution", "beforeMCPExecution"], unreadable: false },
      { agent: "cursor", scope: "project", file: path.join(ws.root, ".cursor", "hooks.json"), component: "workspace", installed: false, events: [], unreadable: true },
    ]);

    const human = await runCli(ws, ["hooks", "status", "claude-code"], inProject(ws, home));
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/^claude-code +project +workspace +yes \(PreToolUse, UserPromptSubmit\) +\S+settings\.json$/m);
    expect(human.stdout).not.toMatch(/^cursor/m);
  });
});
