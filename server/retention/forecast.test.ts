import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listHistory } from "../audit/history";
import { retentionPolicyInput } from "../schemas";
import { readSnapshotRecord } from "../checkpoints/snapshot-record";
import { pinCheckpoint } from "../checkpoints/lifecycle";
import { DAY_MS } from "./decide";
import { summarizeDecisions } from "./forecast";
import { loadPolicies, setRetentionPolicy } from "./policy";
import { runRetention } from "./run";
import { ACTOR, openFixture, type Fixture } from "./test-fixture";
import { keptInWords, removedInWords } from "./wording";

let f: Fixture;
beforeEach(async () => {
  f = await openFixture();
  await f.component("app");
});
afterEach(async () => {
  await f.close();
});

/** Four checkpoints of app, a day apart, each kept 7 days by its own retention date; the clock stays at the last. */
async function fourDaily(): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    f.write("app", { "a.txt": `version ${i}` });
    ids.push((await f.checkpoint("app", { agent: "claude", task: `T-${i}` })).id);
    if (i < 3) f.clock.advanceDays(1);
  }
  return ids;
}

async function untilOf(id: string): Promise<number> {
  return (await f.core.db.checkpoint.findUniqueOrThrow({ where: { id } })).retentionUntil.getTime();
}

describe("a policy's forecast", () => {
  it("by default leaves the existing checkpoints' dates alone and says when the first one expires", async () => {
    const ids = await fourDaily();
    const created = await Promise.all(ids.map(untilOf));
    const result = await setRetentionPolicy(f.core, { keepLast: 2, dryRun: true }, ACTOR);
    expect(result.dryRun).toBe(true);
    expect((await loadPolicies(f.core)).all()).toEqual([]);
    expect(result.forecast).toMatchObject({ applyToExisting: false, redated: 0, expireNow: 0 });
    // The oldest is kept only by its own date (taken 3 days ago, kept 7): it goes first, in 4 days.
    expect(result.forecast.firstExpiry).toEqual({ at: new Date(created[0] as number).toISOString(), checkpointId: ids[0], component: "app" });
    expect(Date.parse(result.forecast.firstExpiry?.at as string) - f.clock.now().getTime()).toBe(4 * DAY_MS);
    expect(keptInWords(result.forecast.kept)).toBe("kept: 1 as the newest of their component, 3 by their own retention date");
    expect(await Promise.all(ids.map(untilOf))).toEqual(created);
  });

  it("with applyToExisting brings the dates of the checkpoints it governs forward, so it removes at once what it does not keep", async () => {
    const ids = await fourDaily();
    await pinCheckpoint(f.core, ids[0] as string, true, ACTOR);
    const preview = await setRetentionPolicy(f.core, { keepLast: 2, applyToExisting: true, dryRun: true }, ACTOR);
    expect(preview.forecast).toMatchObject({ applyToExisting: true, redated: 3, expireNow: 1 });
    expect(keptInWords(preview.forecast.kept)).toBe("kept: 1 pinned, 1 as the newest of their component, 1 by keep-last");
    expect(removedInWords(preview.forecast.expired, true)).toBe("would remove: 1 past their own retention date");
    expect(await untilOf(ids[1] as string)).toBeGreaterThan(f.clock.now().getTime());

    const saved = await setRetentionPolicy(f.core, { keepLast: 2, applyToExisting: true }, ACTOR);
    expect(saved.dryRun).toBe(false);
    // Unpinned ones: their date is now their creation (no keepDays); the pinned one keeps its own.
    for (const id of ids.slice(1)) {
      const row = await f.core.db.checkpoint.findUniqueOrThrow({ where: { id } });
      expect(row.retentionUntil.getTime()).toBe(row.createdAt.getTime());
      expect(readSnapshotRecord(f.core.store, id).retentionUntil).toBe(row.createdAt.toISOString());
    }
    expect(await untilOf(ids[0] as string)).toBeGreaterThan(f.clock.now().getTime());
    const [event] = (await listHistory(f.core, { kind: "retention.set" })).items;
    expect(event?.details).toMatchObject({ applyToExisting: true, redated: 3 });

    const run = await runRetention(f.core, { actor: ACTOR });
    expect(run.expired.map((d) => d.checkpointId)).toEqual([ids[1]]);
    expect(run.summary).toEqual(summarizeDecisions([...run.kept, ...run.expired]));
    // The swept checkpoint's agent and task stay in its expiry's event.
    expect(await f.core.db.checkpoint.findUnique({ where: { id: ids[1] as string } })).toBeNull();
    const [expiry] = (await listHistory(f.core, { kind: "checkpoint.expire" })).items;
    expect(expiry).toMatchObject({ checkpointId: ids[1], agent: "claude", task: "T-1", session: "app/T-1" });
    expect((await listHistory(f.core, { task: "T-1" })).items.map((i) => i.kind)).toEqual(["checkpoint.expire", "checkpoint.create"]);
  });

  it("with keepDays moves a date only as far as the keepDays window, never later", async () => {
    const ids = await fourDaily();
    await setRetentionPolicy(f.core, { keepDays: 2, keepLast: 1, applyToExisting: true }, ACTOR);
    const rows = await f.core.db.checkpoint.findMany({ where: { id: { in: ids } }, orderBy: { id: "asc" } });
    for (const row of rows) expect(row.retentionUntil.getTime()).toBe(row.createdAt.getTime() + 2 * DAY_MS);
    const longer = await setRetentionPolicy(f.core, { keepDays: 30, keepLast: 1, applyToExisting: true, dryRun: true }, ACTOR);
    expect(longer.forecast.redated).toBe(0);
  });

  it("refuses applyToExisting with reset (there are no rules to apply)", () => {
    const parsed = retentionPolicyInput.safeParse({ reset: true, applyToExisting: true });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(["applyToExisting"]);
  });
});
