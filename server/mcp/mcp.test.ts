/**
 * `safetynet mcp` in local mode, driven by the MCP SDK's own client over stdio:
 * the built CLI (`node bin/safetynet.mjs mcp --data-dir <tmp>`) is spawned the way
 * an MCP host (Claude Desktop, an agent framework) spawns it.
 */
import fs from "node:fs";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { metadataEnvFor } from "../../test/support/metadata-store";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, makeWorkspaceDirs, readTree, REPO_ROOT, treeDifferences, writeTree, type WorkspaceDirs } from "../../test/support/workspace";
import { MAX_LISTED, MCP_TOOLS } from "./server";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

const CLI_BIN = path.join(REPO_ROOT, "bin", "safetynet.mjs");

interface Session {
  client: Client;
  transport: StdioClientTransport;
  stderr: () => string;
}

const open: Session[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()?.client.close();
});

async function connect(dirs: WorkspaceDirs): Promise<Session> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_BIN, "mcp", "--data-dir", dirs.dataDir],
    cwd: dirs.base,
    env: { ...(process.env as Record<string, string>), SAFETYNET_ALLOWED_ROOTS: dirs.base, ...metadataEnvFor(dirs.dataDir) },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const client = new Client({ name: "safetynet-test", version: "1.0.0" });
  await client.connect(transport);
  const session = { client, transport, stderr: () => stderr };
  open.push(session);
  return session;
}

async function call(session: Session, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await session.client.callTool({ name, arguments: args })) as CallToolResult;
}

function textOf(result: CallToolResult): string {
  const first = result.content[0];
  if (!first || first.type !== "text") throw new Error(`expected text content, got ${JSON.stringify(result.content)}`);
  return first.text;
}

/** The JSON result of a tool call that must succeed. */
async function tool<T = Record<string, unknown>>(session: Session, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const result = await call(session, name, args);
  if (result.isError) throw new Error(`${name} failed: ${textOf(result)}\n--- server stderr ---\n${session.stderr()}`);
  return JSON.parse(textOf(result)) as T;
}

/** The message of a tool call that must fail. */
async function toolError(session: Session, name: string, args: Record<string, unknown>): Promise<string> {
  const result = await call(session, name, args);
  expect(result.isError, `${name} should fail: ${textOf(result)}`).toBe(true);
  return textOf(result);
}

interface Created {
  id: string;
  component: string;
  files: number;
  manifestSha256: string;
}
interface Plan {
  restore: { path: string }[];
  delete: { path: string }[];
  unchanged: number;
  confirmToken: string;
  expiresAt: string;
}
interface Executed {
  rollbackId: string;
  checkpointId: string;
  outcome: string;
  restored: number;
  deleted: number;
  safetyCheckpointId: string;
}

async function appWorkspace(files: Record<string, string> = { "src/a.ts": "export const a = 1;\n", "src/c.ts": "export const c = 3;\n", "README.md": "# app\n" }) {
  const dirs = makeWorkspaceDirs("mcp");
  writeTree(dirs.root, files);
  await cliJson(dirs, ["component", "add", "app", "--root", dirs.root]);
  return dirs;
}

describe("safetynet mcp (local data directory)", () => {
  it("lists its tools with the API's input schemas", async () => {
    const session = await connect(await appWorkspace());
    const { tools } = await session.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...MCP_TOOLS].sort());
    const rollback = tools.find((t) => t.name === "rollback");
    expect(rollback?.inputSchema.required?.sort()).toEqual(["checkpointId", "confirmToken"]);
    expect(rollback?.annotations?.destructiveHint).toBe(true);
    const create = tools.find((t) => t.name === "create_checkpoint");
    expect(create?.inputSchema.required).toEqual(["component"]);
    expect(Object.keys(create?.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(["component", "paths", "reason", "metadata"]));
    const history = tools.find((t) => t.name === "history");
    expect((history?.inputSchema.properties?.kind as { enum?: string[] } | undefined)?.enum).toContain("rollback");
  });

  it("create -> list -> diff -> plan -> rollback with the token -> history, exactly as the files were", async () => {
    const dirs = await appWorkspace();
    const original = readTree(dirs.root);
    const session = await connect(dirs);

    const components = await tool<{ items: { name: string; root: string }[] }>(session, "list_components");
    expect(components.items).toEqual([expect.objectContaining({ name: "app", root: dirs.root })]);

    const created = await tool<Created>(session, "create_checkpoint", { component: "app", reason: "before the agent's refactor", metadata: { task: 42 } });
    expect(created).toMatchObject({ id: expect.stringMatching(/^cp_/), component: "app", files: 3, manifestSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });

    // The agent's change: modify, add, delete.
    fs.writeFileSync(path.join(dirs.root, "src/a.ts"), "export const a = 'broken';\n");
    fs.writeFileSync(path.join(dirs.root, "src/b.ts"), "export const b = 2;\n");
    fs.rmSync(path.join(dirs.root, "src/c.ts"));
    const changed = readTree(dirs.root);

    const listed = await tool<{ items: { id: string; reason: string | null }[]; nextCursor: string | null }>(session, "list_checkpoints", { component: "app" });
    expect(listed.items.map((c) => c.id)).toEqual([created.id]);
    expect(listed.items[0]?.reason).toBe("before the agent's refactor");

    const diff = await tool<{ added: { path: string }[]; modified: { path: string; patch?: string | null }[]; deleted: { path: string }[]; unchanged: number }>(
      session,
      "diff_checkpoint",
      { id: created.id, textDiff: true },
    );
    expect(diff.added.map((e) => e.path)).toEqual(["src/b.ts"]);
    expect(diff.modified.map((e) => e.path)).toEqual(["src/a.ts"]);
    expect(diff.modified[0]?.patch).toContain("+export const a = 'broken';");
    expect(diff.deleted.map((e) => e.path)).toEqual(["src/c.ts"]);

    const plan = await tool<Plan>(session, "plan_rollback", { checkpointId: created.id });
    expect(plan.restore.map((r) => r.path).sort()).toEqual(["src/a.ts", "src/c.ts"]);
    expect(plan.delete.map((d) => d.path)).toEqual(["src/b.ts"]);
    expect(plan.confirmToken).toMatch(/^ct_/);
    // Planning changes nothing.
    expect(treeDifferences(changed, readTree(dirs.root), { inode: true })).toEqual([]);

    const executed = await tool<Executed>(session, "rollback", { checkpointId: created.id, confirmToken: plan.confirmToken });
    expect(executed).toMatchObject({ rollbackId: expect.stringMatching(/^rb_/), checkpointId: created.id, outcome: "succeeded", restored: 2, deleted: 1 });
    expect(executed.safetyCheckpointId).toMatch(/^cp_/);
    expect(treeDifferences(original, readTree(dirs.root))).toEqual([]);

    // The token was single-use.
    expect(await toolError(session, "rollback", { checkpointId: created.id, confirmToken: plan.confirmToken })).toMatch(/confirmToken refused: the token was already used/);

    const history = await tool<{ items: { kind: string; actor: string; outcome: string; checkpointId: string | null }[] }>(session, "history", { component: "app" });
    // Newest first: the refused second use of the token, then the rollback itself.
    expect(history.items.filter((h) => h.kind === "rollback")).toEqual([
      expect.objectContaining({ actor: "mcp", outcome: "failed", checkpointId: created.id }),
      expect.objectContaining({ actor: "mcp", outcome: "succeeded", checkpointId: created.id }),
    ]);
    expect(history.items.find((h) => h.kind === "checkpoint.create" && h.checkpointId === created.id)).toMatchObject({ actor: "mcp", outcome: "succeeded" });
    const onlyRollbacks = await tool<{ items: { kind: string }[] }>(session, "history", { component: "app", kind: "rollback" });
    expect(onlyRollbacks.items.map((h) => h.kind)).toEqual(["rollback", "rollback"]);
  });

  it("refuses a rollback without a valid confirm token and changes nothing", async () => {
    const dirs = await appWorkspace();
    const session = await connect(dirs);
    const created = await tool<Created>(session, "create_checkpoint", { component: "app" });
    fs.writeFileSync(path.join(dirs.root, "src/a.ts"), "changed\n");
    const changed = readTree(dirs.root);

    expect(await toolError(session, "rollback", { checkpointId: created.id })).toMatch(/confirmToken/);
    expect(await toolError(session, "rollback", { checkpointId: created.id, confirmToken: "ct_made-up" })).toMatch(/confirmToken refused: unknown token/);

    // A token for another checkpoint does not confirm this one.
    const other = await tool<Created>(session, "create_checkpoint", { component: "app", reason: "second" });
    const otherPlan = await tool<Plan>(session, "plan_rollback", { checkpointId: other.id });
    expect(await toolError(session, "rollback", { checkpointId: created.id, confirmToken: otherPlan.confirmToken })).toMatch(/issued for rollback of/);

    // A plan made before the workspace changed again is refused.
    const plan = await tool<Plan>(session, "plan_rollback", { checkpointId: created.id });
    fs.writeFileSync(path.join(dirs.root, "src/a.ts"), "changed again\n");
    const changedAgain = readTree(dirs.root);
    expect(await toolError(session, "rollback", { checkpointId: created.id, confirmToken: plan.confirmToken })).toMatch(/workspace changed since the plan/);

    expect(treeDifferences(changedAgain, readTree(dirs.root), { inode: true })).toEqual([]);
    expect(changed.get("src/a.ts")?.sha256).not.toBe(changedAgain.get("src/a.ts")?.sha256);
    const history = await tool<{ items: { kind: string }[] }>(session, "history", { component: "app", kind: "rollback", outcome: "succeeded" });
    expect(history.items).toEqual([]);
  });

  it("reports bad input and unknown ids as tool errors naming the problem", async () => {
    const session = await connect(await appWorkspace());
    expect(await toolError(session, "create_checkpoint", { component: "../etc" })).toMatch(/component/);
    expect(await toolError(session, "create_checkpoint", { component: "nope" })).toMatch(/no component named "nope"/);
    expect(await toolError(session, "create_checkpoint", { component: "app", paths: ["../outside.txt"] })).toMatch(/\.\./);
    expect(await toolError(session, "diff_checkpoint", { id: "cp_doesnotexist" })).toMatch(/no checkpoint with id "cp_doesnotexist"/);
    expect(await toolError(session, "plan_rollback", { checkpointId: "cp_doesnotexist" })).toMatch(/no checkpoint/);
    expect(await toolError(session, "history", { kind: "made-up" })).toMatch(/kind/);
    // The server is still serving after errors.
    expect((await tool<{ items: unknown[] }>(session, "list_checkpoints", {})).items).toEqual([]);
  });

  it("cuts long lists for the agent's context and says so", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < MAX_LISTED + 30; i++) files[`f/${String(i).padStart(4, "0")}.txt`] = `${i}\n`;
    const dirs = await appWorkspace(files);
    const session = await connect(dirs);
    const created = await tool<Created>(session, "create_checkpoint", { component: "app" });
    fs.rmSync(path.join(dirs.root, "f"), { recursive: true });
    const diff = await tool<{ deleted: unknown[]; truncated?: Record<string, number> }>(session, "diff_checkpoint", { id: created.id });
    expect(diff.deleted).toHaveLength(MAX_LISTED);
    // The files and their folder.
    expect(diff.truncated).toEqual({ deleted: MAX_LISTED + 31 });
  });

  it("exits when the client closes its stdin", async () => {
    const session = await connect(await appWorkspace());
    await tool(session, "list_components");
    const started = Date.now();
    open.pop();
    await session.client.close();
    // The transport sends SIGTERM only after 2 s without an exit.
    expect(Date.now() - started).toBeLessThan(1900);
    expect(session.stderr()).toContain("serving tools on stdio (local:");
  });
});
