/**
 * `safetynet mcp --url <server> --token <agent token>`: the same tools as in local
 * mode, served from the running server through @trpc/client; history records the
 * token's name, and API refusals come back as tool errors.
 */
import { readFileSync, writeFileSync } from "node:fs";
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
});
