import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { addComponent, cleanUpAfterEach, corruptObject, openWorkspace, runCli, sha256Of, TEST_ACTOR, writeTree } from "../../test/support/workspace";
import { createCheckpoint } from "../checkpoints/create";
import { executeRollback } from "../rollback/execute";
import { planRollback } from "../rollback/preview";
import { rollbackAlarmsByComponent } from "./rollback-alarms";
import { statsSummary } from "./stats";

cleanUpAfterEach();

describe("rollback success rate", () => {
  it("counts the rollbacks that ran: refusals (stale confirmation, damaged data) are reported apart, as the component's alarms count them", async () => {
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

    expect((await statsSummary(ws.core)).rollbacks).toMatchObject({ succeeded: 1, failed: 0, refused: 2, ran: 1, successRate: 1 });

    // Damaged data found after planning: the rollback has a row in the rollback table, but its integrity check refused it before any change.
    fs.writeFileSync(path.join(ws.root, "b.txt"), "changed\n");
    const planned = await planRollback(ws.core, checkpoint.id, TEST_ACTOR);
    await corruptObject(ws.dataDir, sha256Of("beta\n"));
    await expect(executeRollback(ws.core, { checkpointId: checkpoint.id, confirmToken: planned.confirmToken }, TEST_ACTOR)).rejects.toThrow(/damaged/);
    const summary = await statsSummary(ws.core);
    expect(summary.rollbacks).toMatchObject({ succeeded: 1, failed: 0, refused: 3, ran: 1, successRate: 1 });
    // The same counts as the component list's alarms, which link to the same history filters.
    expect((await rollbackAlarmsByComponent(ws.core)).get("app")).toEqual({ failed: summary.rollbacks.failed, refused: summary.rollbacks.refused });
    expect(await statsSummary(ws.core, ["app"])).toMatchObject({ rollbacks: { failed: 0, refused: 3, ran: 1 } });
    expect(await statsSummary(ws.core, ["other"])).toMatchObject({ rollbacks: { failed: 0, refused: 0, ran: 0, successRate: null } });
  });

  it("counts a rollback that failed part-way (an I/O error in the workspace) as failed, in the rate and in the component's alarms", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "alpha\n", "b.txt": "beta\n" });
    await addComponent(ws);
    const checkpoint = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    writeTree(ws.root, { "a.txt": "one\n", "b.txt": "two\n" });
    // The CLI's first change in the workspace fails with EIO (test/support/fault-seam.mjs), after the rollback started.
    const failed = await runCli(ws, ["rollback", checkpoint.id, "--yes", "--json"], { fault: { after: 1, under: ws.root, mode: "eio" } });
    expect(failed.status, failed.stderr).not.toBe(0);

    const summary = await statsSummary(ws.core);
    expect(summary.rollbacks).toMatchObject({ succeeded: 0, failed: 1, refused: 0, ran: 1, successRate: 0 });
    expect((await rollbackAlarmsByComponent(ws.core)).get("app")).toEqual({ failed: 1, refused: 0 });
  });
});
