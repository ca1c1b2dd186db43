import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidInputError, NotFoundError } from "../errors";
import { listHistory } from "../audit/history";
import { retentionPolicyInput } from "../schemas";
import { pinCheckpoint } from "../checkpoints/lifecycle";
import { ACTOR, openFixture, type Fixture } from "./test-fixture";
import { getRetentionPolicies, loadPolicies, PolicySet, setRetentionPolicy, validateRules, NO_RULES } from "./policy";

let f: Fixture;
beforeEach(async () => {
  f = await openFixture();
  await f.component("app");
  await f.component("web");
});
afterEach(async () => {
  await f.close();
});

describe("effective policy", () => {
  it("is the default (retentionUntil only) when nothing is configured", async () => {
    const view = await getRetentionPolicies(f.core);
    expect(view.defaultRetentionDays).toBe(7);
    expect(view.policies).toEqual([]);
    expect(view.effective).toEqual([
      { component: "app", manual: { source: "default", ...NO_RULES }, safety: { source: "default", ...NO_RULES } },
      { component: "web", manual: { source: "default", ...NO_RULES }, safety: { source: "default", ...NO_RULES } },
    ]);
  });

  it("is the component's own row, else global; safety checkpoints use the safety row, else global", async () => {
    await setRetentionPolicy(f.core, { keepDays: 14 }, ACTOR);
    await setRetentionPolicy(f.core, { component: "app", keepLast: 3 }, ACTOR);
    let set = await loadPolicies(f.core);
    expect(set.effective("app", "manual")).toMatchObject({ source: "component:app", keepLast: 3, keepDays: null });
    expect(set.effective("web", "manual")).toMatchObject({ source: "global", keepDays: 14 });
    expect(set.effective("app", "safety")).toMatchObject({ source: "global", keepDays: 14 });

    await setRetentionPolicy(f.core, { safety: true, keepLast: 2 }, ACTOR);
    set = await loadPolicies(f.core);
    expect(set.effective("web", "safety")).toMatchObject({ source: "safety", keepLast: 2 });

    const one = await getRetentionPolicies(f.core, { component: "web" });
    expect(one.policies.map((p) => p.scope)).toEqual(["global", "safety"]);
    expect(one.effective).toHaveLength(1);
  });

  it("replaces the whole policy of a scope, and reset removes it", async () => {
    await setRetentionPolicy(f.core, { component: "app", keepLast: 3, keepDaily: 7 }, ACTOR);
    const replaced = await setRetentionPolicy(f.core, { component: "app", keepWeekly: 4 }, ACTOR);
    expect(replaced.policy).toMatchObject({ scope: "component:app", keepLast: null, keepDaily: null, keepWeekly: 4 });
    expect(replaced.previous).toMatchObject({ keepLast: 3, keepDaily: 7 });
    const reset = await setRetentionPolicy(f.core, { component: "app", reset: true }, ACTOR);
    expect(reset.policy).toBeNull();
    expect((await loadPolicies(f.core)).effective("app", "manual").source).toBe("default");
  });

  it("records every change in history", async () => {
    await setRetentionPolicy(f.core, { keepDays: 7, keepLast: 5, keepDaily: 30 }, "operator");
    const events = (await listHistory(f.core, {})).items.filter((e) => e.kind === "retention.set");
    expect(events).toMatchObject([{ actor: "operator", outcome: "succeeded", details: { scope: "global", policy: { keepDays: 7, keepLast: 5, keepDaily: 30, keepWeekly: null }, previous: null } }]);
  });
});

describe("validation", () => {
  it("refuses a policy with no rule, or whose rules all keep nothing", () => {
    expect(() => validateRules(NO_RULES)).toThrow(/at least one/);
    expect(() => validateRules({ ...NO_RULES, keepLast: 0 })).toThrow(InvalidInputError);
    expect(() => validateRules({ ...NO_RULES, keepLast: 0, keepDays: 0 })).toThrow(/keeps nothing/);
    expect(() => validateRules({ ...NO_RULES, keepLast: -1 })).toThrow(/keepLast/);
    expect(() => validateRules({ ...NO_RULES, keepLast: 0, keepWeekly: 1 })).not.toThrow();
  });

  it("validates input with the shared schema, naming the field", () => {
    expect(retentionPolicyInput.safeParse({ keepLast: 1.5 }).success).toBe(false);
    expect(retentionPolicyInput.safeParse({ keepDays: -1 }).error?.issues[0]?.path).toEqual(["keepDays"]);
    expect(retentionPolicyInput.safeParse({ component: "app", safety: true, keepLast: 1 }).error?.issues[0]?.path).toEqual(["safety"]);
    expect(retentionPolicyInput.safeParse({ reset: true, keepLast: 1 }).error?.issues[0]?.path).toEqual(["reset"]);
    expect(retentionPolicyInput.parse({ keepLast: 5, keepDays: null })).toEqual({ keepLast: 5, keepDays: null });
  });

  it("refuses a policy for an unknown component", async () => {
    await expect(setRetentionPolicy(f.core, { component: "nope", keepLast: 1 }, ACTOR)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe("refusing a policy that would delete every checkpoint of a component", () => {
  async function oldCheckpoints(): Promise<string[]> {
    f.write("app", { "a.txt": "one" });
    const a = await f.checkpoint("app");
    f.clock.advance(1000);
    f.write("app", { "a.txt": "two" });
    const b = await f.checkpoint("app");
    f.clock.advanceDays(40);
    return [a.id, b.id];
  }

  it("refuses it with a clear error naming the component, and saves nothing", async () => {
    await oldCheckpoints();
    const error = await setRetentionPolicy(f.core, { keepDays: 30 }, ACTOR).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(/would delete every checkpoint of app \(2 checkpoint\(s\)/);
    expect((error as InvalidInputError).details).toMatchObject({ field: "policy" });
    expect((await loadPolicies(f.core)).all()).toEqual([]);
    await expect(setRetentionPolicy(f.core, { component: "app", keepDays: 30 }, ACTOR)).rejects.toThrow(/every checkpoint of app/);
  });

  it("accepts it once something is kept: keepLast 1, a bucket, or a pinned checkpoint", async () => {
    const [first] = await oldCheckpoints();
    await expect(setRetentionPolicy(f.core, { keepDays: 30, keepLast: 1 }, ACTOR)).resolves.toMatchObject({ scope: "global" });
    await expect(setRetentionPolicy(f.core, { keepDays: 30, keepWeekly: 1 }, ACTOR)).resolves.toMatchObject({ scope: "global" });
    await pinCheckpoint(f.core, first as string, true, ACTOR);
    await expect(setRetentionPolicy(f.core, { keepDays: 30 }, ACTOR)).resolves.toMatchObject({ scope: "global" });
  });

  it("judges a global policy only on the components that use it", async () => {
    await oldCheckpoints();
    await setRetentionPolicy(f.core, { component: "app", keepLast: 2 }, ACTOR);
    await expect(setRetentionPolicy(f.core, { keepDays: 30 }, ACTOR)).resolves.toMatchObject({ scope: "global" });
  });

  it("checks a candidate against the stored policies without saving it", () => {
    const set = new PolicySet([]).with("safety", { ...NO_RULES, keepLast: 1 }, new Date());
    expect(set.effective("x", "safety")).toMatchObject({ source: "safety", keepLast: 1 });
    expect(set.with("safety", null, new Date()).all()).toEqual([]);
  });
});
