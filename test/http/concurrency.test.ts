import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, inject, it } from "vitest";
import { Api, createToken, hashTree, makeComponent, type ApiResponse } from "./api";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);

function filesOf(count: number, tag: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) files[`dir${i % 10}/file${i}.txt`] = `${tag} ${i}\n`.repeat(50);
  return files;
}

describe("concurrency over HTTP", () => {
  it("20 agents checkpoint 20 components at once: all succeed, nothing is lost, no 'database is locked'", async () => {
    const components = await Promise.all(Array.from({ length: 20 }, () => makeComponent(admin, server.workspace, filesOf(30, "base"))));
    const agents = await Promise.all(components.map((c) => createToken(admin, "agent", [c.name])));

    const results = await Promise.all(
      components.map((c, i) => admin.as(agents[i]?.token).mutation<{ id: string; files: number }>("checkpoint.create", { component: c.name, reason: `agent ${i}` })),
    );
    const failures = results.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.error?.message}`);
    expect(failures).toEqual([]);
    expect(results.every((r) => r.data.files === 30)).toBe(true);
    expect(new Set(results.map((r) => r.data.id)).size).toBe(20);

    for (const [i, c] of components.entries()) {
      const history = await admin.get<{ items: { kind: string; actor: string; outcome: string }[] }>("history.list", { component: c.name, kind: "checkpoint.create" });
      expect(history.items).toEqual([expect.objectContaining({ actor: `token:${agents[i]?.name}`, outcome: "succeeded" })]);
    }
    expect(readFileSync(server.logFile, "utf8")).not.toMatch(/database is locked|SQLITE_BUSY/);
  });

  it("two racing rollbacks of one component: exactly one wins, the other gets 409, both are in history", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, filesOf(400, "original"));
    const original = hashTree(root);
    const agentA = admin.as((await createToken(admin, "agent", [name])).token);
    const agentB = admin.as((await createToken(admin, "agent", [name])).token);
    const checkpoint = await agentA.call<{ id: string }>("checkpoint.create", { component: name });
    for (const rel of Object.keys(original)) writeFileSync(path.join(root, rel), `broken ${rel}\n`);

    const [planA, planB] = await Promise.all([
      agentA.call<{ confirmToken: string }>("rollback.plan", { checkpointId: checkpoint.id }),
      agentB.call<{ confirmToken: string }>("rollback.plan", { checkpointId: checkpoint.id }),
    ]);
    const race: ApiResponse<{ outcome: string }>[] = await Promise.all([
      agentA.mutation<{ outcome: string }>("rollback.execute", { checkpointId: checkpoint.id, confirmToken: planA.confirmToken }),
      agentB.mutation<{ outcome: string }>("rollback.execute", { checkpointId: checkpoint.id, confirmToken: planB.confirmToken }),
    ]);
    const statuses = race.map((r) => r.status).sort();
    expect(statuses, JSON.stringify(race.map((r) => r.error?.message))).toEqual([200, 409]);
    const loser = race.find((r) => r.status === 409);
    expect(loser?.error?.message).toMatch(/locked by another operation/);
    expect(loser?.error?.data.safetynetCode).toBe("CONFLICT");
    expect(hashTree(root)).toEqual(original);

    const history = await admin.get<{ items: { kind: string; outcome: string; error: string | null }[] }>("history.list", { component: name, kind: "rollback" });
    expect(history.items.map((e) => e.outcome).sort()).toEqual(["failed", "succeeded"]);
    expect(history.items.find((e) => e.outcome === "failed")?.error).toMatch(/locked/);
    expect(readFileSync(server.logFile, "utf8")).not.toMatch(/database is locked|SQLITE_BUSY/);
  });
});
