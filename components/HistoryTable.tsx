"use client";

import Link from "next/link";
import { Fragment } from "react";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { EmptyState } from "@/components/feedback/EmptyState";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { RollbackDialog } from "@/components/RollbackDialog";
import { RollbackIdLink, UndoneByNote } from "@/components/timeline/RollbackLinks";
import { UndoRollbackDialog } from "@/components/timeline/UndoRollbackDialog";
import { Button } from "@/components/ui/Button";
import { Pill } from "@/components/ui/Pill";
import { Time } from "@/components/ui/Time";
import { rollbackBlockedReason } from "@/lib/checkpoint-state";
import { describeProblem } from "@/lib/trpc/api-problem";
import { historyInput, nextPage } from "@/lib/trpc/list-inputs";
import { formatBytes, formatCount, formatDuration } from "@/lib/format";
import type { HistoryCheckpoint, HistoryFilter, HistoryItem, ViewerRole } from "@/lib/trpc/types";
import { livePolling } from "@/lib/trpc/live-polling";

function detailNumber(details: Record<string, unknown>, key: string): number | null {
  return typeof details[key] === "number" ? (details[key] as number) : null;
}

function detailText(details: Record<string, unknown>, key: string): string | null {
  return typeof details[key] === "string" && details[key] ? (details[key] as string) : null;
}

function detailsOf(event: HistoryItem): Record<string, unknown> {
  return (event.details && typeof event.details === "object" ? event.details : {}) as Record<string, unknown>;
}

/** The part of an event worth a glance: what a rollback did and its way back, the checkpoint it concerns. */
function EventSummary({ event }: { event: HistoryItem }) {
  const details = detailsOf(event);
  const safety = detailText(details, "safetyCheckpointId");
  const rollbackId = detailText(details, "rollbackId");
  const restored = detailNumber(details, "restored");
  const deleted = detailNumber(details, "deleted");
  const parts = [];
  if (event.kind === "rollback" && restored !== null) parts.push(`${formatCount(restored)} restored · ${formatCount(deleted ?? 0)} deleted`);
  else if (event.files !== null) parts.push(`${formatCount(event.files)} files`);
  if (event.bytes !== null && event.bytes > 0) parts.push(formatBytes(event.bytes));
  return (
    <div className="min-w-0 space-y-0.5 break-all">
      {parts.length ? <p>{parts.join(" · ")}</p> : null}
      {event.kind === "rollback" && event.undoOf && event.component ? (
        <p data-testid="history-undo-of">
          <span className="text-muted">Undo of </span>
          <RollbackIdLink component={event.component} rollbackId={event.undoOf} />
        </p>
      ) : event.checkpointId ? (
        <p>
          <span className="text-muted">{event.kind === "rollback" ? "to " : ""}</span>
          <Link href={`/checkpoints/${event.checkpointId}`} className="font-mono text-accent hover:underline">
            {event.checkpointId}
          </Link>
        </p>
      ) : null}
      {rollbackId && event.kind === "rollback" ? (
        <p className="space-x-2">
          {event.component ? <RollbackIdLink component={event.component} rollbackId={rollbackId} /> : <span className="font-mono text-muted">{rollbackId}</span>}
          {event.component ? <UndoneByNote component={event.component} undoneBy={event.undoneBy} /> : null}
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

/**
 * The rollback a history row offers, through the same confirm dialog as everywhere:
 * for a rollback that ran, undo it (to its safety checkpoint); for an event about a
 * checkpoint (created, verified, pinned), roll back to that checkpoint.
 */
function RowAction({ event, checkpoints, role }: { event: HistoryItem; checkpoints: Record<string, HistoryCheckpoint>; role: ViewerRole }) {
  const details = detailsOf(event);
  let target: HistoryCheckpoint | undefined;
  const label = "Roll back…";
  if (event.kind === "rollback") {
    if (event.outcome !== "succeeded" || role === "viewer") return null;
    const safety = checkpoints[detailText(details, "safetyCheckpointId") ?? ""];
    const rollbackId = detailText(details, "rollbackId");
    if (!safety || safety.status === "deleted" || !rollbackId) return null;
    return (
      <UndoRollbackDialog
        rollback={{ id: rollbackId, component: safety.component, safetyCheckpointId: safety.id, startedAt: event.startedAt }}
        role={role}
        hidden={event.undoneBy !== null}
        blockedReason={rollbackBlockedReason(safety, role)}
        className="px-2.5 py-1 text-xs"
      />
    );
  } else if (event.checkpointId && event.kind !== "checkpoint.delete" && event.kind !== "checkpoint.expire") {
    target = checkpoints[event.checkpointId];
  }
  if (!target || target.status === "deleted") return null;
  if (role === "viewer") return null;
  return (
    <RollbackDialog
      target={{ id: target.id, component: target.component, createdAt: target.createdAt, reason: target.reason }}
      disabledReason={rollbackBlockedReason(target, role)}
      trigger={{ label, className: "px-2.5 py-1 text-xs" }}
    />
  );
}

/** A failed rollback says whether it was refused by a check before any change, or ran and failed. */
function OutcomePill({ event }: { event: HistoryItem }) {
  const failed = event.outcome === "failed";
  const refusal = event.rollbackFailure?.failure === "refused" ? (event.rollbackFailure.refusal ?? "a check") : null;
  return (
    <Pill tone={failed ? (refusal ? "warn" : "bad") : "ok"} title={refusal ? `Refused before any change (${refusal}); nothing was changed` : undefined}>
      {refusal ? "refused" : event.outcome}
    </Pill>
  );
}

/** A rollback event's anchor (the row on wide screens, the card on a phone). */
function rollbackAnchor(event: HistoryItem, where: "row" | "card"): string | undefined {
  if (event.kind !== "rollback") return undefined;
  const id = detailText(detailsOf(event), "rollbackId");
  return id ? (where === "row" ? id : `${id}-card`) : undefined;
}

function ErrorText({ error }: { error: string }) {
  return (
    <p className="break-words rounded-md border border-bad/30 bg-surface px-3 py-2 font-mono text-xs text-bad">
      <span className="sr-only">Error: </span>
      {error}
    </p>
  );
}

/** The agent and task the event was about (from its checkpoint's caller), each a link that filters the history by it. */
function AgentTask({ event }: { event: { agent: string | null; task: string | null } }) {
  if (!event.agent && !event.task) return null;
  const link = (key: "agent" | "task", value: string) => (
    <Link href={`/history?${new URLSearchParams({ [key]: value }).toString()}`} className="break-all font-mono text-accent hover:underline" title={`Only events of ${key} ${value}`}>
      {value}
    </Link>
  );
  return (
    <span className="block text-xs text-muted" data-testid="event-agent-task">
      {event.agent ? <>agent {link("agent", event.agent)}</> : null}
      {event.agent && event.task ? " · " : null}
      {event.task ? <>task {link("task", event.task)}</> : null}
    </span>
  );
}

/** The audit history, newest first, filtered, with "Load more"; failed operations show their error. Cards on a phone. */
export function HistoryTable({ filter, role }: { filter: HistoryFilter; role: ViewerRole }) {
  const trpc = useTRPC();
  const history = useInfiniteQuery(trpc.history.list.infiniteQueryOptions(historyInput(filter), { ...nextPage, ...livePolling }));
  if (!history.data) {
    if (history.isError) return <ProblemNotice problem={describeProblem(history.error)} onRetry={() => void history.refetch()} />;
    return <LoadingBlock label="Loading history" rows={5} />;
  }
  const items = history.data.pages.flatMap((page) => page.items);
  const checkpoints = Object.assign({}, ...history.data.pages.map((page) => page.checkpoints)) as Record<string, HistoryCheckpoint>;
  const filtered = Boolean(filter.component || filter.kind || filter.outcome || filter.failure || filter.actor || filter.agent || filter.task || filter.since || filter.until);
  if (items.length === 0) {
    return (
      <EmptyState title={filtered ? "No events match these filters" : "No history yet"}>
        {filtered
          ? "Clear a filter to see more. The actor matches any part of it (build-bot finds token:build-bot); days are in the zone the console shows times in."
          : "Every create, verify, rollback, delete and retention run is recorded here once it happens."}
      </EmptyState>
    );
  }
  return (
    <div className="space-y-4">
      <ol aria-label="Audit history, newest first" className="space-y-3 md:hidden" data-testid="history-cards">
        {items.map((event) => {
          const failed = event.outcome === "failed";
          return (
            <li
              key={event.id}
              className={`space-y-2 rounded-lg border p-3 text-sm ${failed ? "border-bad/40 bg-bad/5" : "border-border bg-surface"}`}
              data-testid="history-card"
              id={rollbackAnchor(event, "card")}
              data-kind={event.kind}
              data-outcome={event.outcome}
            >
              <div className="flex flex-wrap items-center justify-between gap-2">
                <span className="font-mono text-xs font-medium">{event.kind}</span>
                <OutcomePill event={event} />
              </div>
              <p className="text-xs text-muted">
                <Time iso={event.startedAt} mode="relative" /> · {formatDuration(event.durationMs)} · <span className="break-all font-mono">{event.actor}</span>
                {event.component ? (
                  <>
                    {" "}
                    ·{" "}
                    <Link href={`/components/${encodeURIComponent(event.component)}`} className="text-accent hover:underline">
                      {event.component}
                    </Link>
                  </>
                ) : null}
              </p>
              <AgentTask event={event} />
              <div className="text-xs">
                <EventSummary event={event} />
              </div>
              {failed && event.error ? <ErrorText error={event.error} /> : null}
              <div className="flex justify-end">
                <RowAction event={event} checkpoints={checkpoints} role={role} />
              </div>
            </li>
          );
        })}
      </ol>
      <div className="hidden overflow-x-auto rounded-lg border border-border bg-surface md:block">
        <table className="w-full text-left text-sm" data-testid="history-table">
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
              <th scope="col" className="px-4 py-3 font-medium">
                <span className="sr-only">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((event) => {
              const failed = event.outcome === "failed";
              return (
                <Fragment key={event.id}>
                  <tr
                    id={rollbackAnchor(event, "row")}
                    className={`align-top target:bg-accent/10 ${failed && event.error ? "" : "border-b border-border"} ${failed ? "bg-bad/5" : ""}`}
                    data-kind={event.kind}
                    data-outcome={event.outcome}
                    data-failure={event.rollbackFailure?.failure}
                  >
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
                    <td className="px-4 py-2.5 text-xs">
                      <span className="break-all font-mono">{event.actor}</span>
                      <AgentTask event={event} />
                    </td>
                    <td className="px-4 py-2.5">
                      <OutcomePill event={event} />
                    </td>
                    <td className="whitespace-nowrap px-4 py-2.5 text-right text-xs tabular-nums">{formatDuration(event.durationMs)}</td>
                    <td className="max-w-[18rem] px-4 py-2.5 text-xs">
                      <EventSummary event={event} />
                    </td>
                    <td className="px-4 py-2.5 text-right">
                      <RowAction event={event} checkpoints={checkpoints} role={role} />
                    </td>
                  </tr>
                  {failed && event.error ? (
                    <tr className="border-b border-border bg-bad/5">
                      <td />
                      <td colSpan={7} className="px-4 pb-3">
                        <ErrorText error={event.error} />
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
