import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { Api, createToken, expectError, makeComponent } from "./api";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);

interface Plan {
  confirmToken: string;
  expiresAt: string;
}

describe("confirm tokens for rollback.execute and checkpoint.delete", () => {
  let agent: Api;

  beforeAll(async () => {
    agent = admin.as((await createToken(admin, "agent")).token);
  });

  async function changedComponent() {
    const { name, root } = await makeComponent(admin, server.workspace, { "a.txt": "v1\n", "b.txt": "b\n" });
    const checkpoint = await agent.call<{ id: string }>("checkpoint.create", { component: name });
    writeFileSync(path.join(root, "a.txt"), "v2\n");
    return { name, root, checkpointId: checkpoint.id };
  }

  it("is single-use: the second execute with the same token is refused with 400 naming why", async () => {
    const { root, checkpointId } = await changedComponent();
    const plan = await agent.call<Plan>("rollback.plan", { checkpointId });
    await agent.call("rollback.execute", { checkpointId, confirmToken: plan.confirmToken });
    expect(readFileSync(path.join(root, "a.txt"), "utf8")).toBe("v1\n");
    writeFileSync(path.join(root, "a.txt"), "v3\n");
    const reused = expectError(await agent.mutation("rollback.execute", { checkpointId, confirmToken: plan.confirmToken }), 400);
    expect(reused.message).toMatch(/already used/);
    expect(reused.data.field).toBe("confirmToken");
    expect(readFileSync(path.join(root, "a.txt"), "utf8")).toBe("v3\n");
  });

  it("is bound to its checkpoint: a token planned for another checkpoint is refused", async () => {
    const first = await changedComponent();
    const second = await changedComponent();
    const plan = await agent.call<Plan>("rollback.plan", { checkpointId: first.checkpointId });
    const refused = expectError(await agent.mutation("rollback.execute", { checkpointId: second.checkpointId, confirmToken: plan.confirmToken }), 400);
    expect(refused.message).toMatch(new RegExp(`issued for rollback of ${first.checkpointId}`));
    expect(readFileSync(path.join(second.root, "a.txt"), "utf8")).toBe("v2\n");
  });

  it("is refused when the workspace changed after the plan", async () => {
    const { root, checkpointId } = await changedComponent();
    const plan = await agent.call<Plan>("rollback.plan", { checkpointId });
    writeFileSync(path.join(root, "b.txt"), "changed after the plan\n");
    const refused = expectError(await agent.mutation("rollback.execute", { checkpointId, confirmToken: plan.confirmToken }), 400);
    expect(refused.message).toMatch(/workspace changed since the plan/);
    expect(readFileSync(path.join(root, "b.txt"), "utf8")).toBe("changed after the plan\n");
    expect(readFileSync(path.join(root, "a.txt"), "utf8")).toBe("v2\n");
  });

  it("is bound to the token that planned: another agent token executing it gets 400 naming why, and the planner still can", async () => {
    const { root, checkpointId } = await changedComponent();
    const plan = await agent.call<Plan>("rollback.plan", { checkpointId });
    const other = await createToken(admin, "agent");
    const refused = expectError(await admin.as(other.token).mutation("rollback.execute", { checkpointId, confirmToken: plan.confirmToken }), 400);
    expect(refused.data.field).toBe("confirmToken");
    expect(refused.message).toMatch(new RegExp(`issued to token:agent-[^,]+, not to token:${other.name}: whoever plans must also confirm`));
    // An admin is another principal too.
    expect(expectError(await admin.mutation("rollback.execute", { checkpointId, confirmToken: plan.confirmToken }), 400).message).toMatch(/not to token:admin/);
    expect(readFileSync(path.join(root, "a.txt"), "utf8")).toBe("v2\n");
    // The refusals did not spend it.
    expect(await agent.call("rollback.execute", { checkpointId, confirmToken: plan.confirmToken })).toMatchObject({ outcome: "succeeded" });
    expect(readFileSync(path.join(root, "a.txt"), "utf8")).toBe("v1\n");
  });

  it("binds checkpoint.delete the same way: a delete planned by one operator cannot be confirmed by another", async () => {
    const { checkpointId } = await changedComponent();
    const [planner, other] = await Promise.all([createToken(admin, "operator"), createToken(admin, "operator")]);
    const plan = await admin.as(planner.token).call<Plan>("checkpoint.planDelete", { id: checkpointId });
    const refused = expectError(await admin.as(other.token).mutation("checkpoint.delete", { id: checkpointId, confirmToken: plan.confirmToken }), 400);
    expect(refused.message).toMatch(new RegExp(`issued to token:${planner.name}, not to token:${other.name}`));
    expect(await admin.get("checkpoint.get", { id: checkpointId })).toMatchObject({ id: checkpointId, status: "active" });
    expect(await admin.as(planner.token).call("checkpoint.delete", { id: checkpointId, confirmToken: plan.confirmToken })).toMatchObject({ status: "deleted" });
  });

  it("is refused when unknown", async () => {
    const { checkpointId } = await changedComponent();
    const refused = expectError(await agent.mutation("rollback.execute", { checkpointId, confirmToken: "ct_made-up" }), 400);
    expect(refused.message).toMatch(/unknown token/);
  });

  it("expires: a token used after its lifetime is refused (server with a short TTL)", async () => {
    const short = inject("second");
    const shortAdmin = new Api(short.baseUrl, short.adminToken);
    const { root } = await makeComponent(shortAdmin, short.workspace, { "a.txt": "v1\n" });
    const name = path.basename(root);
    const checkpoint = await shortAdmin.call<{ id: string }>("checkpoint.create", { component: name });
    writeFileSync(path.join(root, "a.txt"), "v2\n");
    const plan = await shortAdmin.call<Plan>("rollback.plan", { checkpointId: checkpoint.id });
    expect(Date.parse(plan.expiresAt) - Date.now()).toBeLessThanOrEqual(short.confirmTtlMs);
    await new Promise((r) => setTimeout(r, short.confirmTtlMs + 300));
    const refused = expectError(await shortAdmin.mutation("rollback.execute", { checkpointId: checkpoint.id, confirmToken: plan.confirmToken }), 400);
    expect(refused.message).toMatch(/expired/);
    expect(readFileSync(path.join(root, "a.txt"), "utf8")).toBe("v2\n");
  });

  it("guards checkpoint.delete: no token -> 400, a rollback token -> 400, a planDelete token -> deleted once", async () => {
    const { checkpointId } = await changedComponent();
    const operator = admin.as((await createToken(admin, "operator")).token);
    const missing = expectError(await operator.mutation("checkpoint.delete", { id: checkpointId }), 400);
    expect(missing.data.field).toBe("confirmToken");
    expect(missing.message).toMatch(/planDelete/);

    const rollbackPlan = await operator.call<Plan>("rollback.plan", { checkpointId });
    const wrongPurpose = expectError(await operator.mutation("checkpoint.delete", { id: checkpointId, confirmToken: rollbackPlan.confirmToken }), 400);
    expect(wrongPurpose.message).toMatch(/issued for rollback/);

    const plan = await operator.call<Plan & { checkpointId: string; files: number }>("checkpoint.planDelete", { id: checkpointId });
    expect(plan).toMatchObject({ checkpointId, files: 2 });
    expect(await operator.call("checkpoint.delete", { id: checkpointId, confirmToken: plan.confirmToken })).toMatchObject({ status: "deleted" });
    expectError(await operator.query("checkpoint.get", { id: checkpointId }), 404);
    expectError(await operator.mutation("checkpoint.delete", { id: checkpointId, confirmToken: plan.confirmToken }), 404);
  });

  it("refuses to plan deleting a pinned checkpoint until it is unpinned", async () => {
    const { checkpointId } = await changedComponent();
    await admin.call("checkpoint.pin", { id: checkpointId, pinned: true });
    expect((await expectError(await admin.mutation("checkpoint.planDelete", { id: checkpointId }), 400)).message).toMatch(/pinned/);
    await admin.call("checkpoint.pin", { id: checkpointId, pinned: false });
    await admin.call("checkpoint.planDelete", { id: checkpointId });
  });
});
