/**
 * Roots pinned to their real path, tried as an attacker would from outside:
 * a component root swapped for a symlink, and a scoped operator re-rooting its
 * component onto another's files.
 */
import { mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { Api, createToken, expectError, hashTree, makeComponent } from "./api";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);

describe("a component root swapped for a symlink", () => {
  let viewer: Api;
  let agent: Api;
  beforeAll(async () => {
    viewer = admin.as((await createToken(admin, "viewer")).token);
    agent = admin.as((await createToken(admin, "agent")).token);
  });

  it("to a folder outside: diff and plan are refused naming both paths, and no outside content leaks", async () => {
    const a = await makeComponent(admin, server.workspace, { "secret.txt": "inside a\n" });
    const checkpoint = await agent.call<{ id: string }>("checkpoint.create", { component: a.name });
    const outside = path.join(server.workspace, "..", `outside-${a.name}`);
    mkdirSync(outside, { recursive: true });
    writeFileSync(path.join(outside, "secret.txt"), "OUTSIDE SECRET\n");
    renameSync(a.root, `${a.root}.real`);
    symlinkSync(outside, a.root);

    const diff = await viewer.query("checkpoint.diff", { id: checkpoint.id, textDiff: true });
    const refused = expectError(diff, 400);
    expect(refused.message).toContain(`its root ${a.root} now resolves to ${outside}`);
    expect(JSON.stringify(diff)).not.toContain("OUTSIDE SECRET");
    expect(expectError(await agent.mutation("rollback.plan", { checkpointId: checkpoint.id }), 400).message).toContain(a.root);
    expect(expectError(await agent.mutation("checkpoint.create", { component: a.name }), 400).message).toContain(outside);
  });

  it("to another component: plan, execute and create are refused, and the other component's files are untouched", async () => {
    const a = await makeComponent(admin, server.workspace, { "a.txt": "a\n", "shared.txt": "from a\n" });
    const b = await makeComponent(admin, server.workspace, { "b.txt": "b\n", "shared.txt": "from b\n" });
    const checkpoint = await agent.call<{ id: string }>("checkpoint.create", { component: a.name });
    const plan = await agent.call<{ confirmToken: string }>("rollback.plan", { checkpointId: checkpoint.id });
    const bBefore = hashTree(b.root);
    renameSync(a.root, `${a.root}.real`);
    symlinkSync(b.root, a.root);

    expect(expectError(await agent.mutation("rollback.execute", { checkpointId: checkpoint.id, confirmToken: plan.confirmToken }), 400).message).toContain(`now resolves to ${b.root}`);
    expect(expectError(await agent.mutation("rollback.plan", { checkpointId: checkpoint.id }), 400).data.field).toBeNull();
    expect(hashTree(b.root)).toEqual(bBefore);
    expect(readFileSync(path.join(b.root, "shared.txt"), "utf8")).toBe("from b\n");
  });
});

describe("component roots may not overlap, and a scoped token may not move a root", () => {
  it("refuses a scoped operator moving its component onto another's files (403), and anyone overlapping roots (400)", async () => {
    const a = await makeComponent(admin, server.workspace, { "a.txt": "a\n" });
    const b = await makeComponent(admin, server.workspace, { "b.txt": "b\n", "sub/c.txt": "c\n" });
    const scoped = admin.as((await createToken(admin, "operator", [a.name])).token);

    const moved = expectError(await scoped.mutation("component.upsert", { name: a.name, root: b.root }), 403);
    expect(moved.message).toContain(`may not move it to ${b.root}`);
    // It may still update what it owns.
    await scoped.call("component.upsert", { name: a.name, root: a.root, metadata: { owner: "alice" } });

    expect(expectError(await admin.mutation("component.upsert", { name: a.name, root: b.root }), 400).message).toContain(`is the root of component "${b.name}"`);
    expect(expectError(await admin.mutation("component.upsert", { name: a.name, root: path.join(b.root, "sub") }), 400).message).toContain(`lies inside the root of component "${b.name}"`);
    expect(expectError(await admin.mutation("component.upsert", { name: `${a.name}-new`, root: server.workspace }), 400).message).toMatch(/contains the root of component/);
    expect((await admin.get<{ root: string }>("component.get", { name: a.name })).root).toBe(a.root);
  });
});
