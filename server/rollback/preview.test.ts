import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { writeCartProject } from "../../test/support/fixtures";
import { addComponent, cleanUpAfterEach, corruptObject, openWorkspace, readTree, rollbackTo, sha256Of, TEST_ACTOR, writeTree } from "../../test/support/workspace";
import { createCheckpoint } from "../checkpoints/create";
import { getCheckpoint } from "../checkpoints/queries";
import { IntegrityError } from "../errors";
import { planRollback } from "./preview";
import { planScopeSentence } from "./plan-wording";

cleanUpAfterEach();

describe("rollback plan", () => {
  it("re-hashes the objects the plan needs and says how many; nothing else is read", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "alpha\n", "b.txt": "beta\n", "same.txt": "unchanged\n" });
    await addComponent(ws);
    const checkpoint = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    fs.writeFileSync(path.join(ws.root, "a.txt"), "changed\n");
    fs.rmSync(path.join(ws.root, "b.txt"));

    const plan = await planRollback(ws.core, checkpoint.id, TEST_ACTOR);

    expect(plan.integrity).toEqual({ objectsChecked: 2, bytesChecked: "alpha\n".length + "beta\n".length });
    expect(plan.scope).toMatchObject({ kind: "all", outside: null });
    expect(plan.undo).toBeNull();
  });

  it("refuses (IntegrityError, nothing issued) when an object it needs is damaged, names the file and records the damage on the checkpoint", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "alpha\n", "b.txt": "beta\n" });
    await addComponent(ws);
    const checkpoint = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    fs.writeFileSync(path.join(ws.root, "a.txt"), "changed\n");
    await corruptObject(ws.dataDir, sha256Of("alpha\n"));
    const before = readTree(ws.root);

    const refused = await planRollback(ws.core, checkpoint.id, TEST_ACTOR).catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(IntegrityError);
    expect((refused as IntegrityError).message).toMatch(/a\.txt \(corrupt\)/);
    expect(await ws.core.db.confirmToken.count()).toBe(0);
    expect(readTree(ws.root)).toEqual(before);
    const detail = await getCheckpoint(ws.core, checkpoint.id);
    expect(detail).toMatchObject({ verifyState: "corrupt", damagedFiles: [{ path: "a.txt", sha256: sha256Of("alpha\n"), state: "corrupt" }] });
  });

  it("describes a partial checkpoint's scope in words: the paths, their related files and why, and the changed files left alone", async () => {
    const ws = openWorkspace();
    writeCartProject(ws.root);
    await addComponent(ws);
    const checkpoint = await createCheckpoint(ws.core, { component: "app", paths: ["src/cart.ts"] }, TEST_ACTOR);
    fs.writeFileSync(path.join(ws.root, "src/cart.ts"), "export const total = 0;\n");
    fs.writeFileSync(path.join(ws.root, "src/other.ts"), "export const other = false;\n");
    fs.writeFileSync(path.join(ws.root, "src/new-outside.ts"), "new\n");

    const plan = await planRollback(ws.core, checkpoint.id, TEST_ACTOR);

    expect(plan.scope).toEqual({
      kind: "paths",
      primaries: ["src/cart.ts"],
      related: [
        { path: "src/cart.css", reason: "sibling" },
        { path: "src/cart.test.ts", reason: "related-test" },
        { path: "src/price.ts", reason: "related-import" },
      ],
      relatedCount: 3,
      entries: 4,
      outside: { changed: 2, paths: ["src/new-outside.ts", "src/other.ts"] },
    });
    expect(planScopeSentence(plan.scope)).toBe("Only these 4 paths (the file, its tests, imports and sibling files) are restored; 2 other changed files stay as they are.");
    expect(plan.restore.map((r) => r.path)).toEqual(["src/cart.ts"]);
  });

  it("knows a plan to a rollback's safety checkpoint undoes that rollback", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "alpha\n" });
    await addComponent(ws);
    const checkpoint = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    fs.writeFileSync(path.join(ws.root, "created-by-agent.txt"), "agent\n");
    fs.rmSync(path.join(ws.root, "a.txt"));
    const rollback = await rollbackTo(ws.core, checkpoint.id);

    const undo = await planRollback(ws.core, rollback.safetyCheckpointId as string, TEST_ACTOR);

    expect(undo.undo).toEqual({ rollbackId: rollback.rollbackId, rolledBackTo: checkpoint.id });
    expect(undo.checkpointKind).toBe("safety");
    // The undo brings back what the rollback deleted and removes what it restored.
    expect(undo.restore).toEqual([expect.objectContaining({ path: "created-by-agent.txt", action: "recreate" })]);
    expect(undo.delete).toEqual([expect.objectContaining({ path: "a.txt" })]);
  });
});
