/**
 * The confirm-token path and an in-process failure, through HTTP against
 * `next start`, as the dashboard, MCP and remote agents use them.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { Api, createToken, expectError, hashTree, makeComponent, type CreatedToken } from "./api";
import { PACKAGE_ROOT, startServer, type RunningServer } from "./server";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);

interface Plan {
  restore: { path: string; action: string }[];
  delete: { path: string }[];
  confirmToken: string;
}
interface Executed {
  outcome: string;
  restored: number;
  deleted: number;
  safetyCheckpointId: string;
}

/** src/a.ts imports ./b and has a test beside it: a checkpoint of src/a.ts holds all three. */
const relatedFiles = {
  "src/a.ts": 'import { b } from "./b";\nexport const a = b + 1;\n',
  "src/b.ts": "export const b = 1;\n",
  "src/a.test.ts": 'import { a } from "./a";\nif (a !== 2) throw new Error("a");\n',
  "README.md": "# app\n",
};

describe("a partial checkpoint with related files rolls back through its confirm token", () => {
  let agent: Api;
  let agentToken: CreatedToken;
  beforeAll(async () => {
    agentToken = await createToken(admin, "agent");
    agent = admin.as(agentToken.token);
  });

  it("rollback.plan then rollback.execute with the token restores the file, its test and its import, and nothing else", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, relatedFiles);
    const checkpoint = await agent.call<{ id: string; related: { path: string; reason: string }[] }>("checkpoint.create", { component: name, paths: ["src/a.ts"] });
    expect(checkpoint.related).toEqual(
      expect.arrayContaining([
        { path: "src/a.test.ts", reason: "related-test" },
        { path: "src/b.ts", reason: "related-import" },
      ]),
    );
    const original = hashTree(root);
    writeFileSync(path.join(root, "src/a.ts"), "export const a = 'broken';\n");
    writeFileSync(path.join(root, "src/b.ts"), "export const b = 41;\n");
    writeFileSync(path.join(root, "README.md"), "# changed, out of scope\n");

    const plan = await agent.call<Plan>("rollback.plan", { checkpointId: checkpoint.id });
    expect(plan.restore.map((r) => r.path).sort()).toEqual(["src/a.ts", "src/b.ts"]);
    const executed = await agent.call<Executed>("rollback.execute", { checkpointId: checkpoint.id, confirmToken: plan.confirmToken });

    expect(executed).toMatchObject({ outcome: "succeeded", restored: 2, deleted: 0 });
    expect(hashTree(root)).toEqual({ ...original, "README.md": hashTree(root)["README.md"] });
    expect(readFileSync(path.join(root, "README.md"), "utf8")).toBe("# changed, out of scope\n");

    // And the undo, planned and confirmed the same way, gives the agent's version back.
    const undoPlan = await agent.call<Plan>("rollback.plan", { checkpointId: executed.safetyCheckpointId });
    await agent.call<Executed>("rollback.execute", { checkpointId: executed.safetyCheckpointId, confirmToken: undoPlan.confirmToken });
    expect(readFileSync(path.join(root, "src/a.ts"), "utf8")).toBe("export const a = 'broken';\n");
  });

  it("safetynet --url --token rollback --yes (which plans and confirms with a token) succeeds on it", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, relatedFiles);
    const checkpoint = await agent.call<{ id: string }>("checkpoint.create", { component: name, paths: ["src/a.ts"] });
    writeFileSync(path.join(root, "src/a.ts"), "export const a = 'broken';\n");

    const base = { ...process.env };
    for (const key of ["SAFETYNET_DATA_DIR", "SAFETYNET_URL", "SAFETYNET_TOKEN"]) delete base[key];
    const run = spawnSync(process.execPath, [path.join(PACKAGE_ROOT, "bin", "safetynet.mjs"), "--url", server.baseUrl, "--token", agentToken.token, "rollback", checkpoint.id, "--yes", "--json"], {
      env: base,
      encoding: "utf8",
    });

    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ outcome: "succeeded", restored: 1 });
    expect(readFileSync(path.join(root, "src/a.ts"), "utf8")).toBe(relatedFiles["src/a.ts"]);
  });

  it("an ignored log written between plan and execute does not void the token (folder mtimes are not the workspace's content)", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { ".gitignore": "*.log\n", "src/a.ts": "export const a = 1;\n" });
    const checkpoint = await agent.call<{ id: string }>("checkpoint.create", { component: name });
    writeFileSync(path.join(root, "src/a.ts"), "export const a = 'broken';\n");
    const plan = await agent.call<Plan>("rollback.plan", { checkpointId: checkpoint.id });
    // The agent's process keeps logging into src/ (which moves src's mtime).
    await new Promise((resolve) => setTimeout(resolve, 20));
    writeFileSync(path.join(root, "src/agent.log"), "still running\n");

    await agent.call<Executed>("rollback.execute", { checkpointId: checkpoint.id, confirmToken: plan.confirmToken });

    expect(readFileSync(path.join(root, "src/a.ts"), "utf8")).toBe("export const a = 1;\n");
    expect(readFileSync(path.join(root, "src/agent.log"), "utf8")).toBe("still running\n");
  });

  it("a token planned by one agent cannot be spent by another (400 naming why), and the workspace stays as it is", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, relatedFiles);
    const checkpoint = await agent.call<{ id: string }>("checkpoint.create", { component: name });
    writeFileSync(path.join(root, "src/a.ts"), "changed\n");
    const plan = await agent.call<Plan>("rollback.plan", { checkpointId: checkpoint.id });
    const other = admin.as((await createToken(admin, "agent")).token);

    const refused = expectError(await other.mutation("rollback.execute", { checkpointId: checkpoint.id, confirmToken: plan.confirmToken }), 400);

    expect(refused.message).toMatch(/the token was issued to token:\S+, not to token:\S+: whoever plans must also confirm/);
    expect(readFileSync(path.join(root, "src/a.ts"), "utf8")).toBe("changed\n");
    // The rightful holder can still use it.
    await agent.call("rollback.execute", { checkpointId: checkpoint.id, confirmToken: plan.confirmToken });
  });
});

describe("a rollback that fails inside the server keeps its journal, and the next change to the component completes it first", () => {
  let faulty: RunningServer;
  let root: string;
  beforeAll(async () => {
    // This server's process fails (EIO) its 3rd file-system change inside the component's folder, once
    // (test/support/fault-seam.mjs): the utimes of the first file the rollback restores.
    faulty = await startServer({
      name: "faulty",
      env: ({ workspace }) => ({
        NODE_OPTIONS: `--import ${path.join(PACKAGE_ROOT, "test", "support", "fault-seam.mjs")}`,
        SAFETYNET_FAULT_AFTER: "3",
        SAFETYNET_FAULT_MODE: "eio",
        SAFETYNET_FAULT_UNDER: path.join(workspace, "app"),
      }),
    });
    root = path.join(faulty.workspace, "app");
  });
  afterAll(async () => {
    await faulty?.stop();
  });

  it("refuses nothing afterwards: checkpoint.create first completes the interrupted rollback, then records the restored tree", async () => {
    const operator = new Api(faulty.baseUrl, faulty.adminToken);
    const { name } = await makeComponent(operator, faulty.workspace, { "a.txt": "v1\n", "b.txt": "b1\n", "c.txt": "c1\n" }, "app");
    const checkpoint = await operator.call<{ id: string }>("checkpoint.create", { component: name });
    const original = hashTree(root);
    writeFileSync(path.join(root, "a.txt"), "v2\n");
    writeFileSync(path.join(root, "b.txt"), "b2\n");
    writeFileSync(path.join(root, "c.txt"), "c2\n");

    const plan = await operator.call<Plan>("rollback.plan", { checkpointId: checkpoint.id });
    const failed = expectError(await operator.mutation("rollback.execute", { checkpointId: checkpoint.id, confirmToken: plan.confirmToken }), 500);
    expect(failed.message).toMatch(/EIO/);
    expect(readdirSync(path.join(faulty.dataDir, "journal")).filter((n) => n.endsWith(".json"))).toHaveLength(1);

    const next = await operator.call<{ id: string }>("checkpoint.create", { component: name });

    expect(hashTree(root)).toEqual(original);
    expect(readdirSync(path.join(faulty.dataDir, "journal")).filter((n) => n.endsWith(".json"))).toEqual([]);
    const history = await operator.get<{ items: { kind: string; outcome: string; checkpointId: string | null }[] }>("history.list", { component: name });
    // (History is ordered by start time: the create started before the recovery it ran first.)
    expect(history.items.slice(0, 3).map((e) => `${e.kind}:${e.outcome}`).sort()).toEqual(["checkpoint.create:succeeded", "recover:succeeded", "rollback:failed"]);
    const diff = await operator.get<{ modified: unknown[]; added: unknown[]; deleted: unknown[] }>("checkpoint.diff", { id: next.id });
    expect([diff.modified, diff.added, diff.deleted]).toEqual([[], [], []]);
    expect(existsSync(path.join(root, "a.txt"))).toBe(true);
  });
});
