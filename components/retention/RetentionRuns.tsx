"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { Pill } from "@/components/ui/Pill";
import { Time } from "@/components/ui/Time";
import { describeProblem } from "@/lib/trpc/api-problem";
import { formatBytes, formatCount, formatDuration } from "@/lib/format";

export const RETENTION_RUNS_INPUT = { kind: "retention.run" as const, limit: 10 };

function count(details: unknown, key: string): number | null {
  const value = (details as Record<string, unknown> | null)?.[key];
  return typeof value === "number" ? value : null;
}

/** The last retention runs (the history's retention.run events): when, who, counts, bytes freed. */
export function RetentionRuns() {
  const trpc = useTRPC();
  const runs = useQuery(trpc.history.list.queryOptions(RETENTION_RUNS_INPUT));
  if (runs.isPending) return <LoadingBlock label="Loading the last runs" rows={2} />;
  if (runs.isError) return <ProblemNotice problem={describeProblem(runs.error)} onRetry={() => void runs.refetch()} />;
  if (runs.data.items.length === 0) return <p className="text-sm text-muted">No retention run yet (the server runs it hourly; Run now above runs it at once).</p>;
  return (
    <ul className="divide-y divide-border rounded-lg border border-border bg-surface text-sm" data-testid="retention-runs">
      {runs.data.items.map((event) => (
        <li key={event.id} className="flex flex-wrap items-baseline gap-x-4 gap-y-1 px-4 py-2" data-testid="retention-run">
          <Time iso={event.startedAt} mode="relative" className="text-xs" />
          <Pill tone={event.outcome === "failed" ? "bad" : "ok"}>{event.outcome}</Pill>
          <span className="text-xs">
            {formatCount(count(event.details, "expired") ?? 0)} expired · {formatCount(count(event.details, "removedCheckpoints") ?? 0)} removed ·{" "}
            {formatCount(count(event.details, "objectsDeleted") ?? 0)} objects · {formatBytes(count(event.details, "bytesFreed") ?? event.bytes ?? 0)} freed
          </span>
          <span className="text-xs text-muted">
            {formatDuration(event.durationMs)} · by {event.actor}
          </span>
          {event.error ? <span className="w-full break-words font-mono text-xs text-bad">{event.error}</span> : null}
        </li>
      ))}
    </ul>
  );
}
