import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { addComponent, cleanUpAfterEach, corruptObject, openWorkspace, sha256Of, TEST_ACTOR, writeTree } from "../../test/support/workspace";
import { createCheckpoint } from "../checkpoints/create";
import { executeRollback } from "../rollback/execute";
import { planRollback } from "../rollback/preview";
import { statsSummary } from "./stats";

cleanUpAfterEach();

describe("rollback success rate", () => {
  it("counts the rollbacks that ran: a refused confirmation is reported apart, not as a failure", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "alpha\n", "b.txt": "beta\n" });
    await addComponent(ws);
    const checkpoint = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);

    fs.writeFileSync(path.join(ws.root, "a.txt"), "one\n");
    const plan = await planRollback(ws.core, checkpoint.id, TEST_ACTOR);
    await executeRollback(ws.core, { checkpointId: checkpoint.id, confirmToken: plan.confirmToken }, TEST_ACTOR);
    // Spent token: refused before a rollback starts.
    await expect(executeRollback(ws.core, { checkpointId: checkpoint.id, confirmToken: plan.confirmToken }, TEST_ACTOR)).rejects.toThrow(/already used/);
    // Stale plan: the workspace changed after planning.
    fs.writeFileSync(path.join(ws.root, "a.txt"), "two\n");
    const stale = await planRollback(ws.core, checkpoint.id, TEST_ACTOR);
    fs.writeFileSync(path.join(ws.root, "a.txt"), "three\n");
    await expect(executeRollback(ws.core, { checkpointId: checkpoint.id, confirmToken: stale.confirmToken }, TEST_ACTOR)).rejects.toThrow(/workspace changed/);

    expect((await statsSummary(ws.core)).rollbacks).toMatchObject({ succeeded: 1, failed: 0, refused: 2, successRate: 1 });

    // A rollback that ran into damaged data did run (it was refused by its integrity check, after planning): it counts as failed.
    fs.writeFileSync(path.join(ws.root, "b.txt"), "changed\n");
    const planned = await planRollback(ws.core, checkpoint.id, TEST_ACTOR);
    corruptObject(ws.dataDir, sha256Of("beta\n"));
    await expect(executeRollback(ws.core, { checkpointId: checkpoint.id, confirmToken: planned.confirmToken }, TEST_ACTOR)).rejects.toThrow(/damaged/);
    expect((await statsSummary(ws.core)).rollbacks).toMatchObject({ succeeded: 1, failed: 1, refused: 2, successRate: 0.5 });
  });
});
