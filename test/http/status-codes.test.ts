import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { Api, createToken, expectError, makeComponent, uniqueName } from "./api";
import { storedObjectFile } from "../support/stored-objects";
import { copyObjectFileToBucket } from "../support/object-store-location";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);

describe("400: bad input names the field", () => {
  let agent: Api;
  let component: { name: string; root: string };

  beforeAll(async () => {
    agent = admin.as((await createToken(admin, "agent")).token);
    component = await makeComponent(admin, server.workspace, { "src/a.ts": "a\n", "src/b.ts": "b\n" });
  });

  it("zod errors name the field path", async () => {
    const badName = expectError(await admin.mutation("component.upsert", { name: "no spaces allowed", root: server.workspace }), 400);
    expect(badName.message).toMatch(/^invalid name: /);
    expect(badName.data.field).toBe("name");

    const nul = expectError(await agent.mutation("checkpoint.create", { component: component.name, paths: ["ok.ts", "bad\u0000.ts"] }), 400);
    expect(nul.message).toMatch(/^invalid paths\.1: .*NUL/);
    expect(nul.data.field).toBe("paths.1");

    const wrongType = expectError(await agent.mutation("checkpoint.create", { component: component.name, retentionDays: "soon" }), 400);
    expect(wrongType.data.field).toBe("retentionDays");

    const missing = expectError(await agent.mutation("rollback.execute", { checkpointId: "cp_x" }), 400);
    expect(missing.message).toMatch(/^invalid confirmToken: /);

    const badKind = expectError(await agent.query("history.list", { kind: "nope" }), 400);
    expect(badKind.data.field).toBe("kind");
  });

  it("refuses `..`, absolute paths and symlinks out of the root (engine checks, through HTTP)", async () => {
    const dotdot = expectError(await agent.mutation("checkpoint.create", { component: component.name, paths: ["../outside.txt"] }), 400);
    expect(dotdot.message).toContain("..");
    expect(dotdot.data.safetynetCode).toBe("INVALID_INPUT");

    const absolute = expectError(await agent.mutation("checkpoint.create", { component: component.name, paths: ["/etc/passwd"] }), 400);
    expect(absolute.message).toMatch(/absolute/);

    const outside = path.join(server.workspace, uniqueName("outside"));
    mkdirSync(outside, { recursive: true });
    writeFileSync(path.join(outside, "secret.txt"), "secret\n");
    symlinkSync(outside, path.join(component.root, "escape"));
    const viaSymlink = expectError(await agent.mutation("checkpoint.create", { component: component.name, paths: ["escape/secret.txt"] }), 400);
    expect(viaSymlink.message).toMatch(/symlink/i);
  });

  it("refuses a component root outside the allowed roots or inside the data directory", async () => {
    const outsideRoot = expectError(await admin.mutation("component.upsert", { name: uniqueName("c"), root: os.tmpdir() }), 400);
    expect(outsideRoot.message).toMatch(/allowed/i);
    const missingRoot = expectError(await admin.mutation("component.upsert", { name: uniqueName("c"), root: path.join(server.workspace, "does-not-exist") }), 400);
    expect(missingRoot.message).toMatch(/does not exist/);
  });

  it("refuses malformed JSON", async () => {
    const response = await fetch(`${server.baseUrl}/api/trpc/checkpoint.create`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(response.status).toBe(400);
  });
});

describe("404, 413, 422", () => {
  it("404 for unknown components, checkpoints and procedures", async () => {
    const component = expectError(await admin.query("component.get", { name: uniqueName("missing") }), 404);
    expect(component.data.safetynetCode).toBe("NOT_FOUND");
    expectError(await admin.query("checkpoint.get", { id: "cp_0000000000unknown00" }), 404);
    expectError(await admin.mutation("rollback.plan", { checkpointId: "cp_0000000000unknown00" }), 404);
    expectError(await admin.query("checkpoint.list", { component: uniqueName("missing") }), 404);
    expectError(await admin.query("no.such.procedure"), 404);
  });

  it("413 for a body over 1 MiB, before it is parsed", async () => {
    const { name } = await makeComponent(admin, server.workspace, { "a.txt": "a\n" });
    const response = await fetch(`${server.baseUrl}/api/trpc/checkpoint.create`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ component: name, reason: "x".repeat(1024 * 1024 + 10) }),
    });
    expect(response.status).toBe(413);
    const body = (await response.json()) as { error: { message: string; data: { httpStatus: number } } };
    expect(body.error.data.httpStatus).toBe(413);
  });

  it("422 when a stored object the rollback needs is corrupt, from the plan or (damaged after planning) the execution; the workspace is not touched", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "keep.txt": "original content\n" });
    const created = await admin.call<{ id: string; manifestSha256: string }>("checkpoint.create", { component: name });
    const entries = await admin.get<{ items: { path: string; sha256: string }[] }>("checkpoint.entries", { id: created.id });
    const sha = entries.items.find((e) => e.path === "keep.txt")?.sha256 as string;
    const object = storedObjectFile(server.dataDir, sha);
    writeFileSync(path.join(root, "keep.txt"), "edited by the agent\n");
    // Planned while intact (the plan re-hashes what it needs), damaged before the confirmation.
    const plan = await admin.call<{ confirmToken: string; integrity: { objectsChecked: number } }>("rollback.plan", { checkpointId: created.id });
    expect(plan.integrity.objectsChecked).toBe(1);
    chmodSync(object, 0o644);
    writeFileSync(object, "tampered!\n");
    // With a bucket, its copy there too (a damaged cached copy alone is replaced by the bucket's).
    await copyObjectFileToBucket(server.dataDir, sha);

    const refused = expectError(await admin.mutation("rollback.execute", { checkpointId: created.id, confirmToken: plan.confirmToken }), 422);
    expect(refused.data.safetynetCode).toBe("INTEGRITY");
    expect(refused.message).toContain("keep.txt");
    expect(readFileSync(path.join(root, "keep.txt"), "utf8")).toBe("edited by the agent\n");

    // A new plan is refused at once, naming the file; the damage is on the checkpoint.
    const refusedPlan = expectError(await admin.mutation("rollback.plan", { checkpointId: created.id }), 422);
    expect(refusedPlan.message).toContain("keep.txt (corrupt)");
    expect(refusedPlan.data.details).toMatchObject({ problems: [{ path: "keep.txt", state: "corrupt" }] });
    expect(await admin.get("checkpoint.get", { id: created.id })).toMatchObject({ verifyState: "corrupt", damagedFiles: [{ path: "keep.txt", state: "corrupt" }] });
    const verify = await admin.call<{ state: string; problems: { path: string }[] }>("checkpoint.verify", { id: created.id });
    expect(verify.state).toBe("corrupt");
    expect(verify.problems.map((p) => p.path)).toEqual(["keep.txt"]);
    expect(readFileSync(path.join(root, "keep.txt"), "utf8")).toBe("edited by the agent\n");
  });
});
