/**
 * What the console polls, over HTTP: component.drift (counts and first paths since
 * the last whole checkpoint, read-only, viewers too), undo links on the timeline
 * and the history, refused rollbacks apart from failed ones (history filter and
 * per-component counts), and the damaged view of the timeline. Also how long a
 * timeline page takes, since every open timeline asks for it every 2 s.
 */
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, inject, it } from "vitest";
import { Api, createToken, makeComponent } from "./api";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);

interface Drift {
  checkpointId: string | null;
  added: number;
  modified: number;
  deleted: number;
  paths: { path: string; change: string }[];
}

async function rollBack(checkpointId: string): Promise<{ rollbackId: string; safetyCheckpointId: string }> {
  const plan = await admin.call<{ confirmToken: string }>("rollback.plan", { checkpointId });
  return admin.call("rollback.execute", { checkpointId, confirmToken: plan.confirmToken });
}

describe("live console data", () => {
  it("component.drift counts what changed since the last whole checkpoint, for a viewer too, and is 0 after a new one", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "a.txt": "a\n", "b.txt": "b\n" });
    const first = await admin.call<{ id: string }>("checkpoint.create", { component: name });
    const viewer = admin.as((await createToken(admin, "viewer")).token);
    expect(await viewer.get<Drift>("component.drift", { name })).toMatchObject({ checkpointId: first.id, added: 0, modified: 0, deleted: 0 });
    writeFileSync(path.join(root, "a.txt"), "changed\n");
    rmSync(path.join(root, "b.txt"));
    writeFileSync(path.join(root, "c.txt"), "new\n");
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const drift = await viewer.get<Drift>("component.drift", { name });
    expect(drift).toMatchObject({ added: 1, modified: 1, deleted: 1 });
    expect(drift.paths).toEqual([
      { path: "a.txt", change: "modified" },
      { path: "b.txt", change: "deleted" },
      { path: "c.txt", change: "added" },
    ]);
    // Read-only: no checkpoint was made by asking.
    expect((await admin.get<{ items: unknown[] }>("checkpoint.list", { component: name })).items).toHaveLength(1);
    const second = await admin.call<{ id: string }>("checkpoint.create", { component: name });
    expect(await viewer.get<Drift>("component.drift", { name })).toMatchObject({ checkpointId: second.id, added: 0, modified: 0, deleted: 0 });
  });

  it("links an undo and the rollback it undid on the timeline and in the history, and the component is not rolled-back after it", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "a.txt": "one\n" });
    const first = await admin.call<{ id: string }>("checkpoint.create", { component: name });
    writeFileSync(path.join(root, "a.txt"), "two\n");
    const rollback = await rollBack(first.id);
    expect((await admin.get<{ metadata: { status?: string } }>("component.get", { name })).metadata.status).toBe("rolled-back");
    const undo = await rollBack(rollback.safetyCheckpointId);
    expect((await admin.get<{ metadata: { status?: string } }>("component.get", { name })).metadata.status).toBe("active");

    const started = performance.now();
    const timeline = await admin.get<{ items: { type: string; rollback?: { id: string; undoOf: string | null; undoneBy: { rollbackId: string } | null } }[] }>("component.timeline", { component: name });
    const took = performance.now() - started;
    // Polled every 2 s by each open timeline: one page is a few indexed queries.
    expect(took).toBeLessThan(1_000);
    const rollbacks = new Map(timeline.items.flatMap((i) => (i.rollback ? [[i.rollback.id, i.rollback]] : [])));
    expect(rollbacks.get(rollback.rollbackId)).toMatchObject({ undoOf: null, undoneBy: { rollbackId: undo.rollbackId } });
    expect(rollbacks.get(undo.rollbackId)).toMatchObject({ undoOf: rollback.rollbackId, undoneBy: null });

    const history = await admin.get<{ items: { details: { rollbackId?: string }; undoOf: string | null; undoneBy: { rollbackId: string } | null }[] }>("history.list", { component: name, kind: "rollback" });
    const of = (id: string) => history.items.find((i) => i.details.rollbackId === id);
    expect(of(undo.rollbackId)).toMatchObject({ undoOf: rollback.rollbackId, undoneBy: null });
    expect(of(rollback.rollbackId)).toMatchObject({ undoOf: null, undoneBy: { rollbackId: undo.rollbackId } });
  });

  it("counts a refused rollback apart from failed ones, per component, and filters the history by it", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "a.txt": "one\n" });
    const first = await admin.call<{ id: string }>("checkpoint.create", { component: name });
    writeFileSync(path.join(root, "a.txt"), "two\n");
    const plan = await admin.call<{ confirmToken: string }>("rollback.plan", { checkpointId: first.id });
    writeFileSync(path.join(root, "a.txt"), "three\n");
    const refused = await admin.mutation("rollback.execute", { checkpointId: first.id, confirmToken: plan.confirmToken });
    expect(refused.status).toBe(400);

    const list = await admin.get<{ items: { name: string; rollbackAlarms: { failed: number; refused: number } }[] }>("component.list", {});
    expect(list.items.find((c) => c.name === name)?.rollbackAlarms).toEqual({ failed: 0, refused: 1 });
    const refusals = await admin.get<{ items: { outcome: string; rollbackFailure: unknown }[] }>("history.list", { component: name, failure: "refused" });
    expect(refusals.items).toHaveLength(1);
    expect(refusals.items[0]).toMatchObject({ outcome: "failed", rollbackFailure: { failure: "refused", refusal: "confirmation" } });
    expect((await admin.get<{ items: unknown[] }>("history.list", { component: name, failure: "ran" })).items).toHaveLength(0);
    const bad = await admin.query("history.list", { failure: "maybe" });
    expect(bad.status).toBe(400);
  });
});
