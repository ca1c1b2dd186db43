/**
 * session.list over HTTP: an agent's checkpoints grouped by task, what the
 * session changed and where to roll it back to; the token's component scope
 * narrows it; bad input names the field; `safetynet sessions --url` prints the same.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { Api, createToken, expectError, hashTree, makeComponent } from "./api";
import { PACKAGE_ROOT } from "./server";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);

interface Session {
  component: string;
  task: string;
  agent: string | null;
  startedAt: string;
  lastAt: string;
  steps: number;
  changes: { added: number; modified: number; deleted: number };
  firstCheckpointId: string;
  lastCheckpointId: string;
  rollbackTo: string | null;
  closedBy: string | null;
}

interface SessionPage {
  items: Session[];
  nextCursor: string | null;
}

describe("session.list", () => {
  let mine: { name: string; root: string };
  let other: { name: string; root: string };
  let agent: Api;
  let viewer: Api;
  let firstStep: string;
  let secondStep: string;
  let closing: string;

  beforeAll(async () => {
    mine = await makeComponent(admin, server.workspace, { "app.ts": "v1\n", "old.ts": "old\n" });
    other = await makeComponent(admin, server.workspace, { "x.txt": "x\n" });
    agent = admin.as((await createToken(admin, "agent")).token);
    viewer = admin.as((await createToken(admin, "viewer")).token);
    // An agent hook: a checkpoint before each step, all naming the session as their task.
    firstStep = (await agent.call<{ id: string }>("checkpoint.create", { component: mine.name, agent: "cursor", task: "chat-91" })).id;
    writeFileSync(path.join(mine.root, "app.ts"), "v2\n");
    writeFileSync(path.join(mine.root, "added.ts"), "new\n");
    secondStep = (await agent.call<{ id: string }>("checkpoint.create", { component: mine.name, agent: "cursor", task: "chat-91" })).id;
    unlinkSync(path.join(mine.root, "old.ts"));
    closing = (await agent.call<{ id: string }>("checkpoint.create", { component: mine.name, reason: "next morning" })).id;
    await agent.call("checkpoint.create", { component: other.name, agent: "cursor", task: "chat-92" });
  });

  it("returns the session's facts to a viewer: agent, steps, net changes, first, last and the checkpoint to roll back to", async () => {
    const page = await viewer.get<SessionPage>("session.list", { component: mine.name });

    expect(page).toEqual({
      items: [
        {
          component: mine.name,
          task: "chat-91",
          agent: "cursor",
          startedAt: expect.any(String),
          lastAt: expect.any(String),
          steps: 2,
          changes: { added: 1, modified: 1, deleted: 1 },
          firstCheckpointId: firstStep,
          lastCheckpointId: secondStep,
          rollbackTo: firstStep,
          closedBy: closing,
          cursor: expect.any(String),
        },
      ],
      nextCursor: null,
    });
  });

  it("rolling back to rollbackTo (plan, then execute) puts back the files as they were before the session", async () => {
    const scratch = await makeComponent(admin, server.workspace, { "a.txt": "a\n" });
    const start = hashTree(scratch.root);
    await agent.call("checkpoint.create", { component: scratch.name, task: "undo-me" });
    writeFileSync(path.join(scratch.root, "a.txt"), "changed\n");
    writeFileSync(path.join(scratch.root, "b.txt"), "added\n");
    await agent.call("checkpoint.create", { component: scratch.name, task: "undo-me" });
    const [session] = (await viewer.get<SessionPage>("session.list", { component: scratch.name })).items;

    const plan = await agent.call<{ confirmToken: string; restore: unknown[]; delete: unknown[] }>("rollback.plan", { checkpointId: session?.rollbackTo });
    await agent.call("rollback.execute", { checkpointId: session?.rollbackTo, confirmToken: plan.confirmToken });

    expect(hashTree(scratch.root)).toEqual(start);
  });

  it("a token scoped to one component sees only its sessions, and is refused another component's", async () => {
    const scoped = admin.as((await createToken(admin, "viewer", [mine.name])).token);

    const page = await scoped.get<SessionPage>("session.list");
    expect(page.items.map((s) => [s.component, s.task])).toEqual([[mine.name, "chat-91"]]);

    const refused = expectError(await scoped.query("session.list", { component: other.name }), 403);
    expect(refused.data.details).toMatchObject({ reason: "scope", component: other.name });

    const unscoped = await viewer.get<SessionPage>("session.list", { limit: 200 });
    expect(unscoped.items.map((s) => s.component)).toEqual(expect.arrayContaining([mine.name, other.name]));
  });

  it("a token scoped to several components gets its list narrowed to them", async () => {
    const third = await makeComponent(admin, server.workspace, { "t.txt": "t\n" });
    await agent.call("checkpoint.create", { component: third.name, task: "not-theirs" });
    const scoped = admin.as((await createToken(admin, "viewer", [mine.name, other.name])).token);

    const page = await scoped.get<SessionPage>("session.list", { limit: 200 });

    expect(page.items.map((s) => [s.component, s.task]).sort()).toEqual([[mine.name, "chat-91"], [other.name, "chat-92"]].sort());
    expect((await scoped.get<SessionPage>("session.list", { component: other.name })).items.map((s) => s.task)).toEqual(["chat-92"]);
    expect(expectError(await scoped.query("session.list", { component: third.name }), 403).data.details).toMatchObject({ reason: "scope" });
  });

  it("answers bad input with 400 naming the field, an unknown component with 404, no credentials with 401", async () => {
    expect(expectError(await viewer.query("session.list", { component: mine.name, limit: 0 }), 400).data.field).toBe("limit");
    expect(expectError(await viewer.query("session.list", { component: mine.name, limit: "ten" }), 400).data.field).toBe("limit");
    expect(expectError(await viewer.query("session.list", { component: "not a name!" }), 400).data.field).toBe("component");
    expect(expectError(await viewer.query("session.list", { component: mine.name, cursor: "not/a/cursor" }), 400).data.field).toBe("cursor");
    expect(expectError(await viewer.query("session.list", { component: mine.name, cursor: "bm90LWEtY3Vyc29y" }), 400).data.field).toBe("cursor");
    expectError(await viewer.query("session.list", { component: "no-such-component" }), 404);
    expectError(await admin.as(undefined).query("session.list", { component: mine.name }), 401);
  });

  it("`safetynet sessions --url --token` prints what session.list returns", async () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), "safetynet-sessions-remote-"));
    try {
      const env = { ...process.env };
      for (const key of ["SAFETYNET_DATA_DIR", "SAFETYNET_URL", "SAFETYNET_TOKEN", "SAFETYNET_DEBUG"]) delete env[key];
      const token = viewer.token as string;
      const run = (args: string[]) => spawnSync(process.execPath, [path.join(PACKAGE_ROOT, "bin", "safetynet.mjs"), "--url", server.baseUrl, "--token", token, ...args], { cwd, env, encoding: "utf8" });

      const json = run(["sessions", mine.name, "--json"]);
      expect(json.status, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual(await viewer.get<SessionPage>("session.list", { component: mine.name }));

      const table = run(["sessions", mine.name]);
      expect(table.status, table.stderr).toBe(0);
      expect(table.stdout).toMatch(new RegExp(`cursor\\s+chat-91\\s+2\\s+\\+1 ~1 -1\\s+safetynet rollback ${firstStep}`));

      const bad = run(["sessions", mine.name, "--limit", "0", "--json"]);
      expect(bad.status).toBe(2);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
