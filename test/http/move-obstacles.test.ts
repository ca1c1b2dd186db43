import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { Api, createToken, expectError, makeComponent } from "./api";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);

interface Plan {
  confirmToken: string;
  obstaclesToMove?: { path: string; inTheWayOf: string }[];
}

interface Executed {
  rollbackId: string;
  outcome: string;
  movedObstacles: { path: string; to: string }[];
}

describe("rollback.plan / rollback.execute with moveObstacles", () => {
  let agent: Api;

  beforeAll(async () => {
    agent = admin.as((await createToken(admin, "agent")).token);
  });

  /** `config` was a file at the checkpoint; now it is a folder holding a file .gitignore leaves out. */
  async function blockedComponent() {
    const { root, name } = await makeComponent(admin, server.workspace, { ".gitignore": "*.cache\n", config: "port = 8080\n" });
    const checkpoint = await agent.call<{ id: string }>("checkpoint.create", { component: name });
    rmSync(path.join(root, "config"));
    mkdirSync(path.join(root, "config"));
    writeFileSync(path.join(root, "config/settings.cache"), "cached\n");
    return { root, name, checkpointId: checkpoint.id };
  }

  it("refuses the plan with 409 naming the obstacle and the way out", async () => {
    const { checkpointId } = await blockedComponent();
    const refused = expectError(await agent.mutation("rollback.plan", { checkpointId }), 409);
    expect(refused.message).toContain("config (in the way: config/settings.cache)");
    expect(refused.message).toContain("moveObstacles: true");
  });

  it("plans the move, binds the token to it, and moves the obstacle into the quarantine", async () => {
    const { root, checkpointId } = await blockedComponent();
    const plan = await agent.call<Plan>("rollback.plan", { checkpointId, moveObstacles: true });
    expect(plan.obstaclesToMove).toEqual([{ path: "config/settings.cache", inTheWayOf: "config" }]);

    // The token covers the moves: executing without asking for them is refused, and nothing changes.
    const without = expectError(await agent.mutation("rollback.execute", { checkpointId, confirmToken: plan.confirmToken }), 409);
    expect(without.message).toContain("--move-obstacles");
    expect(readFileSync(path.join(root, "config/settings.cache"), "utf8")).toBe("cached\n");

    const again = await agent.call<Plan>("rollback.plan", { checkpointId, moveObstacles: true });
    const result = await agent.call<Executed>("rollback.execute", { checkpointId, confirmToken: again.confirmToken, moveObstacles: true });
    expect(result.outcome).toBe("succeeded");
    const to = path.join(server.dataDir, "quarantine", result.rollbackId, "config/settings.cache");
    expect(result.movedObstacles).toEqual([{ path: "config/settings.cache", to }]);
    expect(readFileSync(to, "utf8")).toBe("cached\n");
    expect(lstatSync(path.join(root, "config")).isFile()).toBe(true);
    expect(readFileSync(path.join(root, "config"), "utf8")).toBe("port = 8080\n");
  });

  it("refuses a token whose plan moved fewer obstacles than are in the way now", async () => {
    const { root, checkpointId } = await blockedComponent();
    const plan = await agent.call<Plan>("rollback.plan", { checkpointId, moveObstacles: true });
    writeFileSync(path.join(root, "config/second.cache"), "another\n");
    const refused = expectError(await agent.mutation("rollback.execute", { checkpointId, confirmToken: plan.confirmToken, moveObstacles: true }), 400);
    expect(refused.data.field).toBe("confirmToken");
    expect(readFileSync(path.join(root, "config/second.cache"), "utf8")).toBe("another\n");
    expect(existsSync(path.join(root, "config/settings.cache"))).toBe(true);
  });

  it("names the field when moveObstacles is not a boolean", async () => {
    const { checkpointId } = await blockedComponent();
    const bad = expectError(await agent.mutation("rollback.plan", { checkpointId, moveObstacles: "yes" }), 400);
    expect(JSON.stringify(bad)).toContain("moveObstacles");
  });
});
