import { describe, expect, it } from "vitest";
import { DAY_MS, decideRetention, expiresEverything, isoWeekKey, utcDayKey, type CheckpointFacts, type KeepDecision, type Protection, type RetentionDecision } from "./decide";
import { DEFAULT_POLICY, type EffectivePolicy, type RetentionRules } from "./policy";

const NOW = new Date("2025-03-31T12:00:00.000Z");
const HOUR_MS = 3_600_000;

let seq = 0;
/** A checkpoint created `ageDays` before NOW, kept `retentionDays` (default 7) from its creation. */
function cp(ageDays: number, options: Partial<CheckpointFacts> & { retentionDays?: number } = {}): CheckpointFacts {
  const createdAt = new Date(NOW.getTime() - ageDays * DAY_MS);
  const id = options.id ?? `cp_${String(createdAt.getTime()).padStart(15, "0")}_${String(seq++).padStart(4, "0")}`;
  return {
    id,
    component: options.component ?? "app",
    kind: options.kind ?? "manual",
    createdAt,
    retentionUntil: options.retentionUntil ?? new Date(createdAt.getTime() + (options.retentionDays ?? 7) * DAY_MS),
    pinned: options.pinned ?? false,
  };
}

function policy(rules: Partial<RetentionRules>, source: EffectivePolicy["source"] = "global"): EffectivePolicy {
  return { source, keepDays: null, keepLast: null, keepDaily: null, keepWeekly: null, ...rules };
}

function decide(checkpoints: CheckpointFacts[], manual: EffectivePolicy = DEFAULT_POLICY, extra: { safety?: EffectivePolicy; protections?: Map<string, Protection[]>; keepNewest?: boolean } = {}) {
  return decideRetention({ checkpoints, policyFor: (kind) => (kind === "safety" ? (extra.safety ?? DEFAULT_POLICY) : manual), now: NOW, protections: extra.protections, keepNewest: extra.keepNewest });
}

const keptIds = (decisions: RetentionDecision[]) => decisions.filter((d) => d.action === "keep").map((d) => d.checkpointId);
const byId = (decisions: RetentionDecision[], id: string) => decisions.find((d) => d.checkpointId === id) as RetentionDecision;

describe("bucket keys", () => {
  it("uses the UTC calendar day", () => {
    expect(utcDayKey(new Date("2025-03-31T23:59:59.999Z"))).toBe("2025-03-31");
    expect(utcDayKey(new Date("2025-04-01T00:00:00.000Z"))).toBe("2025-04-01");
  });

  it("uses ISO 8601 weeks, whose year can differ from the calendar year", () => {
    expect(isoWeekKey(new Date("2025-03-31T00:00:00Z"))).toBe("2025-W14"); // a Monday
    expect(isoWeekKey(new Date("2025-03-30T23:59:59Z"))).toBe("2025-W13"); // the Sunday before
    expect(isoWeekKey(new Date("2024-12-30T00:00:00Z"))).toBe("2025-W01");
    expect(isoWeekKey(new Date("2021-01-03T00:00:00Z"))).toBe("2020-W53");
    expect(isoWeekKey(new Date("2026-12-31T00:00:00Z"))).toBe("2026-W53");
  });
});

describe("with no policy configured", () => {
  it("expires a checkpoint at its retentionUntil and names that rule", () => {
    const old = cp(8);
    const young = cp(6);
    const decisions = decide([old, young, cp(0)]);
    expect(byId(decisions, young.id)).toMatchObject({ action: "keep", rules: ["retention-until"], policy: "default" });
    expect(byId(decisions, old.id)).toMatchObject({ action: "expire", rule: "retention-until", policy: "default" });
    expect(byId(decisions, old.id).reason).toContain("retentionUntil");
    expect(byId(decisions, old.id).reason).toContain("no retention policy configured");
  });

  it("honours a longer retentionUntil set at creation", () => {
    const longLived = cp(20, { retentionDays: 30 });
    expect(byId(decide([longLived, cp(0)]), longLived.id)).toMatchObject({ action: "keep", rules: ["retention-until"] });
  });

  it("expires exactly at retentionUntil, not a millisecond before", () => {
    const edge = cp(7);
    const before = cp(7 - 1 / DAY_MS);
    const decisions = decide([edge, before, cp(0)]);
    expect(byId(decisions, edge.id).action).toBe("expire");
    expect(byId(decisions, before.id).action).toBe("keep");
  });
});

describe("always kept", () => {
  it("keeps the newest checkpoint of the component even when every rule would expire it", () => {
    const checkpoints = [cp(40), cp(30), cp(20)];
    const decisions = decide(checkpoints);
    expect(keptIds(decisions)).toEqual([checkpoints[2]?.id]);
    expect(byId(decisions, checkpoints[2]?.id as string)).toMatchObject({ rules: ["newest"] });
  });

  it("counts a safety checkpoint as the newest of its component", () => {
    const manual = cp(30);
    const safety = cp(20, { kind: "safety" });
    expect(keptIds(decide([manual, safety]))).toEqual([safety.id]);
  });

  it("breaks a tie on the creation time with the (time-sortable) id", () => {
    const a = cp(30, { id: "cp_a" });
    const b = { ...a, id: "cp_b" };
    expect(keptIds(decide([b, a]))).toEqual(["cp_b"]);
  });

  it("keeps pinned checkpoints whatever their age", () => {
    const pinned = cp(400, { pinned: true });
    expect(byId(decide([pinned, cp(0)], policy({ keepLast: 1 })), pinned.id)).toMatchObject({ action: "keep", rules: ["pinned"] });
  });

  it("keeps checkpoints an in-flight rollback or a pending plan refers to", () => {
    const target = cp(30);
    const planned = cp(25);
    const protections = new Map<string, Protection[]>([
      [target.id, [{ rule: "in-flight-rollback", detail: "rollback rb_1 in progress" }]],
      [planned.id, [{ rule: "pending-plan", detail: "rollback plan pending until later" }]],
    ]);
    const decisions = decide([target, planned, cp(0)], DEFAULT_POLICY, { protections });
    expect(byId(decisions, target.id)).toMatchObject({ action: "keep", rules: ["in-flight-rollback"], reason: "rollback rb_1 in progress" });
    expect(byId(decisions, planned.id)).toMatchObject({ action: "keep", rules: ["pending-plan"] });
  });

  it("lists every rule that keeps a checkpoint", () => {
    const c = cp(0, { pinned: true });
    expect((byId(decide([c], policy({ keepLast: 1, keepDaily: 1, keepWeekly: 1, keepDays: 1 })), c.id) as KeepDecision).rules).toEqual([
      "newest",
      "pinned",
      "retention-until",
      "keep-days",
      "keep-last",
      "keep-daily",
      "keep-weekly",
    ]);
  });
});

describe("keepDays", () => {
  it("keeps checkpoints created within N days and extends (never shortens) retentionUntil", () => {
    const within = cp(20);
    const outside = cp(31);
    const decisions = decide([within, outside, cp(0)], policy({ keepDays: 30 }));
    expect(byId(decisions, within.id)).toMatchObject({ action: "keep", rules: ["keep-days"] });
    expect(byId(decisions, outside.id)).toMatchObject({ action: "expire", rule: "keep-days" });
    expect(byId(decisions, outside.id).reason).toContain("keepDays 30 ended");

    const shorter = decide([cp(5), cp(0)], policy({ keepDays: 1 }));
    expect(shorter.every((d) => d.action === "keep")).toBe(true);
  });

  it("names retentionUntil as the deciding rule when it was the later limit", () => {
    const c = cp(40, { retentionDays: 35 });
    expect(byId(decide([c, cp(0)], policy({ keepDays: 10 })), c.id)).toMatchObject({ action: "expire", rule: "retention-until" });
  });
});

describe("keepLast", () => {
  it("keeps the N newest and expires the rest past retentionUntil", () => {
    const checkpoints = Array.from({ length: 8 }, (_, i) => cp(30 + i));
    const decisions = decide(checkpoints, policy({ keepLast: 3 }));
    expect(keptIds(decisions)).toEqual(checkpoints.slice(0, 3).map((c) => c.id));
    expect(byId(decisions, checkpoints[1]?.id as string).reason).toContain("keepLast 3 (#2)");
    const expired = decisions.filter((d) => d.action === "expire");
    expect(expired).toHaveLength(5);
    expect(expired[0]?.reason).toContain("not kept by the global policy (keepLast 3)");
  });
});

describe("keepDaily / keepWeekly buckets (restic forget)", () => {
  it("keeps the newest checkpoint of each of the last N days that have checkpoints", () => {
    // three a day at 09:00, 12:00, 15:00 UTC for 10 days, with days 3 and 4 empty
    const checkpoints: CheckpointFacts[] = [];
    for (let day = 10; day >= 1; day--) {
      if (day === 3 || day === 4) continue;
      for (const hour of [9, 12, 15]) checkpoints.push(cp(day - (hour - 12) / 24));
    }
    const decisions = decide(checkpoints, policy({ keepDaily: 4 }));
    const kept = decisions.filter((d) => d.action === "keep" && d.rules.includes("keep-daily")).map((d) => d.createdAt);
    expect(kept).toEqual(["2025-03-30T15:00:00.000Z", "2025-03-29T15:00:00.000Z", "2025-03-26T15:00:00.000Z", "2025-03-25T15:00:00.000Z"]);
    expect(byId(decisions, decisions.find((d) => d.createdAt === "2025-03-26T15:00:00.000Z")?.checkpointId as string).reason).toContain("keepDaily 4 (2025-03-26)");
  });

  it("keeps the newest checkpoint of each of the last N ISO weeks that have checkpoints", () => {
    // one a day for 5 weeks back from Monday 2025-03-31 12:00
    const checkpoints = Array.from({ length: 35 }, (_, i) => cp(i + 1));
    const decisions = decide(checkpoints, policy({ keepWeekly: 3 }));
    const weekly = decisions.filter((d) => d.action === "keep" && d.rules.includes("keep-weekly")).map((d) => d.createdAt.slice(0, 10));
    // Sundays end ISO weeks: the newest of W13, W12, W11
    expect(weekly).toEqual(["2025-03-30", "2025-03-23", "2025-03-16"]);
  });

  it("applies count and bucket rules per kind: safety checkpoints under the safety policy", () => {
    const manual = [cp(30), cp(31), cp(32)];
    const safety = [cp(30.5, { kind: "safety" }), cp(31.5, { kind: "safety" })];
    const decisions = decide([...manual, ...safety], policy({ keepLast: 2 }, "component:app"), { safety: policy({ keepLast: 1 }, "safety") });
    expect(keptIds(decisions).sort()).toEqual([manual[0]?.id, manual[1]?.id, safety[0]?.id].sort());
    expect(byId(decisions, safety[1]?.id as string)).toMatchObject({ action: "expire", policy: "safety" });
    expect(byId(decisions, manual[2]?.id as string)).toMatchObject({ action: "expire", policy: "component:app" });
  });

  it("keep 7 days, at least the last 5, dailies for a month: the operator's policy", () => {
    // four checkpoints a day for 60 days
    const checkpoints: CheckpointFacts[] = [];
    for (let day = 0; day < 60; day++) for (let n = 0; n < 4; n++) checkpoints.push(cp(day + n * 0.2 + 0.01));
    const decisions = decide(checkpoints, policy({ keepDays: 7, keepLast: 5, keepDaily: 30 }));

    const newestFirst = [...checkpoints].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    const expected = new Set<string>(newestFirst.slice(0, 5).map((c) => c.id));
    for (const c of checkpoints) if (NOW.getTime() - c.createdAt.getTime() < 7 * DAY_MS) expected.add(c.id);
    const newestOfDay = new Map<string, CheckpointFacts>();
    for (const c of newestFirst) if (!newestOfDay.has(utcDayKey(c.createdAt))) newestOfDay.set(utcDayKey(c.createdAt), c);
    for (const c of [...newestOfDay.values()].slice(0, 30)) expected.add(c.id);

    expect(new Set(keptIds(decisions))).toEqual(expected);
    const olderKept = decisions.filter((d) => d.action === "keep" && NOW.getTime() - new Date(d.createdAt).getTime() >= 7 * DAY_MS);
    expect(olderKept.length).toBeGreaterThan(20);
    expect(new Set(olderKept.map((d) => d.createdAt.slice(0, 10))).size).toBe(olderKept.length); // one a day beyond the week
  });
});

describe("refusing a policy that would delete every checkpoint", () => {
  it("detects a policy that alone would expire every checkpoint of a component", () => {
    const old = [cp(40), cp(50)];
    const evaluate = (rules: Partial<RetentionRules>, checkpoints = old) => expiresEverything({ checkpoints, policyFor: () => policy(rules), now: NOW });
    expect(evaluate({ keepDays: 30 })).toBe(true);
    expect(evaluate({ keepLast: 0 })).toBe(true);
    expect(evaluate({ keepDays: 30, keepLast: 1 })).toBe(false);
    expect(evaluate({ keepWeekly: 1 })).toBe(false);
    expect(evaluate({ keepDays: 60 })).toBe(false);
    expect(evaluate({ keepDays: 30 }, [cp(40, { pinned: true }), cp(50)])).toBe(false);
    expect(evaluate({ keepDays: 30 }, [cp(40), cp(3)])).toBe(false);
    expect(evaluate({ keepDays: 30 }, [])).toBe(false);
  });

  it("even then the run itself keeps the newest", () => {
    const old = [cp(40), cp(50)];
    expect(keptIds(decide(old, policy({ keepDays: 30 })))).toEqual([old[0]?.id]);
    expect(keptIds(decide(old, policy({ keepDays: 30 }), { keepNewest: false }))).toEqual([]);
  });
});

it("is pure: the same input gives the same decisions, newest first", () => {
  const checkpoints = [cp(3), cp(1), cp(12), cp(2 + HOUR_MS / DAY_MS)];
  const a = decide(checkpoints, policy({ keepLast: 2 }));
  const b = decide([...checkpoints].reverse(), policy({ keepLast: 2 }));
  expect(a).toEqual(b);
  expect(a.map((d) => d.createdAt)).toEqual([...a.map((d) => d.createdAt)].sort().reverse());
});
