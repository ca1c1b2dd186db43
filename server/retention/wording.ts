/**
 * A retention decision summary in words, for the console and the CLI:
 * "kept: 240 by their own retention date, 50 by keep-last, 1 pinned".
 */
import type { ExpireRule, KeepRule } from "./decide";
import type { RuleCount } from "./forecast";

const KEPT_BY: Record<KeepRule, string> = {
  pinned: "pinned",
  "in-flight-rollback": "used by a rollback in progress",
  "pending-plan": "named by an open rollback plan",
  newest: "as the newest of their component",
  "retention-until": "by their own retention date",
  "keep-days": "by keep-days",
  "keep-last": "by keep-last",
  "keep-daily": "by keep-daily",
  "keep-weekly": "by keep-weekly",
};

const REMOVED_FOR: Record<ExpireRule, string> = {
  "retention-until": "past their own retention date",
  "keep-days": "past keep-days",
};

function total(counts: readonly RuleCount<string>[]): number {
  return counts.reduce((sum, c) => sum + c.count, 0);
}

/** `kept: 240 by their own retention date, 50 by keep-last, 1 pinned` (or `kept: none`). */
export function keptInWords(counts: readonly RuleCount<KeepRule>[]): string {
  return `kept: ${total(counts) === 0 ? "none" : counts.map((c) => `${c.count} ${KEPT_BY[c.rule]}`).join(", ")}`;
}

/** `would remove: 12 past their own retention date` (or `would remove: none`); `removed:` after a run. */
export function removedInWords(counts: readonly RuleCount<ExpireRule>[], dryRun: boolean): string {
  return `${dryRun ? "would remove" : "removed"}: ${total(counts) === 0 ? "none" : counts.map((c) => `${c.count} ${REMOVED_FOR[c.rule]}`).join(", ")}`;
}
