/**
 * What a retention policy means before it is saved: which of the existing
 * checkpoints it governs (its scope's) would be removed by the next run, why the others are kept (grouped, in words),
 * and when it would start removing checkpoints while nothing new is taken.
 *
 * By default a policy leaves each existing checkpoint's own retention date
 * (`retentionUntil`, set when it was taken) alone: it only adds reasons to keep.
 * "Apply to existing" brings those dates forward to what the policy gives: the
 * end of its keepDays window, or the checkpoint's creation when it has none (its
 * count rules then decide alone). Dates are never pushed later.
 */
import type { CheckpointFacts, CheckpointKind, ExpireRule, KeepRule, RetentionDecision } from "./decide";
import { DAY_MS, decideRetention } from "./decide";
import type { PolicyScope, PolicySet } from "./policy";
import type { Protection } from "./decide";

/** The order a kept checkpoint is counted in: under the first of its rules (so the counts add up to the kept total). */
export const KEEP_RULE_ORDER: readonly KeepRule[] = ["pinned", "in-flight-rollback", "pending-plan", "newest", "retention-until", "keep-days", "keep-last", "keep-daily", "keep-weekly"];

export interface RuleCount<Rule extends string> {
  rule: Rule;
  count: number;
}

export interface DecisionSummary {
  kept: RuleCount<KeepRule>[];
  expired: RuleCount<ExpireRule>[];
}

export interface FirstExpiry {
  at: string;
  checkpointId: string;
  component: string;
}

export interface PolicyForecast extends DecisionSummary {
  applyToExisting: boolean;
  /** Existing checkpoints whose retention date the policy brings forward (0 unless applyToExisting). */
  redated: number;
  /** Checkpoints the next run would remove. */
  expireNow: number;
  /** The first checkpoint that would expire later, if no new checkpoint is taken; null when every remaining one is kept by a count rule or always kept. */
  firstExpiry: FirstExpiry | null;
}

/** Each kept checkpoint under its first rule (KEEP_RULE_ORDER), each expired one under its deciding rule; rules with none left out. */
export function summarizeDecisions(decisions: readonly RetentionDecision[]): DecisionSummary {
  const kept = new Map<KeepRule, number>();
  const expired = new Map<ExpireRule, number>();
  for (const decision of decisions) {
    if (decision.action === "keep") {
      const rule = KEEP_RULE_ORDER.find((r) => decision.rules.includes(r)) ?? decision.rules[0];
      if (rule) kept.set(rule, (kept.get(rule) ?? 0) + 1);
    } else {
      expired.set(decision.rule, (expired.get(decision.rule) ?? 0) + 1);
    }
  }
  return {
    kept: KEEP_RULE_ORDER.filter((rule) => kept.has(rule)).map((rule) => ({ rule, count: kept.get(rule) as number })),
    expired: (["retention-until", "keep-days"] as const).filter((rule) => expired.has(rule)).map((rule) => ({ rule, count: expired.get(rule) as number })),
  };
}

/** The retention date `policy` gives an existing checkpoint under "apply to existing": never later than its own. */
export function redatedUntil(checkpoint: Pick<CheckpointFacts, "createdAt" | "retentionUntil">, keepDays: number | null): Date {
  const target = keepDays === null ? checkpoint.createdAt.getTime() : checkpoint.createdAt.getTime() + keepDays * DAY_MS;
  return new Date(Math.min(checkpoint.retentionUntil.getTime(), target));
}

/**
 * The checkpoints of one component with the dates `scope`'s policy in `policies`
 * gives them (those the scope governs, not pinned, whose date moves), and the
 * ones that moved.
 */
export function applyToExisting(
  component: string,
  checkpoints: readonly CheckpointFacts[],
  policies: PolicySet,
  scope: PolicyScope,
): { checkpoints: CheckpointFacts[]; moved: { id: string; retentionUntil: Date }[] } {
  const moved: { id: string; retentionUntil: Date }[] = [];
  const result = checkpoints.map((checkpoint) => {
    const policy = policies.effective(component, checkpoint.kind);
    if (policy.source !== scope || checkpoint.pinned) return checkpoint;
    const until = redatedUntil(checkpoint, policy.keepDays);
    if (until.getTime() === checkpoint.retentionUntil.getTime()) return checkpoint;
    moved.push({ id: checkpoint.id, retentionUntil: until });
    return { ...checkpoint, retentionUntil: until };
  });
  return { checkpoints: result, moved };
}

const TIME_RULES: readonly KeepRule[] = ["retention-until", "keep-days"];

/**
 * The forecast of `policies` over every component's active checkpoints (already
 * redated when applying to existing ones), as the next run would decide now.
 */
export function forecastPolicies(input: {
  checkpointsByComponent: ReadonlyMap<string, readonly CheckpointFacts[]>;
  policies: PolicySet;
  protections: ReadonlyMap<string, readonly Protection[]>;
  now: Date;
  applyToExisting: boolean;
  redated: number;
  /** The checkpoints the policy is about (its scope's): the others are decided too (a component is decided whole) but not counted. */
  governs: (component: string, kind: CheckpointKind) => boolean;
}): PolicyForecast {
  const decisions: RetentionDecision[] = [];
  let firstExpiry: FirstExpiry | null = null;
  for (const [component, checkpoints] of input.checkpointsByComponent) {
    const policyFor = (kind: CheckpointKind) => input.policies.effective(component, kind);
    const decided = decideRetention({ checkpoints, policyFor, protections: input.protections, now: input.now }).filter((d) => input.governs(component, d.kind));
    decisions.push(...decided);
    const byId = new Map(checkpoints.map((c) => [c.id, c]));
    for (const decision of decided) {
      // Kept only by time: it goes when the later of its two time limits passes (count rules and the newest stay as they are while nothing new is taken).
      if (decision.action !== "keep" || !decision.rules.every((rule) => TIME_RULES.includes(rule))) continue;
      const checkpoint = byId.get(decision.checkpointId) as CheckpointFacts;
      const { keepDays } = policyFor(checkpoint.kind);
      const at = Math.max(checkpoint.retentionUntil.getTime(), keepDays === null ? 0 : checkpoint.createdAt.getTime() + keepDays * DAY_MS);
      if (!firstExpiry || at < Date.parse(firstExpiry.at)) firstExpiry = { at: new Date(at).toISOString(), checkpointId: checkpoint.id, component };
    }
  }
  const summary = summarizeDecisions(decisions);
  return {
    ...summary,
    applyToExisting: input.applyToExisting,
    redated: input.redated,
    expireNow: decisions.filter((d) => d.action === "expire").length,
    firstExpiry,
  };
}
