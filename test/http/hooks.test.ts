/**
 * An agent's hook while a server runs on the data directory: the bin hands
 * `safetynet hook <agent>` to the server over <data dir>/server.sock with the
 * event it read from stdin, and the server takes the checkpoint from its open
 * database and warm caches, answering in the agent's protocol. The command
 * `hooks install` writes goes one step further: its shell script posts the event
 * to <data dir>/hook.sock with curl, so no Node process starts at all, and falls
 * back to the Node CLI when it cannot.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, makeComponent } from "./api";
import { PACKAGE_ROOT, startServer, type RunningServer } from "./server";
import { metadataEnvFor } from "../support/metadata-store";
import { objectStoreEnvFor } from "../support/object-store-location";
import { hookEvent } from "../support/hook-events";

describe("safetynet hook with a server running on the data directory", () => {
  let server: RunningServer;
  let admin: Api;

  /** The hook as the agent runs it: the configured command line, the event on stdin, from another folder. */
  const hook = (agent: string, event: string) => {
    const env: Record<string, string | undefined> = { ...process.env, ...metadataEnvFor(server.dataDir), ...objectStoreEnvFor(server.dataDir) };
    for (const key of ["SAFETYNET_URL", "SAFETYNET_TOKEN", "SAFETYNET_ACTOR", "SAFETYNET_DATA_DIR", "SAFETYNET_NO_SERVER"]) delete env[key];
    const result = spawnSync(process.execPath, [path.join(PACKAGE_ROOT, "bin", "safetynet.mjs"), "--data-dir", server.dataDir, "hook", agent], {
      cwd: os.tmpdir(),
      env: env as NodeJS.ProcessEnv,
      input: event,
      encoding: "utf8",
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const servedHooks = () =>
    readFileSync(server.logFile, "utf8")
      .split("\n")
      .filter((line) => line.includes('"local-socket.command"') && line.includes('"hook"'));

  /** `hooks install <agent>` for the component, as a user runs it in its root; the command it configured. */
  const install = (agent: string, name: string, root: string): string => {
    const result = spawnSync(process.execPath, [path.join(PACKAGE_ROOT, "bin", "safetynet.mjs"), "--data-dir", server.dataDir, "--json", "hooks", "install", agent, "--component", name], {
      cwd: root,
      env: { ...process.env, SAFETYNET_ALLOWED_ROOTS: server.workspace, ...metadataEnvFor(server.dataDir), ...objectStoreEnvFor(server.dataDir) },
      encoding: "utf8",
    });
    expect(result.status, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as { command: string }).command;
  };
  /** The configured command as the agent runs it: through a shell, from another folder, none of our variables set. */
  const runConfigured = (command: string, event: string, env: Record<string, string> = {}) => {
    const base: Record<string, string | undefined> = { ...process.env, ...metadataEnvFor(server.dataDir) };
    for (const key of Object.keys(base)) if (key.startsWith("SAFETYNET_") && !(key in metadataEnvFor(server.dataDir))) delete base[key];
    const result = spawnSync("/bin/sh", ["-c", command], { cwd: os.tmpdir(), env: { ...base, ...env } as NodeJS.ProcessEnv, input: event, encoding: "utf8" });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const servedVia = (socket: string) => servedHooks().filter((line) => line.includes(`"via":"${socket}"`)).length;

  beforeAll(async () => {
    server = await startServer({ name: "hooks" });
    admin = new Api(server.baseUrl, server.adminToken);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("takes the checkpoint on the server, with the event the bin forwarded, and never logs the event", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "a.txt": "v1\n" });
    const secret = "pg-pass-4c9e1d77";
    const before = servedHooks().length;

    const claude = hook("claude-code", hookEvent("claude-code-pretooluse-bash", root, { tool_input: { command: `PGPASSWORD=${secret} psql -c 'drop table users'` } }));
    expect(claude).toMatchObject({ status: 0, stdout: "", stderr: "" });
    const cursor = hook("cursor", hookEvent("cursor-beforesubmitprompt", root));
    expect(cursor.status).toBe(0);
    expect(cursor.stderr).toBe("");
    expect(JSON.parse(cursor.stdout)).toEqual({ continue: true });

    // (The server's log lines reach its log file asynchronously.)
    await expect.poll(() => servedHooks().length - before, { timeout: 5_000 }).toBe(2);
    const list = await admin.get<{ items: { reason: string; actor: string; callerMeta: { agent: string; task: string } }[] }>("checkpoint.list", { component: name });
    expect(list.items.map((c) => [c.reason, c.callerMeta.agent, c.callerMeta.task])).toEqual([
      ["before prompt", "cursor", "668320d2-2fd8-4888-b33c-2a466fec86e7"],
      ["before Bash: PGPASSWORD=[REDACTED] psql -c 'drop table users'", "claude-code", "7f0c2d1e-3b4a-4c5d-8e9f-0a1b2c3d4e5f"],
    ]);
    const history = await admin.get<{ items: { kind: string; actor: string }[] }>("history.list", { component: name });
    expect(history.items.filter((e) => e.kind === "checkpoint.create").map((e) => e.actor)).toEqual([`cli:${os.userInfo().username}`, `cli:${os.userInfo().username}`]);
    expect(readFileSync(server.logFile, "utf8")).not.toContain(secret);
  });

  it("answers the agent through the server when the step has no component: exit 0, one line on stderr", async () => {
    const before = servedHooks().length;
    const run = hook("cursor", hookEvent("cursor-beforeshellexecution", path.join(server.workspace, "nowhere")));
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ continue: true });
    expect(run.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^safetynet hook: no checkpoint taken: no registered component holds /)]);
    await expect.poll(() => servedHooks().length - before, { timeout: 5_000 }).toBe(1);
  });

  it("the command hooks install writes hands the event to the hook socket with curl, and the server takes the checkpoint", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "a.txt": "v1\n" });
    const command = install("claude-code", name, root);
    const before = servedVia("hook.sock");

    const run = runConfigured(command, hookEvent("claude-code-pretooluse-bash", root, { tool_input: { command: "rm -rf dist" } }));
    expect(run).toEqual({ status: 0, stdout: "", stderr: "" });
    await expect.poll(() => servedVia("hook.sock") - before, { timeout: 5_000 }).toBe(1);
    const list = await admin.get<{ items: { reason: string; callerMeta: { agent: string } }[] }>("checkpoint.list", { component: name });
    expect(list.items.map((c) => [c.reason, c.callerMeta.agent])).toEqual([["before Bash: rm -rf dist", "claude-code"]]);
    const history = await admin.get<{ items: { kind: string; actor: string }[] }>("history.list", { component: name });
    expect(history.items.filter((e) => e.kind === "checkpoint.create").map((e) => e.actor)).toEqual([`cli:${os.userInfo().username}`]);
  });

  it("gives the agent the hook's answer and its one line on stderr through the hook socket (Cursor, a step outside every component)", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "a.txt": "v1\n" });
    const command = install("cursor", name, root);
    const before = servedVia("hook.sock");

    const run = runConfigured(command, hookEvent("cursor-beforeshellexecution", path.join(server.workspace, "nowhere")));
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('{"continue":true}\n');
    expect(run.stderr).toMatch(/^safetynet hook: no checkpoint taken: no registered component holds [^\n]+\n$/);
    await expect.poll(() => servedVia("hook.sock") - before, { timeout: 5_000 }).toBe(1);
  });

  it("falls back to the Node CLI when curl is not there, with the same event and the same answer", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "a.txt": "v1\n" });
    const command = install("claude-code", name, root);
    const [viaHook, viaCli] = [servedVia("hook.sock"), servedVia("server.sock")];

    const run = runConfigured(command, hookEvent("claude-code-pretooluse-bash", root, { tool_input: { command: "make clean" } }), { PATH: path.join(server.workspace, "no-tools-here") });
    expect(run).toEqual({ status: 0, stdout: "", stderr: "" });
    await expect.poll(() => servedVia("server.sock") - viaCli, { timeout: 5_000 }).toBe(1);
    expect(servedVia("hook.sock")).toBe(viaHook);
    const list = await admin.get<{ items: { reason: string }[] }>("checkpoint.list", { component: name });
    expect(list.items.map((c) => c.reason)).toEqual(["before Bash: make clean"]);
  });
});
