/**
 * The retention decision, restic `forget` style: a pure function from the active
 * checkpoints of one component, the effective policies and the time to keep or
 * expire for every checkpoint, with the rules that decided it.
 *
 * A checkpoint is kept when at least one rule keeps it:
 *   always      pinned · newest of its component · in-flight rollback · pending rollback plan
 *   time        retention-until (now < its retentionUntil) · keep-days (created within keepDays)
 *   count       keep-last N (the N newest)
 *   buckets     keep-daily N / keep-weekly N: the newest checkpoint of each of the N most
 *               recent UTC days / ISO weeks that have checkpoints
 * Count and bucket rules apply per kind: manual checkpoints under the component's
 * policy, safety checkpoints under the safety policy. Otherwise it expires, and the
 * deciding rule is the later of its two time limits (retention-until or keep-days).
 */
import type { EffectivePolicy, PolicySource, RetentionRules } from "./policy";

export const DAY_MS = 86_400_000;

export type CheckpointKind = "manual" | "safety";

/** What the decision needs to know of a checkpoint. */
export interface CheckpointFacts {
  id: string;
  component: string;
  kind: CheckpointKind;
  createdAt: Date;
  retentionUntil: Date;
  pinned: boolean;
}

export type ProtectionRule = "in-flight-rollback" | "pending-plan";

/** A transient reason to keep a checkpoint, found outside the checkpoint itself (a journal, a confirm token). */
export interface Protection {
  rule: ProtectionRule;
  detail: string;
}

export type KeepRule = "pinned" | "newest" | ProtectionRule | "retention-until" | "keep-days" | "keep-last" | "keep-daily" | "keep-weekly";
export type ExpireRule = "retention-until" | "keep-days";

interface DecisionBase {
  checkpointId: string;
  component: string;
  kind: CheckpointKind;
  createdAt: string;
  retentionUntil: string;
  /** Where the policy applied to this checkpoint came from. */
  policy: PolicySource;
  /** Human-readable: why. */
  reason: string;
}

export interface KeepDecision extends DecisionBase {
  action: "keep";
  /** Every rule that keeps it (at least one). */
  rules: KeepRule[];
}

export interface ExpireDecision extends DecisionBase {
  action: "expire";
  rule: ExpireRule;
}

export type RetentionDecision = KeepDecision | ExpireDecision;

export interface DecideInput {
  /** The active checkpoints of one component (any order). */
  checkpoints: readonly CheckpointFacts[];
  policyFor: (kind: CheckpointKind) => EffectivePolicy;
  now: Date;
  protections?: ReadonlyMap<string, readonly Protection[]>;
  /** Keep the newest checkpoint of the component whatever the rules say (default true; off only to evaluate a policy alone). */
  keepNewest?: boolean;
}

/** `keepDays 7, keepLast 5`, or `no rules`. */
export function describeRules(rules: RetentionRules): string {
  const parts = (["keepDays", "keepLast", "keepDaily", "keepWeekly"] as const).filter((name) => rules[name] !== null).map((name) => `${name} ${rules[name]}`);
  return parts.length > 0 ? parts.join(", ") : "no rules";
}

/** `2025-01-31`: the UTC calendar day. */
export function utcDayKey(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** `2025-W05`: the ISO 8601 week (Monday first; week 1 holds the year's first Thursday), in UTC. */
export function isoWeekKey(date: Date): string {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday); // the Thursday of this week decides the year
  const year = day.getUTCFullYear();
  const week = Math.ceil(((day.getTime() - Date.UTC(year, 0, 1)) / DAY_MS + 1) / 7);
  return `${year}-W${String(week).padStart(2, "0")}`;
}

/** Newest first; ids are time-sortable, so they break ties between equal timestamps. */
export function newestFirst(a: CheckpointFacts, b: CheckpointFacts): number {
  const byTime = b.createdAt.getTime() - a.createdAt.getTime();
  return byTime !== 0 ? byTime : a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

type Notes = Map<string, { rules: KeepRule[]; notes: string[] }>;

function note(notes: Notes, id: string, rule: KeepRule, text: string): void {
  let entry = notes.get(id);
  if (!entry) notes.set(id, (entry = { rules: [], notes: [] }));
  if (!entry.rules.includes(rule)) entry.rules.push(rule);
  entry.notes.push(text);
}

/** restic's bucket walk: newest first, the first checkpoint of each new bucket is kept until `count` buckets are used. */
function keepBuckets(notes: Notes, group: readonly CheckpointFacts[], count: number | null, rule: KeepRule, bucketOf: (c: CheckpointFacts, index: number) => string, label: string): void {
  if (!count || count <= 0) return;
  let used = 0;
  let last: string | undefined;
  group.forEach((checkpoint, index) => {
    if (used >= count) return;
    const bucket = bucketOf(checkpoint, index);
    if (bucket === last) return;
    last = bucket;
    used++;
    note(notes, checkpoint.id, rule, `${label} (${rule === "keep-last" ? `#${used}` : bucket})`);
  });
}

export function decideRetention(input: DecideInput): RetentionDecision[] {
  const now = input.now.getTime();
  const sorted = [...input.checkpoints].sort(newestFirst);
  const notes: Notes = new Map();

  const newest = sorted[0];
  if (newest && input.keepNewest !== false) note(notes, newest.id, "newest", `newest checkpoint of ${newest.component}`);

  for (const checkpoint of sorted) {
    if (checkpoint.pinned) note(notes, checkpoint.id, "pinned", "pinned");
    for (const protection of input.protections?.get(checkpoint.id) ?? []) note(notes, checkpoint.id, protection.rule, protection.detail);
    if (checkpoint.retentionUntil.getTime() > now) note(notes, checkpoint.id, "retention-until", `retentionUntil ${checkpoint.retentionUntil.toISOString()} not reached`);
    const { keepDays } = input.policyFor(checkpoint.kind);
    if (keepDays !== null && checkpoint.createdAt.getTime() + keepDays * DAY_MS > now) {
      note(notes, checkpoint.id, "keep-days", `within keepDays ${keepDays} (until ${new Date(checkpoint.createdAt.getTime() + keepDays * DAY_MS).toISOString()})`);
    }
  }

  for (const kind of ["manual", "safety"] as const) {
    const group = sorted.filter((c) => c.kind === kind);
    if (group.length === 0) continue;
    const policy = input.policyFor(kind);
    keepBuckets(notes, group, policy.keepLast, "keep-last", (c) => c.id, `keepLast ${policy.keepLast}`);
    keepBuckets(notes, group, policy.keepDaily, "keep-daily", (c) => utcDayKey(c.createdAt), `keepDaily ${policy.keepDaily}`);
    keepBuckets(notes, group, policy.keepWeekly, "keep-weekly", (c) => isoWeekKey(c.createdAt), `keepWeekly ${policy.keepWeekly}`);
  }

  return sorted.map((checkpoint): RetentionDecision => {
    const policy = input.policyFor(checkpoint.kind);
    const base: DecisionBase = {
      checkpointId: checkpoint.id,
      component: checkpoint.component,
      kind: checkpoint.kind,
      createdAt: checkpoint.createdAt.toISOString(),
      retentionUntil: checkpoint.retentionUntil.toISOString(),
      policy: policy.source,
      reason: "",
    };
    const kept = notes.get(checkpoint.id);
    if (kept) return { ...base, action: "keep", rules: kept.rules, reason: kept.notes.join("; ") };
    const keepDaysUntil = policy.keepDays === null ? null : checkpoint.createdAt.getTime() + policy.keepDays * DAY_MS;
    const rule: ExpireRule = keepDaysUntil !== null && keepDaysUntil > checkpoint.retentionUntil.getTime() ? "keep-days" : "retention-until";
    const limit = rule === "keep-days" ? `keepDays ${policy.keepDays} ended ${new Date(keepDaysUntil as number).toISOString()}` : `retentionUntil ${checkpoint.retentionUntil.toISOString()} passed`;
    const policyText = policy.source === "default" ? "no retention policy configured" : `not kept by the ${policy.source} policy (${describeRules(policy)})`;
    return { ...base, action: "expire", rule, reason: `${limit}; ${policyText}` };
  });
}

/**
 * True when `policyFor` alone, applied now, would expire every checkpoint of the
 * component: the newest-checkpoint safety net and transient protections are left
 * out, pinned checkpoints count (they stay). Used to refuse such a policy.
 */
export function expiresEverything(input: Omit<DecideInput, "protections" | "keepNewest">): boolean {
  if (input.checkpoints.length === 0) return false;
  return decideRetention({ ...input, keepNewest: false }).every((d) => d.action === "expire");
}
