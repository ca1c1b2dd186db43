import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { Api, createToken, hashTree, makeComponent, writeTree } from "./api";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);

interface Created {
  id: string;
  component: string;
  files: number;
  bytes: number;
  newBytes: number;
  durationMs: number;
  manifestSha256: string;
}

describe("an agent over plain HTTP: create -> diff -> plan -> execute -> history", () => {
  let agent: Api;
  let agentName: string;

  beforeAll(async () => {
    const created = await createToken(admin, "agent");
    agent = admin.as(created.token);
    agentName = created.name;
  });

  it("puts the workspace back byte for byte and records every step under the agent's token name", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, {
      "src/index.ts": "export const answer = 42;\n",
      "src/util.ts": "export function twice(n: number) { return n * 2; }\n",
      "README.md": "# demo\n",
      "data/blob.bin": Buffer.alloc(64 * 1024, 7),
    });
    const before = hashTree(root);

    const created = await agent.call<Created>("checkpoint.create", { component: name, reason: "before the agent edits", agent: "test-agent", task: "flow" });
    expect(created).toMatchObject({ component: name, files: 4 });
    expect(created.manifestSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof created.bytes).toBe("number");
    expect(typeof created.newBytes).toBe("number");
    expect(typeof created.durationMs).toBe("number");

    // The agent goes wrong: edits, deletes and adds files.
    writeFileSync(path.join(root, "src/index.ts"), "export const answer = 41; // broken\n");
    rmSync(path.join(root, "README.md"));
    writeTree(root, { "src/new-file.ts": "export {};\n", "tmp/scratch.txt": "scratch\n" });

    const diff = await agent.get<{ added: { path: string }[]; modified: { path: string; patch?: string | null }[]; deleted: { path: string }[]; unchanged: number }>(
      "checkpoint.diff",
      { id: created.id, textDiff: true },
    );
    expect(diff.added.map((e) => e.path).sort()).toEqual(expect.arrayContaining(["src/new-file.ts", "tmp/scratch.txt"]));
    expect(diff.modified.map((e) => e.path)).toEqual(["src/index.ts"]);
    expect(diff.modified[0]?.patch).toContain("-export const answer = 42;");
    expect(diff.deleted.map((e) => e.path)).toEqual(["README.md"]);

    const plan = await agent.call<{ restore: { path: string; action: string }[]; delete: { path: string }[]; unchanged: number; confirmToken: string; expiresAt: string }>(
      "rollback.plan",
      { checkpointId: created.id },
    );
    expect(plan.restore.map((r) => `${r.action} ${r.path}`).sort()).toEqual(["recreate README.md", "write src/index.ts"]);
    expect(plan.delete.map((d) => d.path)).toEqual(expect.arrayContaining(["src/new-file.ts", "tmp/scratch.txt"]));
    expect(plan.confirmToken).toMatch(/^ct_/);
    expect(Date.parse(plan.expiresAt)).toBeGreaterThan(Date.now());

    const result = await agent.call<{ rollbackId: string; outcome: string; durationMs: number; restored: number; deleted: number; safetyCheckpointId: string }>(
      "rollback.execute",
      { checkpointId: created.id, confirmToken: plan.confirmToken },
    );
    expect(result.outcome).toBe("succeeded");
    expect(result.restored).toBe(2);
    expect(result.deleted).toBeGreaterThanOrEqual(2);
    expect(result.safetyCheckpointId).toMatch(/^cp_/);

    // Checksums on disk are exactly what they were at the checkpoint.
    expect(hashTree(root)).toEqual(before);

    // The safety checkpoint holds the broken state, so the rollback can be undone.
    const safety = await agent.get<{ id: string; kind: string }>("checkpoint.get", { id: result.safetyCheckpointId });
    expect(safety.kind).toBe("safety");

    const history = await agent.get<{ items: { kind: string; actor: string; outcome: string; checkpointId: string | null; checksum: string | null }[] }>("history.list", {
      component: name,
    });
    const kinds = history.items.map((e) => `${e.kind}:${e.outcome}`);
    expect(kinds).toEqual(expect.arrayContaining(["checkpoint.create:succeeded", "rollback:succeeded"]));
    for (const event of history.items.filter((e) => e.kind !== "component.upsert")) expect(event.actor).toBe(`token:${agentName}`);
    const rollbackEvent = history.items.find((e) => e.kind === "rollback");
    expect(rollbackEvent?.checksum).toBe(created.manifestSha256);

    // The same steps as JSON log lines with ids, actor, counts and checksums.
    const logLines = readFileSync(server.logFile, "utf8")
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.component === name);
    const createLine = logLines.find((l) => l.event === "checkpoint.create");
    expect(createLine).toMatchObject({ actor: `token:${agentName}`, checkpointId: created.id, checksum: created.manifestSha256, files: 4, outcome: "succeeded" });
    expect(createLine).toHaveProperty("durationMs");
    expect(logLines.find((l) => l.event === "rollback")).toMatchObject({ actor: `token:${agentName}`, outcome: "succeeded", rollbackId: result.rollbackId });
  });

  it("lists checkpoints and entries with cursor pagination", async () => {
    const { name } = await makeComponent(admin, server.workspace, { "a.txt": "a\n", "b.txt": "b\n", "c/d.txt": "d\n" });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await agent.call<Created>("checkpoint.create", { component: name })).id);
    const first = await agent.get<{ items: { id: string }[]; nextCursor: string | null }>("checkpoint.list", { component: name, limit: 2 });
    expect(first.items.map((c) => c.id)).toEqual([ids[2], ids[1]]);
    expect(first.nextCursor).not.toBeNull();
    const second = await agent.get<{ items: { id: string }[]; nextCursor: string | null }>("checkpoint.list", { component: name, limit: 2, cursor: first.nextCursor });
    expect(second.items.map((c) => c.id)).toEqual([ids[0]]);
    expect(second.nextCursor).toBeNull();

    const entries = await agent.get<{ items: { path: string; sha256?: string }[]; total: number }>("checkpoint.entries", { id: ids[0], limit: 10 });
    expect(entries.items.map((e) => e.path)).toEqual(expect.arrayContaining(["a.txt", "b.txt", "c/d.txt"]));

    const verified = await agent.call<{ state: string; problems: unknown[] }>("checkpoint.verify", { id: ids[0] });
    expect(verified).toMatchObject({ state: "verified", problems: [] });
  });

  it("filters history by kind, outcome, actor and time, newest first, with a cursor", async () => {
    const { name } = await makeComponent(admin, server.workspace, { "x.txt": "x\n" });
    const since = new Date(Date.now() - 1000).toISOString();
    for (let i = 0; i < 3; i++) await agent.call("checkpoint.create", { component: name });
    const page1 = await agent.get<{ items: { id: string; kind: string; actor: string }[]; nextCursor: string | null }>("history.list", {
      component: name,
      kind: "checkpoint.create",
      outcome: "succeeded",
      actor: `token:${agentName}`,
      since,
      limit: 2,
    });
    expect(page1.items).toHaveLength(2);
    expect(page1.items.every((e) => e.kind === "checkpoint.create" && e.actor === `token:${agentName}`)).toBe(true);
    const page2 = await agent.get<{ items: { id: string }[]; nextCursor: string | null }>("history.list", {
      component: name,
      kind: "checkpoint.create",
      since,
      limit: 2,
      cursor: page1.nextCursor,
    });
    expect(page2.items).toHaveLength(1);
    expect(page2.nextCursor).toBeNull();
    const future = await agent.get<{ items: unknown[] }>("history.list", { component: name, since: new Date(Date.now() + 60_000).toISOString() });
    expect(future.items).toHaveLength(0);
  });

  it("reports stats and Prometheus metrics for what happened", async () => {
    const stats = await agent.get<{
      totals: { components: number; checkpoints: number; rollbacks: number };
      rollbacks: { successRate: number | null; avgDurationMs: number | null; p95DurationMs: number | null };
      lastRollback: { outcome: string } | null;
      storage: { storeBytes: number; logicalBytes: number; dedupRatio: number | null };
    }>("stats.summary");
    expect(stats.totals.components).toBeGreaterThan(0);
    expect(stats.totals.checkpoints).toBeGreaterThan(0);
    expect(stats.storage.storeBytes).toBeGreaterThan(0);
    expect(stats.storage.logicalBytes).toBeGreaterThan(0);

    const response = await fetch(`${server.baseUrl}/api/metrics`, { headers: { authorization: `Bearer ${agent.token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    for (const metric of [
      "safetynet_checkpoints_created_total",
      "safetynet_rollbacks_total",
      "safetynet_rollback_duration_seconds_bucket",
      "safetynet_verification_failures_total",
      "safetynet_retention_deleted_checkpoints_total",
      "safetynet_retention_bytes_freed_total",
      "safetynet_store_bytes",
      "safetynet_dedup_ratio",
      "safetynet_slow_rollbacks_total",
    ]) {
      expect(text).toContain(metric);
    }
    const created = /^safetynet_checkpoints_created_total (\d+)/m.exec(text);
    expect(Number(created?.[1])).toBeGreaterThan(0);
  });
});
