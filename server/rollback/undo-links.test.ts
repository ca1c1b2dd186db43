import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { addComponent, cleanUpAfterEach, corruptObject, openWorkspace, rollbackTo, TEST_ACTOR, writeTree } from "../../test/support/workspace";
import { IntegrityError } from "../errors";
import { readManifest } from "../checkpoints/manifest";
import { createCheckpoint } from "../checkpoints/create";
import { findCheckpointRow } from "../checkpoints/queries";
import { listHistory } from "../audit/history";
import { getComponent } from "../registry/components";
import { componentTimeline } from "../timeline/component-timeline";
import { performRollback } from "./execute";
import { consumeConfirmToken, issueConfirmToken } from "./confirm-token";
import { listComponentsWithActivity } from "../registry/component-overview";

cleanUpAfterEach();

async function rolledBackAndUndone() {
  const ws = openWorkspace();
  writeTree(ws.root, { "a.txt": "one\n" });
  await addComponent(ws);
  const first = await createCheckpoint(ws.core, { component: "app", reason: "first" }, TEST_ACTOR);
  fs.writeFileSync(path.join(ws.root, "a.txt"), "two\n");
  await createCheckpoint(ws.core, { component: "app", reason: "second" }, TEST_ACTOR);
  const rollback = await rollbackTo(ws.core, first.id);
  const undo = await rollbackTo(ws.core, rollback.safetyCheckpointId as string);
  return { ws, first, rollback, undo };
}

describe("undo links between rollbacks", () => {
  it("says on the timeline which rollback undid which: the undone one names its undo, the undo names what it undid", async () => {
    const { ws, first, rollback, undo } = await rolledBackAndUndone();
    expect(fs.readFileSync(path.join(ws.root, "a.txt"), "utf8")).toBe("two\n");
    const rollbacks = (await componentTimeline(ws.core, { component: "app" })).items.flatMap((i) => (i.type === "rollback" ? [i.rollback] : []));
    const byId = new Map(rollbacks.map((r) => [r.id, r]));
    expect(byId.get(rollback.rollbackId)).toMatchObject({ checkpointId: first.id, undoOf: null, undoneBy: { rollbackId: undo.rollbackId } });
    expect(byId.get(undo.rollbackId)).toMatchObject({ checkpointId: rollback.safetyCheckpointId, undoOf: rollback.rollbackId, undoneBy: null });
    expect(Date.parse(byId.get(rollback.rollbackId)?.undoneBy?.at ?? "")).toBeGreaterThan(0);
  });

  it("says it in the history too, and only on rollback events", async () => {
    const { ws, rollback, undo } = await rolledBackAndUndone();
    const items = (await listHistory(ws.core, { kind: "rollback" })).items;
    const of = (id: string) => items.find((i) => (i.details as { rollbackId?: string }).rollbackId === id);
    expect(of(rollback.rollbackId)).toMatchObject({ undoOf: null, undoneBy: { rollbackId: undo.rollbackId } });
    expect(of(undo.rollbackId)).toMatchObject({ undoOf: rollback.rollbackId, undoneBy: null });
    const created = (await listHistory(ws.core, { kind: "checkpoint.create" })).items[0];
    expect(created).toMatchObject({ undoOf: null, undoneBy: null, rollbackFailure: null });
  });

  it("leaves the component not rolled-back after an undo: the status before the rollback comes back", async () => {
    const { ws } = await rolledBackAndUndone();
    const component = await getComponent(ws.core, "app");
    expect(component.metadata.status).not.toBe("rolled-back");
    expect(component.metadata.rolledBack).toBeUndefined();
  });

  it("a rollback that is no undo still marks the component rolled-back", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "one\n" });
    await addComponent(ws);
    const first = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    fs.writeFileSync(path.join(ws.root, "a.txt"), "two\n");
    const rollback = await rollbackTo(ws.core, first.id);
    expect((await getComponent(ws.core, "app")).metadata).toMatchObject({ status: "rolled-back", rolledBack: { rollbackId: rollback.rollbackId } });
  });
});

describe("failed rollbacks: refused apart from those that ran", () => {
  it("records a stale confirmation as a refusal, filterable in the history and counted apart per component", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "one\n" });
    await addComponent(ws);
    const first = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    fs.writeFileSync(path.join(ws.root, "a.txt"), "two\n");
    const row = await findCheckpointRow(ws.core, first.id);
    const { confirmToken: token } = await issueConfirmToken(ws.core, { purpose: "rollback", targetId: first.id, boundTo: "not-this-plan", actor: TEST_ACTOR });
    await expect(
      performRollback(ws.core, row, TEST_ACTOR, { confirm: () => consumeConfirmToken(ws.core, token, { purpose: "rollback", targetId: first.id, actor: TEST_ACTOR }) }),
    ).rejects.toThrow(/confirmToken refused/);
    const [refused] = (await listHistory(ws.core, { kind: "rollback", outcome: "failed" })).items;
    expect(refused?.rollbackFailure).toEqual({ failure: "refused", refusal: "confirmation" });
    expect((await listHistory(ws.core, { failure: "refused" })).items).toHaveLength(1);
    expect((await listHistory(ws.core, { failure: "ran" })).items).toHaveLength(0);
    const [app] = await listComponentsWithActivity(ws.core);
    expect(app?.rollbackAlarms).toEqual({ failed: 0, refused: 1 });
  });

  it("shows a rollback refused for damaged data as refused on the timeline, and counts it apart", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "one\n" });
    await addComponent(ws);
    const first = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    fs.writeFileSync(path.join(ws.root, "a.txt"), "two\n");
    const sha = readManifest(ws.core.store, first.manifestSha256).entries.find((e) => e.path === "a.txt")?.sha256 as string;
    await corruptObject(ws.dataDir, sha);
    await expect(rollbackTo(ws.core, first.id)).rejects.toBeInstanceOf(IntegrityError);
    const [refused] = (await componentTimeline(ws.core, { component: "app" })).items.flatMap((i) => (i.type === "rollback" ? [i.rollback] : []));
    expect(refused).toMatchObject({ outcome: "failed", failure: { failure: "refused", refusal: "integrity" } });
    const [app] = await listComponentsWithActivity(ws.core);
    expect(app?.rollbackAlarms).toEqual({ failed: 0, refused: 1 });
  });
});
