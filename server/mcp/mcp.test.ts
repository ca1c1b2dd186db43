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
import { objectStoreEnvFor } from "../../test/support/object-store-location";
import {
  assertCliBundleFresh,
  cleanUpAfterEach,
  cliJson,
  corruptObject,
  makeWorkspaceDirs,
  readTree,
  REPO_ROOT,
  runCli,
  sha256Of,
  treeDifferences,
  writeTree,
  type WorkspaceDirs,
} from "../../test/support/workspace";
import { DEFAULT_MAX_RESULT_BYTES } from "./result-budget";
import { MCP_TOOLS } from "./server";

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

async function connect(dirs: WorkspaceDirs, options: { args?: readonly string[]; env?: Record<string, string> } = {}): Promise<Session> {
  const base = { ...(process.env as Record<string, string>) };
  delete base.SAFETYNET_MCP_MAX_RESULT_BYTES;
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_BIN, "mcp", "--data-dir", dirs.dataDir, ...(options.args ?? [])],
    cwd: dirs.base,
    env: { ...base, SAFETYNET_ALLOWED_ROOTS: dirs.base, ...metadataEnvFor(dirs.dataDir), ...objectStoreEnvFor(dirs.dataDir), ...options.env },
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
  counts: { restore: number; delete: number; unchanged: number; unstable: number; databases: number };
  confirmToken: string;
  expiresAt: string;
  nextCursor: string | null;
  more?: string;
}
interface Diff {
  changed: number;
  counts: Record<string, number>;
  shown: number;
  nextCursor: string | null;
  more?: string;
  added: { path: string; type?: string; size?: number; patch?: string | null }[];
  modified: { path: string; type?: string; size?: number; patch?: string | null }[];
  deleted: { path: string }[];
  modeChanged: { path: string }[];
  typeChanged: { path: string }[];
  linkChanged: { path: string }[];
  mtimeChanged: { path: string }[];
}
const DIFF_BUCKETS = ["added", "modified", "deleted", "modeChanged", "typeChanged", "linkChanged", "mtimeChanged"] as const;

/** Every changed path of a diff page. */
function diffPaths(diff: Diff): string[] {
  return DIFF_BUCKETS.flatMap((bucket) => diff[bucket].map((e) => e.path));
}

/** A tool call's result text (which must succeed) and its size in bytes. */
async function sized(session: Session, name: string, args: Record<string, unknown>): Promise<{ text: string; bytes: number }> {
  const result = await call(session, name, args);
  if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`);
  return { text: textOf(result), bytes: Buffer.byteLength(textOf(result), "utf8") };
}

/** Follows nextCursor from the first page to the last; every page within `budget`. */
async function allPages<T extends { nextCursor: string | null }>(session: Session, name: string, args: Record<string, unknown>, budget = DEFAULT_MAX_RESULT_BYTES): Promise<T[]> {
  const pages: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const { text, bytes } = await sized(session, name, cursor === undefined ? args : { ...args, cursor });
    expect(bytes, `${name} page ${pages.length + 1}`).toBeLessThanOrEqual(budget);
    const page = JSON.parse(text) as T;
    pages.push(page);
    if (page.nextCursor === null) return pages;
    expect(page.nextCursor).not.toBe(cursor);
    cursor = page.nextCursor;
  }
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
  it("lists its tools with the API's input schemas, short descriptions that say how to page, and instructions", async () => {
    const session = await connect(await appWorkspace());
    const { tools } = await session.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...MCP_TOOLS].sort());
    expect(MCP_TOOLS).toEqual(expect.arrayContaining(["register_component", "verify_checkpoint", "list_checkpoint_entries", "file_history", "list_sessions"]));
    for (const t of tools) expect(t.description?.length, t.name).toBeLessThanOrEqual(400);
    for (const name of ["list_components", "list_checkpoints", "list_checkpoint_entries", "diff_checkpoint", "verify_checkpoint", "file_history", "list_sessions", "plan_rollback", "history"]) {
      const paged = tools.find((t) => t.name === name);
      expect(paged?.description, name).toMatch(/nextCursor as cursor/);
      expect(Object.keys(paged?.inputSchema.properties ?? {}), name).toContain("cursor");
    }
    const rollback = tools.find((t) => t.name === "rollback");
    expect(rollback?.inputSchema.required?.sort()).toEqual(["checkpointId", "confirmToken"]);
    expect(rollback?.annotations?.destructiveHint).toBe(true);
    const create = tools.find((t) => t.name === "create_checkpoint");
    expect(create?.inputSchema.required).toEqual(["component"]);
    expect(Object.keys(create?.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(["component", "paths", "reason", "metadata"]));
    const history = tools.find((t) => t.name === "history");
    expect((history?.inputSchema.properties?.kind as { enum?: string[] } | undefined)?.enum).toContain("rollback");
    expect(Object.keys(history?.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(["agent", "task"]));
    const register = tools.find((t) => t.name === "register_component");
    expect(register?.inputSchema.required?.sort()).toEqual(["name", "root"]);
    const entries = tools.find((t) => t.name === "list_checkpoint_entries");
    expect(Object.keys(entries?.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(["id", "prefix", "cursor", "limit", "fields", "detail"]));
    const fileHistory = tools.find((t) => t.name === "file_history");
    expect(fileHistory?.inputSchema.required?.sort()).toEqual(["component", "path"]);
    expect(session.client.getInstructions()).toMatch(/cursor=nextCursor/);
    expect(session.client.getInstructions()).toMatch(/create_checkpoint/);
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

  it("plans and rolls back only the paths given, and the plan says which", async () => {
    const dirs = await appWorkspace();
    const session = await connect(dirs);
    const created = await tool<Created>(session, "create_checkpoint", { component: "app" });
    fs.writeFileSync(path.join(dirs.root, "src/a.ts"), "export const a = 'broken';\n");
    fs.writeFileSync(path.join(dirs.root, "README.md"), "# changed\n");

    const plan = await tool<Plan & { paths?: string[] }>(session, "plan_rollback", { checkpointId: created.id, paths: ["src/a.ts"] });
    expect(plan.paths).toEqual(["src/a.ts"]);
    expect(plan.restore.map((r) => r.path)).toEqual(["src/a.ts"]);
    const executed = await tool<Executed>(session, "rollback", { checkpointId: created.id, confirmToken: plan.confirmToken, paths: ["src/a.ts"] });
    expect(executed).toMatchObject({ outcome: "succeeded", restored: 1, deleted: 0 });
    expect(fs.readFileSync(path.join(dirs.root, "src/a.ts"), "utf8")).toBe("export const a = 1;\n");
    expect(fs.readFileSync(path.join(dirs.root, "README.md"), "utf8")).toBe("# changed\n");
    expect(await toolError(session, "plan_rollback", { checkpointId: created.id, paths: ["../x"] })).toMatch(/paths\.0/);
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

describe("safetynet mcp: register, verify, entries, file history", () => {
  it("register_component registers a component and updates it by name; bad input names the field", async () => {
    const dirs = makeWorkspaceDirs("mcp");
    writeTree(dirs.root, { "a.txt": "a\n", "b.log": "b\n" });
    const session = await connect(dirs);

    const registered = await tool<{ name: string; root: string; exclude: string[]; metadata: Record<string, unknown> }>(session, "register_component", {
      name: "app",
      root: dirs.root,
      exclude: ["*.log"],
      metadata: { owner: "agent" },
    });
    expect(registered).toMatchObject({ name: "app", root: dirs.root, exclude: ["*.log"], metadata: { owner: "agent" } });
    const updated = await tool<{ metadata: Record<string, unknown> }>(session, "register_component", { name: "app", root: dirs.root, exclude: ["*.log"], metadata: { owner: "agent", status: "beta" } });
    expect(updated.metadata).toEqual({ owner: "agent", status: "beta" });
    const components = await tool<{ total: number; items: { name: string }[]; nextCursor: string | null }>(session, "list_components");
    expect(components).toMatchObject({ total: 1, nextCursor: null, items: [expect.objectContaining({ name: "app" })] });
    // The exclude glob holds: only a.txt is checkpointed.
    expect((await tool<Created>(session, "create_checkpoint", { component: "app" })).files).toBe(1);

    expect(await toolError(session, "register_component", { name: "bad name!", root: dirs.root })).toMatch(/name/);
    expect(await toolError(session, "register_component", { name: "other", root: path.join(dirs.root, "missing") })).toMatch(/root/);
    expect(await toolError(session, "register_component", { name: "outside", root: "/" })).toMatch(/root/);
  });

  it("verify_checkpoint reports a checkpoint verified, then the damaged file by path once a stored object is corrupted", async () => {
    const dirs = await appWorkspace();
    const session = await connect(dirs);
    const created = await tool<Created>(session, "create_checkpoint", { component: "app" });

    const verified = await tool<{ checkpointId: string; state: string; problemCount: number; problems: unknown[]; objectsChecked: number }>(session, "verify_checkpoint", { id: created.id });
    expect(verified).toMatchObject({ checkpointId: created.id, state: "verified", problemCount: 0, problems: [] });
    expect(verified.objectsChecked).toBeGreaterThan(0);

    await corruptObject(dirs.dataDir, sha256Of("export const a = 1;\n"));
    const corrupt = await tool<{ state: string; problemCount: number; problems: Record<string, unknown>[] }>(session, "verify_checkpoint", { id: created.id });
    expect(corrupt).toMatchObject({ state: "corrupt", problemCount: 1, problems: [{ path: "src/a.ts", state: "corrupt" }] });
    // Compact by default; the damaged object's hash with detail.
    expect(corrupt.problems[0]).not.toHaveProperty("sha256");
    const detailed = await tool<{ problems: Record<string, unknown>[] }>(session, "verify_checkpoint", { id: created.id, detail: true });
    expect(detailed.problems[0]).toMatchObject({ path: "src/a.ts", sha256: sha256Of("export const a = 1;\n") });

    expect(await toolError(session, "verify_checkpoint", { id: "cp_doesnotexist" })).toMatch(/no checkpoint with id "cp_doesnotexist"/);
    const history = await tool<{ items: { kind: string; actor: string }[] }>(session, "history", { kind: "checkpoint.verify" });
    expect(history.items.length).toBeGreaterThanOrEqual(2);
    expect(history.items.every((h) => h.actor === "mcp")).toBe(true);
  });

  it("list_checkpoint_entries pages a checkpoint's entries in path order, narrowed by prefix, with the fields asked for", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 25; i++) files[`src/m${String(i).padStart(2, "0")}.ts`] = `export const m${i} = ${i};\n`;
    files["docs/guide.md"] = "# guide\n";
    const dirs = await appWorkspace(files);
    const session = await connect(dirs);
    const created = await tool<Created>(session, "create_checkpoint", { component: "app" });

    type EntriesPage = { checkpointId: string; total: number; shown: number; nextCursor: string | null; more?: string; items: Record<string, unknown>[] };
    const pages = await allPages<EntriesPage>(session, "list_checkpoint_entries", { id: created.id, limit: 7 });
    const paths = pages.flatMap((p) => p.items.map((e) => e.path as string));
    // The files and their two folders, each exactly once, in path order.
    expect(paths).toEqual(["docs", "docs/guide.md", "src", ...Object.keys(files).filter((f) => f.startsWith("src/")).sort()]);
    expect(pages[0]).toMatchObject({ checkpointId: created.id, total: 28, shown: 7, more: expect.stringMatching(/cursor set to nextCursor/) });
    expect(pages[0]?.items[1]).toEqual({ path: "docs/guide.md", kind: "file", size: 8 });

    const docs = await tool<EntriesPage>(session, "list_checkpoint_entries", { id: created.id, prefix: "docs/" });
    expect(docs.items.map((e) => e.path)).toEqual(["docs/guide.md"]);
    const hashed = await tool<EntriesPage>(session, "list_checkpoint_entries", { id: created.id, prefix: "docs/", fields: ["sha256", "reason"] });
    expect(hashed.items).toEqual([{ path: "docs/guide.md", sha256: sha256Of("# guide\n"), reason: "primary" }]);
    const full = await tool<EntriesPage>(session, "list_checkpoint_entries", { id: created.id, prefix: "docs/", detail: true });
    expect(full.items[0]).toMatchObject({ path: "docs/guide.md", kind: "file", size: 8, sha256: sha256Of("# guide\n"), mode: expect.any(Number), mtimeMs: expect.any(Number) });

    expect(await toolError(session, "list_checkpoint_entries", { id: created.id, fields: ["colour"] })).toMatch(/fields/);
    expect(await toolError(session, "list_checkpoint_entries", { id: created.id, limit: 0 })).toMatch(/limit/);
  });

  it("file_history lists every checkpoint that changed a path, newest first, a page at a time", async () => {
    const dirs = await appWorkspace();
    const session = await connect(dirs);
    const first = await tool<Created>(session, "create_checkpoint", { component: "app", reason: "start" });
    fs.writeFileSync(path.join(dirs.root, "src/a.ts"), "export const a = 2;\n");
    const second = await tool<Created>(session, "create_checkpoint", { component: "app", reason: "a is 2", task: "T-1" });
    fs.writeFileSync(path.join(dirs.root, "src/c.ts"), "untouched a\n");
    await tool<Created>(session, "create_checkpoint", { component: "app", reason: "c only" });
    fs.rmSync(path.join(dirs.root, "src/a.ts"));
    const fourth = await tool<Created>(session, "create_checkpoint", { component: "app", reason: "a removed" });

    type HistoryPage = { component: string; path: string; nextCursor: string | null; items: Record<string, unknown>[] };
    const pages = await allPages<HistoryPage>(session, "file_history", { component: "app", path: "src/a.ts", limit: 1 });
    const items = pages.flatMap((p) => p.items);
    expect(items.map((h) => [h.checkpointId, h.change])).toEqual([
      [fourth.id, "deleted"],
      [second.id, "modified"],
      [first.id, "present"],
    ]);
    expect(items[1]).toMatchObject({ reason: "a is 2", task: "T-1", actor: "mcp", size: 20 });
    expect(items[1]).not.toHaveProperty("sha256");
    const detailed = await tool<HistoryPage>(session, "file_history", { component: "app", path: "src/a.ts", limit: 2, detail: true });
    expect(detailed.items[1]).toMatchObject({ sha256: sha256Of("export const a = 2;\n"), previousSha256: sha256Of("export const a = 1;\n") });

    expect(await toolError(session, "file_history", { component: "app", path: "../etc/passwd" })).toMatch(/\.\./);
    expect(await toolError(session, "file_history", { component: "app" })).toMatch(/path/);
  });

  it("list_sessions groups the checkpoints by task, and a page the budget cuts short resumes after its last session shown", async () => {
    const dirs = await appWorkspace();
    const session = await connect(dirs, { args: ["--max-result-bytes", "4096"] });
    // Long task ids (a conversation id plus context) make a few sessions fill the smallest budget.
    const tasks = Array.from({ length: 9 }, (_, n) => `conversation-${n}-${"x".repeat(170)}`);
    for (const [n, task] of tasks.entries()) {
      await tool<Created>(session, "create_checkpoint", { component: "app", task, agent: "claude-code", reason: "before prompt" });
      fs.writeFileSync(path.join(dirs.root, `src/step-${n}.ts`), `export const step = ${n};\n`);
      await tool<Created>(session, "create_checkpoint", { component: "app", task, agent: "claude-code", reason: "before Bash" });
    }
    // The next checkpoint holds the state after the last session's last step.
    await tool<Created>(session, "create_checkpoint", { component: "app", reason: "after the agents" });

    type SessionsPage = { nextCursor: string | null; items: { task: string; agent: string | null; steps: number; changes: { added: number }; rollbackTo: string | null }[] };
    const pages = await allPages<SessionsPage>(session, "list_sessions", { component: "app", limit: 9 }, 4096);

    expect(pages.length).toBeGreaterThan(1);
    const seen = pages.flatMap((p) => p.items);
    expect(seen.map((s) => s.task)).toEqual([...tasks].reverse());
    for (const s of seen) expect(s).toMatchObject({ agent: "claude-code", steps: 2, changes: { added: 1 }, rollbackTo: expect.stringMatching(/^cp_/) });
    expect(await toolError(session, "list_sessions", { component: "app", cursor: "not a cursor!" })).toMatch(/cursor/);
  });
});

/**
 * The 393-path change: 200 files modified, 100 added, 93 deleted, in 20 folders.
 * Measured on it before the result budget existed: diff_checkpoint returned
 * 149,756 bytes (223,646 with textDiff) and plan_rollback 42,929 bytes (rollback
 * 20,726); now each is at most 16,384 bytes, and paging shows the rest.
 */
async function bigChange(): Promise<{ dirs: WorkspaceDirs; session: Session; checkpointId: string; changed: string[] }> {
  const files: Record<string, string> = {};
  const names: string[] = [];
  for (let i = 0; i < 393; i++) {
    const name = `src/features/module-${String(i % 20).padStart(2, "0")}/components/FeatureComponent${String(i).padStart(4, "0")}.tsx`;
    names.push(name);
    files[name] = `export const v${i} = 1;\n`;
  }
  const dirs = await appWorkspace(files);
  const session = await connect(dirs);
  const { id } = await tool<Created>(session, "create_checkpoint", { component: "app" });
  const changed: string[] = [];
  names.forEach((name, i) => {
    if (i < 200) {
      fs.writeFileSync(path.join(dirs.root, name), `export const changed = ${i}; // ${name}\n`);
      changed.push(name);
    } else if (i < 300) {
      const added = name.replace(".tsx", ".test.tsx");
      fs.writeFileSync(path.join(dirs.root, added), `test ${i}\n`);
      changed.push(added);
    } else {
      fs.rmSync(path.join(dirs.root, name));
      changed.push(name);
    }
  });
  return { dirs, session, checkpointId: id, changed: changed.sort() };
}

describe("safetynet mcp: every result within the budget", () => {
  it("on a 393-path change: diff and plan fit 16 KiB with complete counts, and paging sees every path exactly once", async () => {
    const { dirs, session, checkpointId, changed } = await bigChange();
    expect(changed).toHaveLength(393);

    const first = await sized(session, "diff_checkpoint", { id: checkpointId });
    expect(first.bytes).toBeLessThanOrEqual(DEFAULT_MAX_RESULT_BYTES);
    expect(first.text).not.toMatch(/\n/);
    expect(first.text).not.toContain("sha256");
    const diff = JSON.parse(first.text) as Diff;
    // The summary comes first and is complete, whatever the page holds.
    expect(Object.keys(diff).slice(0, 6)).toEqual(["checkpointId", "against", "component", "changed", "counts", "bytes"]);
    expect(diff.changed).toBe(393);
    expect(diff.counts).toMatchObject({ added: 100, modified: 200, deleted: 93, modeChanged: 0, typeChanged: 0 });
    expect(diff.shown).toBe(diffPaths(diff).length);
    expect(diff.shown).toBeGreaterThan(50);
    expect(diff.shown).toBeLessThan(393);
    expect(diff.more).toBe(`${393 - diff.shown} more changed paths: call diff_checkpoint again with the same arguments and cursor set to nextCursor`);

    const diffPages = await allPages<Diff>(session, "diff_checkpoint", { id: checkpointId });
    const seen = diffPages.flatMap(diffPaths);
    expect(seen.length).toBe(393);
    expect([...seen].sort()).toEqual(changed);
    expect(diffPages.every((p) => p.changed === 393)).toBe(true);

    // Full entries (hashes) when asked for, still within the budget and paged the same way.
    const detailedPages = await allPages<Diff>(session, "diff_checkpoint", { id: checkpointId, detail: true });
    expect(detailedPages.length).toBeGreaterThan(diffPages.length);
    expect(detailedPages.flatMap(diffPaths).sort()).toEqual(changed);
    expect(detailedPages[0]?.modified[0]).toHaveProperty("after.sha256");
    // Unified diffs too.
    const patched = await allPages<Diff>(session, "diff_checkpoint", { id: checkpointId, textDiff: true });
    expect(patched.flatMap(diffPaths).sort()).toEqual(changed);
    expect(patched.flatMap((p) => p.modified).every((m) => typeof m.patch === "string" && m.patch.includes("+export const changed"))).toBe(true);
    // A narrower call: one folder.
    const narrowed = await tool<Diff>(session, "diff_checkpoint", { id: checkpointId, prefix: "src/features/module-07/" });
    expect(narrowed.nextCursor).toBeNull();
    expect(diffPaths(narrowed).sort()).toEqual(changed.filter((p) => p.startsWith("src/features/module-07/")));
    expect(narrowed.changed).toBe(diffPaths(narrowed).length);

    const planFirst = await sized(session, "plan_rollback", { checkpointId });
    expect(planFirst.bytes).toBeLessThanOrEqual(DEFAULT_MAX_RESULT_BYTES);
    const plan = JSON.parse(planFirst.text) as Plan;
    expect(plan.confirmToken).toMatch(/^ct_/);
    expect(plan.counts).toMatchObject({ restore: 293, delete: 100 });
    expect(plan.nextCursor).not.toBeNull();
    const planPages = await allPages<Plan>(session, "plan_rollback", { checkpointId });
    const planned = planPages.flatMap((p) => [...p.restore, ...p.delete].map((e) => e.path));
    expect(planned.length).toBe(393);
    expect([...planned].sort()).toEqual(changed);
    expect(planPages.every((p) => p.confirmToken.startsWith("ct_") && p.counts.restore === 293 && p.counts.delete === 100)).toBe(true);

    // The last page's token confirms the whole plan.
    const last = planPages[planPages.length - 1] as Plan;
    const executed = await sized(session, "rollback", { checkpointId, confirmToken: last.confirmToken });
    expect(executed.bytes).toBeLessThanOrEqual(DEFAULT_MAX_RESULT_BYTES);
    const rollback = JSON.parse(executed.text) as Executed & { restoredPaths: string[]; truncated?: Record<string, number>; more?: string };
    expect(rollback).toMatchObject({ outcome: "succeeded", restored: 293, deleted: 100, truncated: { restoredPaths: 293 } });
    expect(rollback.more).toBe(`every path this rollback changed: call diff_checkpoint with id=${rollback.safetyCheckpointId} against=${checkpointId} (paged)`);
    // Following `more` shows exactly the paths the rollback changed.
    const undone = await allPages<Diff>(session, "diff_checkpoint", { id: rollback.safetyCheckpointId, against: checkpointId });
    expect(undone.flatMap(diffPaths).sort()).toEqual(changed);
    expect((await tool<Diff>(session, "diff_checkpoint", { id: checkpointId })).changed).toBe(0);
    void dirs;
  });

  it("holds a smaller budget from --max-result-bytes or SAFETYNET_MCP_MAX_RESULT_BYTES for every tool, with long names and large metadata", async () => {
    const longName = `${"a-very-long-folder-name-".repeat(9)}x`;
    const files: Record<string, string> = {};
    for (let i = 0; i < 120; i++) files[`${longName}/${longName.slice(0, 150)}-${i}.txt`] = `${i}\n`;
    const dirs = await appWorkspace(files);
    const bigMeta = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`key${i}`, "v".repeat(150)]));

    for (const [options, budget] of [
      [{ args: ["--max-result-bytes", "4096"] }, 4096],
      [{ env: { SAFETYNET_MCP_MAX_RESULT_BYTES: "6000" } }, 6000],
    ] as const) {
      const session = await connect(dirs, options);
      const within = async (name: string, args: Record<string, unknown>): Promise<unknown> => {
        const result = await call(session, name, args);
        const bytes = Buffer.byteLength(textOf(result), "utf8");
        expect(bytes, `${name} ${JSON.stringify(args).slice(0, 80)}`).toBeLessThanOrEqual(budget);
        return result.isError ? textOf(result) : (JSON.parse(textOf(result)) as unknown);
      };
      const created = (await within("create_checkpoint", { component: "app", metadata: bigMeta, reason: "r".repeat(2000) })) as { id: string };
      for (let i = 0; i < 120; i += 3) fs.writeFileSync(path.join(dirs.root, longName, `${longName.slice(0, 150)}-${i}.txt`), `changed ${i}\n`);
      await within("register_component", { name: "app", root: dirs.root, metadata: bigMeta });
      await within("list_components", {});
      // One checkpoint whose metadata alone is over the budget: shown, with its long values shortened and marked.
      const listed = (await within("list_checkpoints", {})) as { items: { id: string; callerMeta: Record<string, unknown> }[]; shortened?: string };
      expect(listed.items.map((c) => c.id)).toEqual([created.id]);
      expect(listed.shortened).toMatch(/shortened to fit the result budget/);
      expect(JSON.stringify(listed.items[0]?.callerMeta)).toMatch(/\[cut \d+ (keys|bytes)\]/);
      await within("list_checkpoints", { detail: true });
      await within("list_checkpoint_entries", { id: created.id, detail: true });
      await within("diff_checkpoint", { id: created.id, detail: true, textDiff: true });
      await within("verify_checkpoint", { id: created.id });
      await within("file_history", { component: "app", path: `${longName}/${longName.slice(0, 150)}-0.txt` });
      await within("history", { detail: true });
      const plan = (await within("plan_rollback", { checkpointId: created.id })) as Plan;
      expect(plan.confirmToken).toMatch(/^ct_/);
      expect(plan.counts.restore).toBe(40);
      // An error listing thousands of bad paths is cut too, and still names the field first.
      const refused = await within("create_checkpoint", { component: "app", paths: Array.from({ length: 3000 }, (_, i) => `bad\0path-${i}`) });
      expect(refused).toMatch(/paths/);
      const pages = await allPages<Diff>(session, "diff_checkpoint", { id: created.id }, budget);
      expect(pages.flatMap(diffPaths)).toHaveLength(40);
      const executed = (await within("rollback", { checkpointId: created.id, confirmToken: plan.confirmToken })) as Executed;
      expect(executed).toMatchObject({ outcome: "succeeded", restored: 40 });
    }
  });

  it("resumes an API page the budget cut short right after its last item shown: list_checkpoints and history lose nothing", async () => {
    const dirs = await appWorkspace();
    const session = await connect(dirs, { args: ["--max-result-bytes", "4096"] });
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      fs.writeFileSync(path.join(dirs.root, "src/a.ts"), `export const a = ${i};\n`);
      // About 1.5 KB of metadata each: a 4 KiB page holds two of the API's 50.
      ids.push((await tool<Created>(session, "create_checkpoint", { component: "app", metadata: { notes: `${i}`.padEnd(1500, ".") } })).id);
    }
    const pages = await allPages<{ items: { id: string }[]; nextCursor: string | null }>(session, "list_checkpoints", { component: "app" }, 4096);
    expect(pages.length).toBeGreaterThan(2);
    expect(pages.flatMap((p) => p.items.map((c) => c.id))).toEqual([...ids].reverse());

    const history = await allPages<{ items: { kind: string; checkpointId: string | null }[]; nextCursor: string | null }>(session, "history", { kind: "checkpoint.create", limit: 50, detail: true }, 4096);
    expect(history.flatMap((p) => p.items.map((h) => h.checkpointId))).toEqual([...ids].reverse());
  });

  it("refuses a bad --max-result-bytes or SAFETYNET_MCP_MAX_RESULT_BYTES with exit code 2, naming it", async () => {
    const dirs = await appWorkspace();
    const small = await runCli(dirs, ["mcp", "--max-result-bytes", "100"]);
    expect(small.status).toBe(2);
    expect(small.stderr).toContain("invalid --max-result-bytes: the result budget is at least 4096 bytes");
    const words = await runCli(dirs, ["mcp"], { env: { SAFETYNET_MCP_MAX_RESULT_BYTES: "lots" } });
    expect(words.status).toBe(2);
    expect(words.stderr).toContain('invalid SAFETYNET_MCP_MAX_RESULT_BYTES: expects a whole number of bytes, got "lots"');
  });

  it("names the field at fault in the paging inputs", async () => {
    const session = await connect(await appWorkspace());
    const created = await tool<Created>(session, "create_checkpoint", { component: "app" });
    expect(await toolError(session, "diff_checkpoint", { id: created.id, cursor: "" })).toMatch(/cursor/);
    expect(await toolError(session, "diff_checkpoint", { id: created.id, limit: 5000 })).toMatch(/limit/);
    expect(await toolError(session, "plan_rollback", { checkpointId: created.id, detail: "yes" })).toMatch(/detail/);
    expect(await toolError(session, "list_components", { cursor: "a\0b" })).toMatch(/cursor/);
  });
});
