/**
 * stats.summary and /api/metrics for a token scoped to some components: the
 * figures cover those components only; an unscoped token still sees everything.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { Api, createToken, makeComponent } from "./api";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);

interface Summary {
  scope: string[] | null;
  totals: { components: number; checkpoints: number; safetyCheckpoints: number; rollbacks: number; historyEvents: number };
  rollbacks: { succeeded: number };
  lastRollback: { component: string; id: string } | null;
  storage: { storeBytes: number | null; storeObjects: number | null; logicalBytes: number };
}

async function metrics(token: string): Promise<string> {
  const response = await fetch(`${server.baseUrl}/api/metrics`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return response.text();
}

function sample(text: string, metric: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${metric} `));
  return line === undefined ? undefined : Number(line.slice(metric.length + 1));
}

describe("a component-scoped token's stats and metrics", () => {
  let mine: { name: string; root: string };
  let other: { name: string; root: string };
  let scopedViewer: string;
  let otherRollbackId: string;

  beforeAll(async () => {
    mine = await makeComponent(admin, server.workspace, { "a.txt": "mine\n", "b.txt": "0123456789\n" });
    other = await makeComponent(admin, server.workspace, { "x.txt": "other\n" });
    await admin.call("checkpoint.create", { component: mine.name });
    // The other component gets the newest rollback of the server.
    const checkpoint = await admin.call<{ id: string }>("checkpoint.create", { component: other.name });
    writeFileSync(path.join(other.root, "x.txt"), "changed\n");
    const plan = await admin.call<{ confirmToken: string }>("rollback.plan", { checkpointId: checkpoint.id });
    otherRollbackId = (await admin.call<{ rollbackId: string }>("rollback.execute", { checkpointId: checkpoint.id, confirmToken: plan.confirmToken })).rollbackId;
    scopedViewer = (await createToken(admin, "viewer", [mine.name])).token;
  });

  it("stats.summary counts only the token's components and never shows another component's rollback", async () => {
    const scoped = await admin.as(scopedViewer).get<Summary>("stats.summary");
    expect(scoped.scope).toEqual([mine.name]);
    expect(scoped.totals).toMatchObject({ components: 1, checkpoints: 1, safetyCheckpoints: 0, rollbacks: 0 });
    // component.upsert and checkpoint.create of `mine`.
    expect(scoped.totals.historyEvents).toBe(2);
    expect(scoped.rollbacks.succeeded).toBe(0);
    expect(scoped.lastRollback).toBeNull();
    expect(scoped.storage).toMatchObject({ storeBytes: null, storeObjects: null, logicalBytes: "mine\n0123456789\n".length });

    const global = await admin.get<Summary>("stats.summary");
    expect(global.scope).toBeNull();
    expect(global.totals.components).toBeGreaterThanOrEqual(2);
    expect(global.totals.rollbacks).toBeGreaterThanOrEqual(1);
    expect(global.lastRollback).not.toBeNull();
    expect(global.storage.storeBytes).toBeGreaterThan(0);
  });

  it("sees its own component's last rollback once there is one", async () => {
    const checkpoint = await admin.call<{ id: string }>("checkpoint.create", { component: mine.name });
    writeFileSync(path.join(mine.root, "a.txt"), "changed\n");
    const plan = await admin.call<{ confirmToken: string }>("rollback.plan", { checkpointId: checkpoint.id });
    const { rollbackId } = await admin.call<{ rollbackId: string }>("rollback.execute", { checkpointId: checkpoint.id, confirmToken: plan.confirmToken });
    const scoped = await admin.as(scopedViewer).get<Summary>("stats.summary");
    expect(scoped.lastRollback).toMatchObject({ id: rollbackId, component: mine.name });
    expect(scoped.lastRollback?.id).not.toBe(otherRollbackId);
    expect(scoped.totals.rollbacks).toBe(1);
  });

  it("/api/metrics gives the scoped token gauges of its components only, and the admin the server-wide counters", async () => {
    const scopedText = await metrics(scopedViewer);
    const scopedSummary = await admin.as(scopedViewer).get<Summary>("stats.summary");
    expect(sample(scopedText, "safetynet_components")).toBe(1);
    expect(sample(scopedText, "safetynet_checkpoints")).toBe(scopedSummary.totals.checkpoints);
    expect(sample(scopedText, "safetynet_logical_bytes")).toBe(scopedSummary.storage.logicalBytes);
    // Server-wide figures (every component's operations, the shared store, the process) are not shown.
    for (const global of ["safetynet_operations_total", "safetynet_checkpoints_created_total", "safetynet_store_bytes", "safetynet_process_cpu_seconds_total"]) {
      expect(scopedText).not.toContain(global);
    }
    expect(scopedText).not.toContain(other.name);

    const adminText = await metrics(server.adminToken);
    expect(adminText).toContain("safetynet_checkpoints_created_total");
    expect(sample(adminText, "safetynet_store_bytes")).toBeGreaterThan(0);
  });
});
