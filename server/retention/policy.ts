/**
 * Retention policies: load, validate, save. One row per scope:
 *   "global"            the default for every component without its own row
 *   "component:<name>"  one component's manual checkpoints
 *   "safety"            the automatic safety checkpoints taken before rollbacks
 *                       (falls back to "global" when not set)
 * With no row at all ("default") a checkpoint is kept until its retentionUntil
 * (set at creation: 7 days unless retentionDays says otherwise) and the
 * always-kept rules of decide.ts. A rule set to null is not used; a policy never
 * shortens a checkpoint's retentionUntil, unless it is saved with
 * applyToExisting (forecast.ts), which brings the dates of the checkpoints it
 * governs forward to what it gives them.
 */
import type { Core, Actor } from "../core";
import { InvalidInputError } from "../errors";
import { recordEvent } from "../audit/history";
import { DEFAULT_RETENTION_DAYS } from "../checkpoints/commit";
import { findComponentRow } from "../registry/components";
import { updateSnapshotRecord } from "../checkpoints/snapshot-record";
import type { RetentionGetInput, RetentionPolicyInput } from "../schemas";
import { describeRules, expiresEverything, type CheckpointFacts, type CheckpointKind } from "./decide";
import { applyToExisting, forecastPolicies, type PolicyForecast } from "./forecast";
import { loadInventory } from "./inventory";

export type PolicyScope = "global" | "safety" | `component:${string}`;
export type PolicySource = PolicyScope | "default";

export const RULE_NAMES = ["keepDays", "keepLast", "keepDaily", "keepWeekly"] as const;
export type RuleName = (typeof RULE_NAMES)[number];

export type RetentionRules = Record<RuleName, number | null>;

export interface StoredPolicy extends RetentionRules {
  scope: PolicyScope;
  updatedAt: string;
}

export interface EffectivePolicy extends RetentionRules {
  source: PolicySource;
}

export const NO_RULES: RetentionRules = { keepDays: null, keepLast: null, keepDaily: null, keepWeekly: null };
export const DEFAULT_POLICY: EffectivePolicy = { source: "default", ...NO_RULES };

export function componentScope(componentName: string): PolicyScope {
  return `component:${componentName}`;
}

export function rulesOf(policy: RetentionRules): RetentionRules {
  return { keepDays: policy.keepDays, keepLast: policy.keepLast, keepDaily: policy.keepDaily, keepWeekly: policy.keepWeekly };
}

/** The stored policies, and which one applies to what. */
export class PolicySet {
  private readonly byScope: Map<string, StoredPolicy>;

  constructor(policies: readonly StoredPolicy[]) {
    this.byScope = new Map(policies.map((p) => [p.scope, p]));
  }

  get(scope: PolicyScope): StoredPolicy | undefined {
    return this.byScope.get(scope);
  }

  all(): StoredPolicy[] {
    return [...this.byScope.values()].sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
  }

  /** A copy with `scope` set to `rules` (null: removed); used to evaluate a policy before saving it. */
  with(scope: PolicyScope, rules: RetentionRules | null, now: Date): PolicySet {
    const rest = this.all().filter((p) => p.scope !== scope);
    return new PolicySet(rules ? [...rest, { scope, ...rules, updatedAt: now.toISOString() }] : rest);
  }

  /** Manual checkpoints: the component's own row, else global, else the default. Safety checkpoints: safety, else global, else the default. */
  effective(componentName: string, kind: CheckpointKind): EffectivePolicy {
    const order: PolicyScope[] = kind === "safety" ? ["safety", "global"] : [componentScope(componentName), "global"];
    for (const scope of order) {
      const policy = this.byScope.get(scope);
      if (policy) return { source: scope, ...rulesOf(policy) };
    }
    return DEFAULT_POLICY;
  }
}

export async function loadPolicies(core: Core): Promise<PolicySet> {
  const rows = await core.db.retentionPolicy.findMany();
  return new PolicySet(
    rows.map((row) => ({
      scope: row.scope as PolicyScope,
      keepDays: row.keepDays,
      keepLast: row.keepLast,
      keepDaily: row.keepDaily,
      keepWeekly: row.keepWeekly,
      updatedAt: row.updatedAt.toISOString(),
    })),
  );
}

/**
 * Refuses rules that keep nothing by themselves: none set (that is the default:
 * use reset), or every one set to 0.
 */
export function validateRules(rules: RetentionRules): void {
  for (const name of RULE_NAMES) {
    const value = rules[name];
    if (value !== null && (!Number.isInteger(value) || value < 0)) throw new InvalidInputError(`invalid ${name}: must be a whole number ≥ 0`, { field: name });
  }
  if (RULE_NAMES.every((name) => rules[name] === null)) {
    throw new InvalidInputError("a retention policy needs at least one of keepDays, keepLast, keepDaily, keepWeekly (use reset to go back to the default)", { field: "policy" });
  }
  if (RULE_NAMES.every((name) => !rules[name])) {
    throw new InvalidInputError(`refused: a policy of ${describeRules(rules)} keeps nothing and would delete every checkpoint of every component it applies to once its retentionUntil passes; keep at least 1 of something (e.g. keepLast 1)`, {
      field: "policy",
    });
  }
}

export async function savePolicy(core: Core, scope: PolicyScope, rules: RetentionRules | null): Promise<StoredPolicy | null> {
  if (!rules) {
    await core.db.retentionPolicy.deleteMany({ where: { scope } });
    return null;
  }
  const data = rulesOf(rules);
  const row = await core.db.retentionPolicy.upsert({ where: { scope }, create: { scope, ...data }, update: data });
  return { scope, ...data, updatedAt: row.updatedAt.toISOString() };
}

export interface ComponentPolicies {
  component: string;
  manual: EffectivePolicy;
  safety: EffectivePolicy;
}

export interface RetentionPoliciesView {
  /** Days a checkpoint is kept when created without retentionDays (its retentionUntil). */
  defaultRetentionDays: number;
  /** The configured rows (for one component: global, safety and its own). */
  policies: StoredPolicy[];
  /** What applies to each component (or to the one asked for). */
  effective: ComponentPolicies[];
}

/** `components`: only these components' policies (a scoped token's view; global and safety always apply); null or absent: all. */
export async function getRetentionPolicies(core: Core, input: RetentionGetInput = {}, options: { components?: readonly string[] | null } = {}): Promise<RetentionPoliciesView> {
  const set = await loadPolicies(core);
  const inScope = input.component ? [input.component] : (options.components ?? null);
  const names = input.component
    ? [(await findComponentRow(core, input.component)).name]
    : (await core.db.component.findMany({ where: inScope ? { name: { in: [...inScope] } } : undefined, select: { name: true }, orderBy: { name: "asc" } })).map((c) => c.name);
  const wanted = inScope ? new Set<string>(["global", "safety", ...inScope.map(componentScope)]) : null;
  return {
    defaultRetentionDays: DEFAULT_RETENTION_DAYS,
    policies: set.all().filter((p) => !wanted || wanted.has(p.scope)),
    effective: names.map((component) => ({ component, manual: set.effective(component, "manual"), safety: set.effective(component, "safety") })),
  };
}

export interface RetentionPolicySetResult {
  scope: PolicyScope;
  /** The stored policy (on a dry run: the one that would be), or null after a reset. */
  policy: StoredPolicy | null;
  previous: StoredPolicy | null;
  /** True when nothing was saved: the result only says what the policy would do. */
  dryRun: boolean;
  /** What the policy means for the existing checkpoints (forecast.ts). */
  forecast: PolicyForecast;
}

export function scopeOf(input: Pick<RetentionPolicyInput, "component" | "safety">): PolicyScope {
  if (input.component && input.safety) throw new InvalidInputError("give either a component or safety, not both", { field: "safety" });
  return input.component ? componentScope(input.component) : input.safety ? "safety" : "global";
}

/**
 * Names the components whose every active checkpoint `candidate` would expire now
 * (ignoring the newest-checkpoint safety net), with a short description each.
 */
export function componentsEmptiedBy(checkpointsByComponent: ReadonlyMap<string, readonly CheckpointFacts[]>, candidate: PolicySet, now: Date): string[] {
  const emptied: string[] = [];
  for (const [component, checkpoints] of checkpointsByComponent) {
    if (expiresEverything({ checkpoints, policyFor: (kind) => candidate.effective(component, kind), now })) {
      const newest = checkpoints.reduce((a, b) => (b.createdAt > a.createdAt ? b : a));
      emptied.push(`${component} (${checkpoints.length} checkpoint(s), newest ${newest.createdAt.toISOString()})`);
    }
  }
  return emptied;
}

/**
 * Sets (or with `reset` removes) the policy of one scope; refuses a policy that
 * would delete every checkpoint of a component. With `applyToExisting` the
 * existing checkpoints it governs get the retention dates it gives (forecast.ts);
 * with `dryRun` nothing is saved and the forecast says what it would do.
 */
export async function setRetentionPolicy(core: Core, input: RetentionPolicyInput, actor: Actor): Promise<RetentionPolicySetResult> {
  const startedAt = core.now();
  const t0 = performance.now();
  const scope = scopeOf(input);
  if (input.component) await findComponentRow(core, input.component);
  const current = await loadPolicies(core);
  const previous = current.get(scope) ?? null;
  const rules: RetentionRules | null = input.reset
    ? null
    : { keepDays: input.keepDays ?? null, keepLast: input.keepLast ?? null, keepDaily: input.keepDaily ?? null, keepWeekly: input.keepWeekly ?? null };
  if (rules) validateRules(rules);
  const candidate = current.with(scope, rules, startedAt);
  const inventory = await loadInventory(core, startedAt);
  const checkpointsByComponent = new Map<string, CheckpointFacts[]>();
  const moved: { id: string; retentionUntil: Date }[] = [];
  for (const [component, checkpoints] of inventory.checkpointsByComponent) {
    if (!input.applyToExisting) {
      checkpointsByComponent.set(component, [...checkpoints]);
      continue;
    }
    const applied = applyToExisting(component, checkpoints, candidate, scope);
    checkpointsByComponent.set(component, applied.checkpoints);
    moved.push(...applied.moved);
  }
  if (rules) {
    const emptied = componentsEmptiedBy(checkpointsByComponent, candidate, startedAt);
    if (emptied.length > 0) {
      throw new InvalidInputError(
        `refused: a ${scope} policy of ${describeRules(rules)}${input.applyToExisting ? " applied to existing checkpoints" : ""} would delete every checkpoint of ${emptied.join(", ")}; add keepLast 1 (or keepDaily / keepWeekly), or pin a checkpoint to keep`,
        { field: "policy", components: emptied },
      );
    }
  }
  const forecast = forecastPolicies({
    checkpointsByComponent,
    policies: candidate,
    protections: inventory.protections,
    now: startedAt,
    applyToExisting: input.applyToExisting ?? false,
    redated: moved.length,
    governs: (component, kind) => candidate.effective(component, kind).source === scope || current.effective(component, kind).source === scope,
  });
  if (input.dryRun) {
    return { scope, policy: rules ? { scope, ...rules, updatedAt: startedAt.toISOString() } : null, previous, dryRun: true, forecast };
  }
  const policy = await savePolicy(core, scope, rules);
  if (moved.length > 0) await redateCheckpoints(core, moved);
  await recordEvent(core, {
    kind: "retention.set",
    component: input.component ?? null,
    actor,
    outcome: "succeeded",
    startedAt,
    durationMs: performance.now() - t0,
    details: { scope, policy: policy ? rulesOf(policy) : null, previous: previous ? rulesOf(previous) : null, applyToExisting: input.applyToExisting ?? false, redated: moved.length },
  });
  return { scope, policy, previous, dryRun: false, forecast };
}

/** Writes the new retention dates, in the database (in transactions of a few hundred) and in the store's snapshot records (a rebuilt database keeps them). */
async function redateCheckpoints(core: Core, moved: readonly { id: string; retentionUntil: Date }[]): Promise<void> {
  const BATCH = 500;
  for (let i = 0; i < moved.length; i += BATCH) {
    await core.db.$transaction(moved.slice(i, i + BATCH).map((m) => core.db.checkpoint.update({ where: { id: m.id }, data: { retentionUntil: m.retentionUntil } })));
  }
  for (const m of moved) updateSnapshotRecord(core.store, m.id, { retentionUntil: m.retentionUntil.toISOString() });
  await core.store.flushRemote();
}
