"use client";

import Link from "next/link";
import type { ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { failedRollbacksHref } from "@/components/HistoryFilters";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { Time } from "@/components/ui/Time";
import { RollbackIdLink } from "@/components/timeline/RollbackLinks";
import { describeProblem } from "@/lib/trpc/api-problem";
import { formatBytes, formatCount, formatDuration, formatPercent } from "@/lib/format";
import { livePolling } from "@/lib/trpc/live-polling";

function Stat({ label, value, detail }: { label: string; value: ReactNode; detail?: ReactNode }) {
  return (
    <div className="min-w-0 rounded-lg border border-border bg-surface px-4 py-3">
      <dt className="text-xs font-medium uppercase tracking-wide text-muted">{label}</dt>
      <dd className="mt-1 truncate text-lg font-semibold tabular-nums sm:text-xl">{value}</dd>
      {detail ? <dd className="mt-0.5 text-xs leading-5 text-muted">{detail}</dd> : null}
    </div>
  );
}

/** Totals, rollback success rate and durations, the last rollback and storage used (stats.summary). */
export function StatsStrip() {
  const trpc = useTRPC();
  const summary = useQuery(trpc.stats.summary.queryOptions(undefined, livePolling));
  if (summary.isPending) return <LoadingBlock label="Loading statistics" rows={1} />;
  if (summary.isError) return <ProblemNotice problem={describeProblem(summary.error)} onRetry={() => void summary.refetch()} />;
  const { totals, rollbacks, lastRollback, storage } = summary.data;
  return (
    <section aria-label="Summary">
      <dl className="grid grid-cols-2 gap-3 md:grid-cols-3 xl:grid-cols-6">
        <Stat label="Components" value={formatCount(totals.components)} detail={`${formatCount(totals.historyEvents)} history events`} />
        <Stat
          label="Checkpoints"
          value={formatCount(totals.checkpoints)}
          detail={`${formatCount(totals.safetyCheckpoints)} safety · ${formatCount(totals.pinnedCheckpoints)} pinned`}
        />
        <Stat
          label="Rollback success"
          value={formatPercent(rollbacks.successRate)}
          detail={
            <span
              data-testid="success-detail"
              title="Counts rollbacks that ran. Those refused by a check before any change (damaged stored data, a stale confirmation, files in the way, a busy component, too little space) are counted apart, not in the rate."
            >
              {rollbacks.ran === 0 && rollbacks.failed === 0 ? (
                "no rollback ran yet"
              ) : (
                <>
                  {`${formatCount(rollbacks.succeeded + rollbacks.recovered)} of ${formatCount(rollbacks.ran)} that ran · `}
                  {rollbacks.failed > 0 ? (
                    <Link href={failedRollbacksHref("ran")} className="text-bad hover:underline" data-testid="failed-rollbacks-link" title="Rollbacks that ran and failed">
                      {formatCount(rollbacks.failed)} failed
                    </Link>
                  ) : (
                    "0 failed"
                  )}
                </>
              )}
              {rollbacks.refused > 0 ? (
                <>
                  {" · "}
                  <Link href={failedRollbacksHref("refused")} className="text-warn hover:underline" data-testid="refused-rollbacks-link" title="Rollbacks refused before any change">
                    {formatCount(rollbacks.refused)} refused
                  </Link>
                </>
              ) : null}
            </span>
          }
        />
        <Stat
          label="Rollback time"
          value={formatDuration(rollbacks.avgDurationMs)}
          detail={rollbacks.p95DurationMs === null ? "average · p95 —" : `average · p95 ${formatDuration(rollbacks.p95DurationMs)}`}
        />
        <Stat
          label="Last rollback"
          value={lastRollback ? <Time iso={lastRollback.startedAt} mode="relative" /> : "never"}
          detail={
            lastRollback ? (
              <>
                <Link href={`/components/${encodeURIComponent(lastRollback.component)}`} className="hover:underline">
                  {lastRollback.component}
                </Link>{" "}
                · <span className={lastRollback.outcome === "failed" ? "text-bad" : undefined}>{lastRollback.outcome}</span> ·{" "}
                <RollbackIdLink component={lastRollback.component} rollbackId={lastRollback.id} />
              </>
            ) : (
              "—"
            )
          }
        />
        {storage.storeBytes === null || storage.storeObjects === null ? (
          // A scoped token sees its components only; the store is shared by all of them.
          <Stat label="Checkpointed data" value={formatBytes(storage.logicalBytes)} detail="in your components, before dedup" />
        ) : (
          <Stat
            label="Storage used"
            value={formatBytes(storage.storeBytes)}
            detail={
              <span
                data-testid="storage-detail"
                title={`The checkpoints describe ${formatBytes(storage.logicalBytes)} of files; the store holds ${formatBytes(storage.storeBytes)} in ${formatCount(storage.storeObjects)} objects, because identical content is stored once (whatever the number of checkpoints or components holding it) and compressed where that pays. The store also holds each checkpoint's manifest and snapshot record, so with little repeated content it can exceed the files' size.`}
              >
                {formatCount(storage.storeObjects)} objects
                {storage.dedupRatio === null
                  ? ""
                  : storage.dedupRatio >= 1
                    ? ` · ${formatBytes(storage.logicalBytes)} of checkpointed files stored in ${formatBytes(storage.storeBytes)}: dedup and compression ${storage.dedupRatio.toFixed(1)}×`
                    : ` · more than the ${formatBytes(storage.logicalBytes)} of checkpointed files: each checkpoint also stores its manifest and record`}
              </span>
            }
          />
        )}
      </dl>
    </section>
  );
}
