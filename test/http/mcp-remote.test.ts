/**
 * `safetynet mcp --url <server> --token <agent token>`: the same tools as in local
 * mode, served from the running server through @trpc/client; history records the
 * token's name, and API refusals come back as tool errors.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, inject, it } from "vitest";
import { Api, createToken, hashTree, makeComponent } from "./api";
import { PACKAGE_ROOT } from "./server";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);

const clients: Client[] = [];
afterEach(async () => {
  while (clients.length > 0) await clients.pop()?.close();
});

async function connect(args: string[], env: Record<string, string> = {}): Promise<Client> {
  const base = { ...(process.env as Record<string, string>) };
  for (const key of ["SAFETYNET_DATA_DIR", "SAFETYNET_URL", "SAFETYNET_TOKEN"]) delete base[key];
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [path.join(PACKAGE_ROOT, "bin", "safetynet.mjs"), "mcp", ...args],
    env: { ...base, ...env },
    stderr: "pipe",
  });
  const client = new Client({ name: "safetynet-http-test", version: "1.0.0" });
  await client.connect(transport);
  clients.push(client);
  return client;
}

function textOf(result: CallToolResult): string {
  const first = result.content[0];
  return first?.type === "text" ? first.text : JSON.stringify(result.content);
}

async function tool<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`);
  return JSON.parse(textOf(result)) as T;
}

async function toolError(client: Client, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  expect(result.isError, textOf(result)).toBe(true);
  return textOf(result);
}

describe("safetynet mcp against a server (--url/--token)", () => {
  it("create -> diff -> plan -> rollback with the token -> history, recorded as the agent's token", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "src/a.ts": "export const a = 1;\n", "README.md": "# r\n" });
    const agent = await createToken(admin, "agent", [name]);
    const before = hashTree(root);
    const client = await connect(["--url", server.baseUrl, "--token", agent.token]);

    expect((await tool<{ items: { name: string }[] }>(client, "list_components")).items.map((c) => c.name)).toEqual([name]);
    const created = await tool<{ id: string; files: number }>(client, "create_checkpoint", { component: name, reason: "mcp over http" });
    expect(created.files).toBe(2);

    writeFileSync(path.join(root, "src/a.ts"), "export const a = 2;\n");
    writeFileSync(path.join(root, "src/b.ts"), "new\n");
    const diff = await tool<{ added: { path: string }[]; modified: { path: string }[] }>(client, "diff_checkpoint", { id: created.id });
    expect(diff.added.map((e) => e.path)).toEqual(["src/b.ts"]);
    expect(diff.modified.map((e) => e.path)).toEqual(["src/a.ts"]);

    expect(await toolError(client, "rollback", { checkpointId: created.id, confirmToken: "ct_nope" })).toMatch(/confirmToken refused: unknown token/);
    expect(readFileSync(path.join(root, "src/a.ts"), "utf8")).toBe("export const a = 2;\n");

    const plan = await tool<{ confirmToken: string; restore: unknown[]; delete: unknown[] }>(client, "plan_rollback", { checkpointId: created.id });
    const executed = await tool<{ outcome: string; restored: number; deleted: number }>(client, "rollback", { checkpointId: created.id, confirmToken: plan.confirmToken });
    expect(executed).toMatchObject({ outcome: "succeeded", restored: 1, deleted: 1 });
    expect(hashTree(root)).toEqual(before);

    // Newest first: the rollback, and the refused attempt with the made-up token (history records refusals too).
    const history = await tool<{ items: { kind: string; actor: string; outcome: string; error: string | null }[] }>(client, "history", { component: name, kind: "rollback" });
    expect(history.items).toEqual([
      expect.objectContaining({ kind: "rollback", actor: `token:${agent.name}`, outcome: "succeeded" }),
      expect.objectContaining({ kind: "rollback", actor: `token:${agent.name}`, outcome: "failed", error: expect.stringMatching(/confirmToken refused: unknown token/) }),
    ]);

    // The token's scope holds: another component is refused by the server.
    const other = await makeComponent(admin, server.workspace, { "x.txt": "x\n" });
    expect(await toolError(client, "create_checkpoint", { component: other.name })).toMatch(/^permission denied: .*HTTP 403/);
  });

  it("reports a bad token on every call, and takes SAFETYNET_URL / SAFETYNET_TOKEN from the environment", async () => {
    const bad = await connect([], { SAFETYNET_URL: server.baseUrl, SAFETYNET_TOKEN: "sn_not-a-token" });
    expect(await toolError(bad, "list_checkpoints")).toMatch(/^authentication failed: .*HTTP 401/);
    const viewer = await createToken(admin, "viewer");
    const good = await connect([], { SAFETYNET_URL: server.baseUrl, SAFETYNET_TOKEN: viewer.token });
    expect(Array.isArray((await tool<{ items: unknown[] }>(good, "list_checkpoints", { limit: 1 })).items)).toBe(true);
  });

  it("serves the new tools from the server: register (operator), verify, entries, file history; the token's role holds", async () => {
    const files: Record<string, string> = { "src/a.ts": "export const a = 1;\n" };
    for (let i = 0; i < 30; i++) files[`lib/m${String(i).padStart(2, "0")}.ts`] = `export const m = ${i};\n`;
    const { name, root } = await makeComponent(admin, server.workspace, files);
    const agent = await createToken(admin, "agent", [name]);
    const client = await connect(["--url", server.baseUrl, "--token", agent.token]);

    // Registering needs an operator: the agent's token is refused by the server.
    expect(await toolError(client, "register_component", { name, root, metadata: { owner: "agent" } })).toMatch(/^permission denied: .*HTTP 403/);
    const operator = await createToken(admin, "operator");
    const operatorClient = await connect(["--url", server.baseUrl, "--token", operator.token]);
    const otherRoot = path.join(server.workspace, `${name}-other`);
    mkdirSync(otherRoot, { recursive: true });
    writeFileSync(path.join(otherRoot, "x.txt"), "x\n");
    const registered = await tool<{ name: string; root: string; metadata: Record<string, unknown> }>(operatorClient, "register_component", { name: `${name}-other`, root: otherRoot, metadata: { owner: "ops" } });
    expect(registered).toMatchObject({ name: `${name}-other`, root: otherRoot, metadata: { owner: "ops" } });

    const first = await tool<{ id: string }>(client, "create_checkpoint", { component: name });
    expect(await tool(client, "verify_checkpoint", { id: first.id })).toMatchObject({ checkpointId: first.id, state: "verified", problemCount: 0 });

    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await tool<{ total: number; items: { path: string; kind: string }[]; nextCursor: string | null }>(client, "list_checkpoint_entries", { id: first.id, prefix: "lib/", limit: 8, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((e) => e.path));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(Object.keys(files).filter((f) => f.startsWith("lib/")).sort());

    writeFileSync(path.join(root, "src/a.ts"), "export const a = 2;\n");
    const second = await tool<{ id: string }>(client, "create_checkpoint", { component: name, reason: "a is 2" });
    const history = await tool<{ items: { checkpointId: string; change: string; actor: string }[] }>(client, "file_history", { component: name, path: "src/a.ts" });
    expect(history.items.map((h) => [h.checkpointId, h.change])).toEqual([
      [second.id, "modified"],
      [first.id, "present"],
    ]);
    expect(history.items[0]?.actor).toBe(`token:${agent.name}`);
  });

  it("fits every result to the budget over HTTP too, and pages a large diff and plan to the end", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 300; i++) files[`src/features/module-${i % 10}/components/Component${String(i).padStart(4, "0")}.tsx`] = `export const v = ${i};\n`;
    const { name, root } = await makeComponent(admin, server.workspace, files);
    const agent = await createToken(admin, "agent", [name]);
    const budget = 4096;
    const client = await connect(["--url", server.baseUrl, "--token", agent.token, "--max-result-bytes", String(budget)]);
    const created = await tool<{ id: string }>(client, "create_checkpoint", { component: name });
    const changed = Object.keys(files).filter((_, i) => i % 2 === 0);
    for (const rel of changed) writeFileSync(path.join(root, rel), "changed\n");
    const removed = Object.keys(files).filter((_, i) => i % 2 === 1 && i % 5 === 1);
    for (const rel of removed) rmSync(path.join(root, rel));

    const pagesOf = async (toolName: string, args: Record<string, unknown>) => {
      const pages: Record<string, unknown>[] = [];
      let cursor: string | undefined;
      for (;;) {
        const result = (await client.callTool({ name: toolName, arguments: cursor ? { ...args, cursor } : args })) as CallToolResult;
        expect(result.isError, textOf(result)).toBeFalsy();
        expect(Buffer.byteLength(textOf(result), "utf8")).toBeLessThanOrEqual(budget);
        const page = JSON.parse(textOf(result)) as Record<string, unknown> & { nextCursor: string | null };
        pages.push(page);
        if (page.nextCursor === null) return pages;
        cursor = page.nextCursor;
      }
    };
    const diffPages = await pagesOf("diff_checkpoint", { id: created.id });
    const diffed = diffPages.flatMap((p) => [...(p.modified as { path: string }[]), ...(p.deleted as { path: string }[])].map((e) => e.path));
    expect(diffed.sort()).toEqual([...changed, ...removed].sort());
    expect(diffPages[0]).toMatchObject({ changed: changed.length + removed.length, counts: expect.objectContaining({ modified: changed.length, deleted: removed.length }) });

    const planPages = await pagesOf("plan_rollback", { checkpointId: created.id });
    const planned = planPages.flatMap((p) => (p.restore as { path: string }[]).map((e) => e.path));
    expect(planned.sort()).toEqual([...changed, ...removed].sort());
    const token = planPages[planPages.length - 1]?.confirmToken as string;
    const executed = await tool<{ outcome: string; restored: number }>(client, "rollback", { checkpointId: created.id, confirmToken: token });
    expect(executed).toMatchObject({ outcome: "succeeded", restored: changed.length + removed.length });
  });
});
