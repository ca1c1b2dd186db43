import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, inject, it } from "vitest";
import { Api, makeComponent, uniqueName } from "./api";
import { runCli } from "./server";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);
const cliEnv = { SAFETYNET_ALLOWED_ROOTS: server.workspace };

describe("the CLI and the server on one data directory", () => {
  it("a token made with `safetynet token create` works over HTTP at once, and `token revoke` ends it", async () => {
    const component = await makeComponent(admin, server.workspace, { "a.txt": "a\n" });
    const name = uniqueName("cli-agent");
    const created = runCli(server.dataDir, ["token", "create", name, "--role", "agent", "--component", component.name], cliEnv);
    expect(created.status, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^sn_/);
    expect(created.stderr).toMatch(/shown only now/);

    const agent = admin.as(token);
    expect(await agent.get("auth.whoami")).toMatchObject({ name, role: "agent", components: [component.name] });
    await agent.call("checkpoint.create", { component: component.name });

    const listed = runCli(server.dataDir, ["--json", "token", "list"], cliEnv);
    const items = (JSON.parse(listed.stdout) as { items: { name: string; lastUsedAt: string | null }[] }).items;
    expect(items.find((t) => t.name === name)?.lastUsedAt).not.toBeNull();
    expect(listed.stdout).not.toContain(token);

    expect(runCli(server.dataDir, ["token", "revoke", name], cliEnv).status).toBe(0);
    expect((await agent.query("auth.whoami")).status).toBe(401);
    expect(runCli(server.dataDir, ["token", "create", uniqueName("x"), "--role", "root"], cliEnv).status).toBe(2);
  });

  it("keeps one database: what the server writes after a CLI run is seen by the next CLI run, and the other way round", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "a.txt": "v1\n" });
    const viaCli = runCli(server.dataDir, ["--json", "checkpoint", "create", name, "--reason", "from the CLI"], cliEnv);
    expect(viaCli.status, viaCli.stderr).toBe(0);
    const cliCheckpoint = (JSON.parse(viaCli.stdout) as { id: string }).id;

    writeFileSync(path.join(root, "a.txt"), "v2\n");
    const viaHttp = await admin.call<{ id: string }>("checkpoint.create", { component: name, reason: "over HTTP" });
    const seenByServer = await admin.get<{ items: { id: string }[] }>("checkpoint.list", { component: name });
    expect(seenByServer.items.map((c) => c.id)).toEqual([viaHttp.id, cliCheckpoint]);

    const listed = runCli(server.dataDir, ["--json", "checkpoint", "list", name], cliEnv);
    expect(listed.status, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { items: { id: string }[] }).items.map((c) => c.id)).toEqual([viaHttp.id, cliCheckpoint]);
  });
});
