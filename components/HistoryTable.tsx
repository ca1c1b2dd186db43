"use client";

import Link from "next/link";
import { Fragment } from "react";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { EmptyState } from "@/components/feedback/EmptyState";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { Button } from "@/components/ui/Button";
import { Pill } from "@/components/ui/Pill";
import { Time } from "@/components/ui/Time";
import { describeProblem } from "@/lib/trpc/api-problem";
import { historyInput, nextPage } from "@/lib/trpc/list-inputs";
import { formatBytes, formatCount, formatDuration } from "@/lib/format";
import type { HistoryFilter, HistoryItem } from "@/lib/trpc/types";

function detailNumber(details: Record<string, unknown>, key: string): number | null {
  return typeof details[key] === "number" ? (details[key] as number) : null;
}

function detailText(details: Record<string, unknown>, key: string): string | null {
  return typeof details[key] === "string" && details[key] ? (details[key] as string) : null;
}

/** The part of an event worth a glance: what a rollback did and its way back, the checkpoint it concerns. */
function EventSummary({ event }: { event: HistoryItem }) {
  const details = (event.details && typeof event.details === "object" ? event.details : {}) as Record<string, unknown>;
  const safety = detailText(details, "safetyCheckpointId");
  const restored = detailNumber(details, "restored");
  const deleted = detailNumber(details, "deleted");
  const parts = [];
  if (event.kind === "rollback" && restored !== null) parts.push(`${formatCount(restored)} restored · ${formatCount(deleted ?? 0)} deleted`);
  else if (event.files !== null) parts.push(`${formatCount(event.files)} files`);
  if (event.bytes !== null && event.bytes > 0) parts.push(formatBytes(event.bytes));
  return (
    <div className="space-y-0.5">
      {parts.length ? <p>{parts.join(" · ")}</p> : null}
      {event.checkpointId ? (
        <p>
          <span className="text-muted">{event.kind === "rollback" ? "to " : ""}</span>
          <Link href={`/checkpoints/${event.checkpointId}`} className="font-mono text-accent hover:underline">
            {event.checkpointId}
          </Link>
        </p>
      ) : null}
      {safety ? (
        <p>
          <span className="text-muted">undo: </span>
          <Link href={`/checkpoints/${safety}`} className="font-mono text-accent hover:underline">
            {safety}
          </Link>
        </p>
      ) : null}
    </div>
  );
}

/** The audit history, newest first, filtered, with "Load more"; failed operations show their error. */
export function HistoryTable({ filter }: { filter: HistoryFilter }) {
  const trpc = useTRPC();
  const history = useInfiniteQuery(trpc.history.list.infiniteQueryOptions(historyInput(filter), nextPage));
  if (!history.data) {
    if (history.isError) return <ProblemNotice problem={describeProblem(history.error)} onRetry={() => void history.refetch()} />;
    return <LoadingBlock label="Loading history" rows={5} />;
  }
  const items = history.data.pages.flatMap((page) => page.items);
  const filtered = Boolean(filter.component || filter.kind || filter.outcome || filter.actor);
  if (items.length === 0) {
    return (
      <EmptyState title={filtered ? "No events match these filters" : "No history yet"}>
        {filtered
          ? "Clear a filter to see more. Actors are matched exactly (token:<name>, cli:<user>, cron, system)."
          : "Every create, verify, rollback, delete and retention run is recorded here once it happens."}
      </EmptyState>
    );
  }
  return (
    <div className="space-y-4">
      <div className="overflow-x-auto rounded-lg border border-border bg-surface">
        <table className="w-full min-w-[860px] text-left text-sm" data-testid="history-table">
          <caption className="sr-only">Audit history, newest first</caption>
          <thead className="border-b border-border text-xs uppercase tracking-wide text-muted">
            <tr>
              <th scope="col" className="px-4 py-3 font-medium">
                When
              </th>
              <th scope="col" className="px-4 py-3 font-medium">
                Operation
              </th>
              <th scope="col" className="px-4 py-3 font-medium">
                Component
              </th>
              <th scope="col" className="px-4 py-3 font-medium">
                Actor
              </th>
              <th scope="col" className="px-4 py-3 font-medium">
                Outcome
              </th>
              <th scope="col" className="px-4 py-3 text-right font-medium">
                Took
              </th>
              <th scope="col" className="px-4 py-3 font-medium">
                Details
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((event) => {
              const failed = event.outcome === "failed";
              return (
                <Fragment key={event.id}>
                  <tr className={`align-top ${failed && event.error ? "" : "border-b border-border"} ${failed ? "bg-bad/5" : ""}`} data-kind={event.kind} data-outcome={event.outcome}>
                    <td className="whitespace-nowrap px-4 py-2.5 text-xs">
                      <Time iso={event.startedAt} mode="relative" />
                    </td>
                    <td className="px-4 py-2.5 font-mono text-xs">{event.kind}</td>
                    <td className="px-4 py-2.5">
                      {event.component ? (
                        <Link href={`/components/${encodeURIComponent(event.component)}`} className="text-accent hover:underline">
                          {event.component}
                        </Link>
                      ) : (
                        <span className="text-muted">—</span>
                      )}
                    </td>
                    <td className="px-4 py-2.5 font-mono text-xs">{event.actor}</td>
                    <td className="px-4 py-2.5">
                      <Pill tone={failed ? "bad" : "ok"}>{event.outcome}</Pill>
                    </td>
                    <td className="whitespace-nowrap px-4 py-2.5 text-right text-xs tabular-nums">{formatDuration(event.durationMs)}</td>
                    <td className="px-4 py-2.5 text-xs">
                      <EventSummary event={event} />
                    </td>
                  </tr>
                  {failed && event.error ? (
                    <tr className="border-b border-border bg-bad/5">
                      <td />
                      <td colSpan={6} className="px-4 pb-3">
                        <p className="break-words rounded-md border border-bad/30 bg-surface px-3 py-2 font-mono text-xs text-bad">
                          <span className="sr-only">Error: </span>
                          {event.error}
                        </p>
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      </div>
      <div className="flex items-center gap-3 text-sm text-muted">
        {history.hasNextPage ? (
          <Button onClick={() => void history.fetchNextPage()} disabled={history.isFetchingNextPage}>
            {history.isFetchingNextPage ? "Loading…" : "Load more"}
          </Button>
        ) : (
          <span>End of history ({formatCount(items.length)} events).</span>
        )}
        {history.isFetchNextPageError ? <span className="text-bad">Loading more failed: {history.error?.message}</span> : null}
      </div>
    </div>
  );
}
