/** server/retention: policies, the retention decision, two-phase cleanup, runs, schedules and the integrity sweep. See README.md. */
export {
  componentScope,
  getRetentionPolicies,
  loadPolicies,
  setRetentionPolicy,
  validateRules,
  PolicySet,
  type ComponentPolicies,
  type EffectivePolicy,
  type PolicyScope,
  type PolicySource,
  type RetentionPoliciesView,
  type RetentionPolicySetResult,
  type RetentionRules,
  type StoredPolicy,
} from "./policy";
export {
  decideRetention,
  describeRules,
  expiresEverything,
  isoWeekKey,
  utcDayKey,
  type CheckpointFacts,
  type ExpireDecision,
  type ExpireRule,
  type KeepDecision,
  type KeepRule,
  type Protection,
  type RetentionDecision,
} from "./decide";
export { DEFAULT_DRAIN_TIMEOUT_MS, DEFAULT_GRACE_MS, markExpired, planSweep, sweep, type RemovedCheckpoint, type StoredObject, type SweepPlan, type SweepResult } from "./sweep";
export { decideAll, retentionGraceMs, runRetention, type RetentionRunOptions, type RetentionRunResult } from "./run";
export { verifyAll, type CheckpointIntegrity, type VerifyAllResult } from "./integrity";
export { DEFAULT_RETENTION_INTERVAL_MS, retentionScheduleConfig, startIntegritySchedule, startRetentionSchedule, type ScheduleOptions, type StopSchedule } from "./schedule";
