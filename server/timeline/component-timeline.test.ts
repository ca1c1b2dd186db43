import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { addComponent, cleanUpAfterEach, openWorkspace, rollbackTo, TEST_ACTOR, writeTree, type Workspace } from "../../test/support/workspace";
import { recordEvent } from "../audit/history";
import { createCheckpoint } from "../checkpoints/create";
import { verifyCheckpoint } from "../checkpoints/verify";
import { componentTimeline, type TimelineItem } from "./component-timeline";
import { timelineDays } from "./timeline-days";
import { matchLiveWorkspace } from "./live-match";

cleanUpAfterEach();

/** Runs `step` with the core's clock at `iso` (every record it makes carries that time). */
async function at<T>(ws: Workspace, iso: string, step: () => Promise<T>): Promise<T> {
  const previous = ws.core.now;
  ws.core.now = () => new Date(iso);
  try {
    return await step();
  } finally {
    ws.core.now = previous;
  }
}

function describeItem(item: TimelineItem): string {
  if (item.type === "checkpoint") return item.checkpoint.kind === "safety" ? "checkpoint safety" : `checkpoint manual ${item.checkpoint.reason ?? ""}`.trim();
  if (item.type === "rollback") return `rollback ${item.rollback.outcome}`;
  return `event ${item.event.kind}`;
}

/**
 * Three days of a component's life: two checkpoints on the 1st, one on the 2nd (by
 * an agent, task T-7), a rollback to the first and a verification on the 3rd, and a
 * retention expiry recorded on the 3rd.
 */
async function threeDays(ws: Workspace) {
  writeTree(ws.root, { "a.txt": "one\n" });
  await addComponent(ws);
  const first = await at(ws, "2026-03-01T09:00:00.000Z", () => createCheckpoint(ws.core, { component: "app", reason: "morning" }, TEST_ACTOR));
  fs.writeFileSync(path.join(ws.root, "a.txt"), "two\n");
  const second = await at(ws, "2026-03-01T17:30:00.000Z", () => createCheckpoint(ws.core, { component: "app", reason: "evening" }, TEST_ACTOR));
  fs.writeFileSync(path.join(ws.root, "a.txt"), "three\n");
  const third = await at(ws, "2026-03-02T12:00:00.000Z", () => createCheckpoint(ws.core, { component: "app", reason: "agent run", agent: "refactor-bot", task: "T-7" }, TEST_ACTOR));
  const rollback = await at(ws, "2026-03-03T08:00:00.000Z", () => rollbackTo(ws.core, first.id));
  await at(ws, "2026-03-03T08:05:00.000Z", () => verifyCheckpoint(ws.core, first.id, TEST_ACTOR));
  await recordEvent(ws.core, {
    kind: "checkpoint.expire",
    component: "app",
    checkpointId: second.id,
    actor: "cron",
    outcome: "succeeded",
    startedAt: new Date("2026-03-03T09:00:00.000Z"),
    durationMs: 0,
    details: { rule: "keep-days", reason: "older than 1 day" },
  });
  return { first, second, third, rollback };
}

describe("component timeline", () => {
  it("puts checkpoints, rollbacks, verifications and retention expiries on one axis, newest first", async () => {
    const ws = openWorkspace();
    const { first, rollback } = await threeDays(ws);

    const page = await componentTimeline(ws.core, { component: "app" });

    expect(page.items.map(describeItem)).toEqual([
      "event checkpoint.expire",
      "event checkpoint.verify",
      "rollback succeeded",
      "checkpoint safety",
      "checkpoint manual agent run",
      "checkpoint manual evening",
      "checkpoint manual morning",
    ]);
    expect(page.nextCursor).toBeNull();
    const rolledBack = page.items.find((i) => i.type === "rollback");
    expect(rolledBack?.type === "rollback" && rolledBack.rollback).toMatchObject({ id: rollback.rollbackId, checkpointId: first.id, outcome: "succeeded", restored: 1 });
    expect(rolledBack?.type === "rollback" && typeof rolledBack.rollback.durationMs).toBe("number");
    const expiry = page.items[0];
    expect(expiry?.type === "event" && expiry.event).toMatchObject({ kind: "checkpoint.expire", rule: "keep-days", reason: "older than 1 day" });
  });

  it("pages through every item exactly once with the cursor", async () => {
    const ws = openWorkspace();
    await threeDays(ws);
    const all = (await componentTimeline(ws.core, { component: "app" })).items.map(describeItem);

    const paged: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await componentTimeline(ws.core, { component: "app", limit: 2, cursor });
      paged.push(...page.items.map(describeItem));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }

    expect(paged).toEqual(all);
  });

  it("jumps to the end of a day in one query, and lists the days with their counts", async () => {
    const ws = openWorkspace();
    const { third } = await threeDays(ws);

    const page = await componentTimeline(ws.core, { component: "app", day: "2026-03-02" });
    expect(page.items.map(describeItem)).toEqual(["checkpoint manual agent run", "checkpoint manual evening", "checkpoint manual morning"]);
    expect(page.items[0]?.type === "checkpoint" && page.items[0].checkpoint.id).toBe(third.id);

    expect((await timelineDays(ws.core, "app")).days).toEqual([
      { day: "2026-03-03", checkpoints: 1, rollbacks: 1, events: 2 },
      { day: "2026-03-02", checkpoints: 1, rollbacks: 0, events: 0 },
      { day: "2026-03-01", checkpoints: 2, rollbacks: 0, events: 0 },
    ]);
  });

  it("jumps to an instant: what happened at or before it comes first, whatever zone the instant is written in", async () => {
    const ws = openWorkspace();
    const { second, third } = await threeDays(ws);

    const before = await componentTimeline(ws.core, { component: "app", at: "2026-03-02T11:59:59.999Z" });
    expect(before.items[0]?.type === "checkpoint" && before.items[0].checkpoint.id).toBe(second.id);
    // 17:30 in India is 12:00 UTC: the agent run taken at that very millisecond is included.
    const atIt = await componentTimeline(ws.core, { component: "app", at: "2026-03-02T17:30:00+05:30" });
    expect(atIt.items[0]?.type === "checkpoint" && atIt.items[0].checkpoint.id).toBe(third.id);
    expect(atIt.items.map(describeItem)).toEqual(["checkpoint manual agent run", "checkpoint manual evening", "checkpoint manual morning"]);
  });

  it("counts days in the viewer's time zone, a quarter hour before or after a local midnight included", async () => {
    const ws = openWorkspace();
    await threeDays(ws);
    // Auckland is 13 hours ahead in March: 17:30 UTC on the 1st is 06:30 on the 2nd there, and the 3rd starts at 11:00 UTC on the 2nd.
    expect((await timelineDays(ws.core, "app", "Pacific/Auckland")).days).toEqual([
      { day: "2026-03-03", checkpoints: 2, rollbacks: 1, events: 2 },
      { day: "2026-03-02", checkpoints: 1, rollbacks: 0, events: 0 },
      { day: "2026-03-01", checkpoints: 1, rollbacks: 0, events: 0 },
    ]);
    // Kathmandu is 5:45 ahead: 18:14 UTC is 23:59 there, 18:15 UTC is already the next day.
    fs.writeFileSync(path.join(ws.root, "a.txt"), "four\n");
    await at(ws, "2026-03-05T18:14:00.000Z", () => createCheckpoint(ws.core, { component: "app", reason: "late" }, TEST_ACTOR));
    fs.writeFileSync(path.join(ws.root, "a.txt"), "five\n");
    await at(ws, "2026-03-05T18:15:00.000Z", () => createCheckpoint(ws.core, { component: "app", reason: "after midnight" }, TEST_ACTOR));
    const kathmandu = (await timelineDays(ws.core, "app", "Asia/Kathmandu")).days;
    expect(kathmandu.slice(0, 2)).toEqual([
      { day: "2026-03-06", checkpoints: 1, rollbacks: 0, events: 0 },
      { day: "2026-03-05", checkpoints: 1, rollbacks: 0, events: 0 },
    ]);
    expect((await timelineDays(ws.core, "app", "UTC")).days[0]).toEqual({ day: "2026-03-05", checkpoints: 2, rollbacks: 0, events: 0 });
  });

  it("filters by reason, agent, task and id", async () => {
    const ws = openWorkspace();
    const { first } = await threeDays(ws);
    const only = async (q: string) => (await componentTimeline(ws.core, { component: "app", q })).items.map(describeItem);

    expect(await only("T-7")).toEqual(["checkpoint manual agent run"]);
    expect(await only("refactor-bot")).toEqual(["checkpoint manual agent run"]);
    expect(await only("even")).toEqual(["checkpoint manual evening"]);
    // An id finds the checkpoint and what happened to it: its verification, the rollback to it (and that rollback's safety checkpoint, whose reason names it).
    expect(await only(first.id)).toEqual(["event checkpoint.verify", "rollback succeeded", "checkpoint safety", "checkpoint manual morning"]);
  });

  it("marks the checkpoint the live workspace matches: the rollback's target after a rollback, none after an edit", async () => {
    const ws = openWorkspace();
    const { first } = await threeDays(ws);

    expect((await matchLiveWorkspace(ws.core, "app")).checkpointId).toBe(first.id);

    fs.writeFileSync(path.join(ws.root, "a.txt"), "edited after the rollback\n");
    expect((await matchLiveWorkspace(ws.core, "app")).checkpointId).toBeNull();
  });
});
