import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConflictError } from "../errors";
import { lockRetention } from "../locks";
import { listHistory } from "../audit/history";
import { verifyCheckpoint } from "../checkpoints/verify";
import { planRollback } from "../rollback/preview";
import { DAY_MS } from "./decide";
import { setRetentionPolicy } from "./policy";
import { ACTOR, openFixture, type Fixture } from "./test-fixture";
import { runRetention } from "./run";
import { startRetentionSchedule } from "./schedule";

let f: Fixture;
beforeEach(async () => {
  f = await openFixture();
  await f.component("app");
});
afterEach(async () => {
  await f.close();
});

const statusOf = async (id: string) => (await f.core.db.checkpoint.findUnique({ where: { id } }))?.status ?? "gone";

describe("SC-003: expired checkpoints are cleaned without affecting active ones", () => {
  it("cleans the expired, leaves active, pinned and newest untouched, and a rollback to a survivor still restores byte for byte", async () => {
    const binary = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256));
    f.write("app", { "src/main.ts": "export const v = 1;\n", "assets/logo.bin": binary, "README.md": "v1" });
    const expired1 = await f.checkpoint("app", { reason: "old" });
    f.clock.advanceDays(1);
    f.write("app", { "src/main.ts": "export const v = 2;\n", "README.md": "v2" });
    const pinned = await f.checkpoint("app", { reason: "release", pinned: true });
    f.clock.advanceDays(1);
    f.write("app", { "src/main.ts": "export const v = 3;\n", "src/extra.ts": "extra" });
    const expired2 = await f.checkpoint("app", { reason: "old too" });
    f.clock.advanceDays(1);
    f.write("app", { "src/main.ts": "export const v = 4;\n" });
    const longLived = await f.checkpoint("app", { reason: "kept 30 days", retentionDays: 30 });
    f.clock.advanceDays(1);
    f.write("app", { "src/main.ts": "export const v = 5;\n", "README.md": "v5" });
    const newest = await f.checkpoint("app", { reason: "newest" });
    f.clock.advanceDays(10); // everything but longLived is past its retentionUntil

    const result = await runRetention(f.core, { actor: ACTOR });

    expect(result.expired.map((d) => d.checkpointId).sort()).toEqual([expired1.id, expired2.id].sort());
    expect(result.expired.every((d) => d.rule === "retention-until")).toBe(true);
    const keptBy = Object.fromEntries(result.kept.map((d) => [d.checkpointId, d.rules]));
    expect(keptBy).toEqual({ [pinned.id]: ["pinned"], [longLived.id]: ["retention-until"], [newest.id]: ["newest"] });
    expect(await statusOf(expired1.id)).toBe("gone");
    expect(await statusOf(expired2.id)).toBe("gone");
    for (const id of [pinned.id, longLived.id, newest.id]) {
      expect(await statusOf(id)).toBe("active");
      expect((await verifyCheckpoint(f.core, id, ACTOR)).state).toBe("verified");
    }
    expect(f.core.store.stats().bytes).toBe(await f.referencedBytes());

    await f.rollback(pinned.id);
    expect(f.read("app", "src/main.ts").toString()).toBe("export const v = 2;\n");
    expect(f.read("app", "README.md").toString()).toBe("v2");
    expect(f.read("app", "assets/logo.bin").equals(binary)).toBe(true);
    expect(() => f.read("app", "src/extra.ts")).toThrow();
  });

  it("keeps a checkpoint a pending rollback plan refers to, and expires it once the plan has lapsed", async () => {
    f.write("app", { "a.txt": "one" });
    const planned = await f.checkpoint("app");
    f.clock.advance(1000);
    f.write("app", { "a.txt": "two" });
    await f.checkpoint("app");
    f.clock.advanceDays(8);
    await planRollback(f.core, planned.id, ACTOR);

    const first = await runRetention(f.core, { actor: ACTOR });
    expect(first.kept.find((d) => d.checkpointId === planned.id)?.rules).toEqual(["pending-plan"]);

    f.clock.advanceDays(2); // the token expired (10 minutes) and is over a day old: purged
    const second = await runRetention(f.core, { actor: ACTOR });
    expect(second.expired.map((d) => d.checkpointId)).toEqual([planned.id]);
    expect(second.confirmTokensPurged).toBe(1);
  });
});

describe("dry run", () => {
  it("lists exactly what the real run then does, and changes nothing", async () => {
    await setRetentionPolicy(f.core, { keepLast: 2, keepDaily: 3 }, ACTOR);
    for (let i = 0; i < 12; i++) {
      f.write("app", { "a.txt": `content ${i}`, [`f${i % 4}.txt`]: `file ${i}`.repeat(i + 1) });
      await f.checkpoint("app");
      f.clock.advance(DAY_MS / 3);
    }
    await f.component("other");
    f.write("other", { "o.txt": "other" });
    await f.checkpoint("other", { retentionDays: 1 });
    f.clock.advanceDays(9);
    const rowsBefore = await f.core.db.checkpoint.findMany({ orderBy: { id: "asc" } });
    const storeBefore = f.core.store.stats();
    const historyBefore = (await listHistory(f.core, {})).items.length;

    const dry = await runRetention(f.core, { dryRun: true, actor: ACTOR });

    expect(await f.core.db.checkpoint.findMany({ orderBy: { id: "asc" } })).toEqual(rowsBefore);
    expect(f.core.store.stats()).toEqual(storeBefore);
    expect((await listHistory(f.core, {})).items.length).toBe(historyBefore);
    expect(dry.expired.length).toBeGreaterThan(0);
    expect(dry.objects.length).toBeGreaterThan(0);

    const real = await runRetention(f.core, { actor: ACTOR });
    expect(real.expired).toEqual(dry.expired);
    expect(real.kept).toEqual(dry.kept);
    expect(real.removed).toEqual(dry.removed);
    expect(real.objects).toEqual(dry.objects);
    expect(real.bytesFreed).toBe(dry.bytesFreed);
    expect(real.storeAfter).toEqual(dry.storeAfter);
    expect(f.core.store.stats()).toEqual(dry.storeAfter);
  });
});

describe("history", () => {
  it("records retention.run with counts, bytes freed, duration and outcome, and each expiry with its rule", async () => {
    f.write("app", { "a.txt": "a".repeat(100) });
    const old = await f.checkpoint("app");
    f.clock.advance(1000);
    f.write("app", { "a.txt": "b" });
    await f.checkpoint("app");
    f.clock.advanceDays(8);
    const result = await runRetention(f.core, { actor: "cron" });

    const runs = await listHistory(f.core, { kind: "retention.run" });
    expect(runs.items).toHaveLength(1);
    expect(runs.items[0]).toMatchObject({ id: result.historyEventId, actor: "cron", outcome: "succeeded", bytes: result.bytesFreed, files: result.objectsDeleted });
    expect(runs.items[0]?.details).toMatchObject({ expired: 1, kept: 1, removedCheckpoints: 1, objectsDeleted: 3, expiredCheckpoints: [{ id: old.id, rule: "retention-until" }] });
    expect(result.bytesFreed).toBeGreaterThan(100);

    const expiry = (await listHistory(f.core, { component: "app" })).items.find((e) => e.kind === "checkpoint.expire");
    expect(expiry).toMatchObject({ checkpointId: old.id, outcome: "succeeded", details: { rule: "retention-until", policy: "default" } });
  });

  it("records a failed run and refuses a second run while one holds the store lock", async () => {
    const release = await lockRetention(f.core.locks);
    try {
      await expect(runRetention(f.core, { actor: ACTOR })).rejects.toBeInstanceOf(ConflictError);
      // a dry run takes no lock
      await expect(runRetention(f.core, { actor: ACTOR, dryRun: true })).resolves.toMatchObject({ dryRun: true });
    } finally {
      await release();
    }
  });
});

it("done when: the operator sets keep 7 days, the last 5 and dailies for a month, previews, and the hourly run applies it", async () => {
  // two checkpoints a day for 45 days, each changing one file
  const ids: string[] = [];
  for (let i = 0; i < 90; i++) {
    f.write("app", { "main.txt": `state ${i}\n`.repeat(20), [`day-${Math.floor(i / 2) % 10}.txt`]: `day ${i}` });
    ids.push((await f.checkpoint("app")).id);
    f.clock.advance(DAY_MS / 2);
  }
  await setRetentionPolicy(f.core, { keepDays: 7, keepLast: 5, keepDaily: 30 }, "operator");
  const preview = await runRetention(f.core, { dryRun: true, actor: "operator" });
  expect(preview.kept.length + preview.expired.length).toBe(90);

  const before = f.core.store.stats().bytes;
  const results: Awaited<ReturnType<typeof runRetention>>[] = [];
  const stop = startRetentionSchedule(f.core, { intervalMs: 20, onResult: (r) => results.push(r), onError: (e) => results.push(Promise.reject(e) as never), env: {} });
  while (results.length === 0) await new Promise((r) => setTimeout(r, 10));
  await stop();
  const applied = results[0] as Awaited<ReturnType<typeof runRetention>>;

  expect(applied.expired.map((d) => d.checkpointId)).toEqual(preview.expired.map((d) => d.checkpointId));
  expect(applied.kept.map((d) => d.checkpointId)).toEqual(preview.kept.map((d) => d.checkpointId));
  expect(before - f.core.store.stats().bytes).toBe(preview.bytesFreed);
  expect(f.core.store.stats().bytes).toBe(await f.referencedBytes());
  for (const kept of applied.kept) expect((await verifyCheckpoint(f.core, kept.checkpointId, ACTOR)).state).toBe("verified");
  const oldestSurvivor = applied.kept[applied.kept.length - 1] as (typeof applied.kept)[number];
  await f.rollback(oldestSurvivor.checkpointId);
  const index = ids.indexOf(oldestSurvivor.checkpointId);
  expect(f.read("app", "main.txt").toString()).toBe(`state ${index}\n`.repeat(20));
});
