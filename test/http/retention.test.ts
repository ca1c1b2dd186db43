import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, inject, it } from "vitest";
import { Api, createToken, expectError, makeComponent } from "./api";

// On the second server: retention collects objects without a grace period there.
const server = inject("second");
const admin = new Api(server.baseUrl, server.adminToken);

describe("retention over HTTP", () => {
  it("reads policies as a viewer; changing them and running needs an unscoped operator", async () => {
    const { name } = await makeComponent(admin, server.workspace, { "a.txt": "a\n" });
    const viewer = admin.as((await createToken(admin, "viewer")).token);
    const view = await viewer.get<{ defaultRetentionDays: number; effective: { component: string }[] }>("retention.get", { component: name });
    expect(view.effective.map((e) => e.component)).toEqual([name]);

    const agent = admin.as((await createToken(admin, "agent")).token);
    expectError(await agent.mutation("retention.set", { component: name, keepLast: 5 }), 403);
    expectError(await agent.mutation("retention.run", { dryRun: true }), 403);

    const scopedOperator = admin.as((await createToken(admin, "operator", [name])).token);
    await scopedOperator.call("retention.set", { component: name, keepLast: 5 });
    expectError(await scopedOperator.mutation("retention.set", { keepDays: 30 }), 403);
    expectError(await scopedOperator.mutation("retention.run", {}), 403);
  });

  it("refuses a policy that would delete every checkpoint, naming the field", async () => {
    const { name } = await makeComponent(admin, server.workspace, { "a.txt": "a\n" });
    await admin.call("checkpoint.create", { component: name });
    const refused = expectError(await admin.mutation("retention.set", { component: name, keepDays: 0 }), 400);
    expect(refused.data.field).toBe("policy");
  });

  it("a dry run changes nothing; a run removes what the policy expires, frees bytes, and shows in history and metrics", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "big.bin": "seed" });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      writeFileSync(path.join(root, "big.bin"), randomBytes(200_000));
      ids.push((await admin.call<{ id: string }>("checkpoint.create", { component: name, retentionDays: 0 })).id);
    }
    await admin.call("retention.set", { component: name, keepLast: 1 });

    const dry = await admin.call<{ dryRun: boolean; expired: { checkpointId: string }[] }>("retention.run", { dryRun: true });
    expect(dry.dryRun).toBe(true);
    expect(dry.expired.map((d) => d.checkpointId)).toEqual(expect.arrayContaining([ids[0], ids[1]]));
    expect((await admin.get<{ items: unknown[] }>("checkpoint.list", { component: name })).items).toHaveLength(3);

    const run = await admin.call<{ outcome: string; removed: { checkpointId: string }[]; bytesFreed: number }>("retention.run", {});
    expect(run.outcome).toBe("succeeded");
    expect(run.removed.map((r) => r.checkpointId)).toEqual(expect.arrayContaining([ids[0], ids[1]]));
    expect(run.bytesFreed).toBeGreaterThanOrEqual(400_000);
    expect((await admin.get<{ items: { id: string }[] }>("checkpoint.list", { component: name })).items.map((c) => c.id)).toEqual([ids[2]]);

    const history = await admin.get<{ items: { actor: string }[] }>("history.list", { kind: "retention.run" });
    expect(history.items[0]?.actor).toBe("token:admin");

    const metrics = await (await fetch(`${server.baseUrl}/api/metrics`, { headers: { authorization: `Bearer ${server.adminToken}` } })).text();
    expect(Number(/^safetynet_retention_deleted_checkpoints_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    expect(Number(/^safetynet_retention_bytes_freed_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(400_000);
  });
});

describe("the cron route", () => {
  const cronUrl = `${server.baseUrl}/api/cron/retention`;

  it("answers 401 without the CRON_SECRET bearer, and without a valid one", async () => {
    expect((await fetch(cronUrl)).status).toBe(401);
    expect((await fetch(cronUrl, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    // An API token, even the admin's, is not the cron secret.
    expect((await fetch(cronUrl, { method: "POST", headers: { authorization: `Bearer ${server.adminToken}` } })).status).toBe(401);
  });

  it("runs retention with the secret (GET and POST), recording the run in history as cron", async () => {
    const { CRON_SECRET_FOR_TESTS } = await import("./global-setup");
    const headers = { authorization: `Bearer ${CRON_SECRET_FOR_TESTS}` };
    const dry = await fetch(`${cronUrl}?dryRun=true`, { headers });
    expect(dry.status).toBe(200);
    expect(await dry.json()).toMatchObject({ outcome: "succeeded", dryRun: true });
    const real = await fetch(cronUrl, { method: "POST", headers });
    expect(real.status).toBe(200);
    const body = (await real.json()) as { outcome: string; historyEventId: string };
    expect(body.outcome).toBe("succeeded");
    const history = await admin.get<{ items: { kind: string; actor: string }[] }>("history.list", { kind: "retention.run", actor: "cron" });
    expect(history.items.length).toBeGreaterThan(0);
  });

  it("is disabled (503) on a server without CRON_SECRET", async () => {
    const main = inject("main");
    expect((await fetch(`${main.baseUrl}/api/cron/retention`, { headers: { authorization: "Bearer anything" } })).status).toBe(503);
  });
});
