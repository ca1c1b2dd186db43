"use client";

import Link from "next/link";
import { useEffect, useRef } from "react";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { useConsolePreferences } from "@/components/providers/ConsolePreferencesProvider";
import { CheckpointCard } from "@/components/CheckpointCard";
import { EmptyState } from "@/components/feedback/EmptyState";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { EventEntry } from "@/components/timeline/EventEntry";
import { RollbackEntry } from "@/components/timeline/RollbackEntry";
import { QuietRun } from "@/components/timeline/QuietRun";
import { collapseQuietRuns, type TimelineRow } from "@/components/timeline/quiet-runs";
import { CompactCheckpointRow } from "@/components/timeline/CompactCheckpointRow";
import { TimelineRow as TimelineRowItem } from "@/components/timeline/TimelineRow";
import { dayCounts, FILTER_INPUT_ID, TimelineControls } from "@/components/timeline/TimelineControls";
import { useTimelineShortcuts } from "@/components/timeline/useTimelineShortcuts";
import type { ShortcutsHelpHandle } from "@/components/timeline/KeyboardShortcutsHelp";
import { Button } from "@/components/ui/Button";
import { Time } from "@/components/ui/Time";
import { describeProblem } from "@/lib/trpc/api-problem";
import { nextPage, timelineDaysInput, timelineInput, type TimelineView } from "@/lib/trpc/list-inputs";
import { formatCount } from "@/lib/format";
import { livePolling } from "@/lib/trpc/live-polling";
import type { TimelineItem, ViewerRole } from "@/lib/trpc/types";
import { dayInZone } from "@/server/timeline/zoned-time";

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "Tuesday 25 Nov 2026" for a calendar day. */
function dayLabel(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  return `${WEEKDAYS[date.getUTCDay()]} ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

/** Consecutive items by calendar day in `timeZone` (the zone times are shown in). */
function groupByDay(items: TimelineItem[], timeZone: string): { day: string; items: TimelineItem[] }[] {
  const groups: { day: string; items: TimelineItem[] }[] = [];
  for (const item of items) {
    const day = dayInZone(Date.parse(item.at), timeZone);
    const last = groups[groups.length - 1];
    if (last?.day === day) last.items.push(item);
    else groups.push({ day, items: [item] });
  }
  return groups;
}

function itemKey(item: TimelineItem): string {
  return item.type === "checkpoint" ? item.checkpoint.id : item.type === "rollback" ? item.rollback.id : item.event.id;
}

function rowKey(row: TimelineRow): string {
  return row.type === "item" ? itemKey(row.item) : `quiet-${row.items[row.items.length - 1]?.checkpoint.id ?? ""}`;
}

function dotColour(row: TimelineRow): string {
  if (row.type === "quiet") return "bg-border";
  const item = row.item;
  return item.type === "rollback" ? "bg-info" : item.type === "event" ? "bg-border" : item.checkpoint.kind === "safety" ? "bg-info" : "bg-accent";
}

function LiveMatchLine({ component, shownIds }: { component: string; shownIds: Set<string> }) {
  const trpc = useTRPC();
  const live = useQuery(trpc.component.liveMatch.queryOptions({ name: component }, { staleTime: 0, refetchOnWindowFocus: false, ...livePolling }));
  if (live.isPending) return <p className="text-xs text-muted">Comparing the live workspace with the checkpoints…</p>;
  if (live.isError) return <p className="text-xs text-muted">Could not compare the live workspace: {describeProblem(live.error).message}</p>;
  const match = live.data.checkpointId;
  return (
    <p className="text-xs text-muted" data-testid="live-match" data-checkpoint-id={match ?? ""} data-partial={live.data.partial ? "true" : undefined}>
      {match ? (
        <>
          The live workspace matches checkpoint{" "}
          <Link href={`/checkpoints/${match}`} className="font-mono text-accent hover:underline">
            {match}
          </Link>{" "}
          {live.data.partial ? "in its scope (its paths only; files outside it were not compared)" : "exactly"}
          {shownIds.has(match) ? " (marked below)" : ""}.
        </>
      ) : (
        `The live workspace matches none of the ${formatCount(live.data.compared)} newest checkpoints: it changed since the last one.`
      )}
    </p>
  );
}

/**
 * A component's checkpoints, rollbacks, verifications and removals on one time
 * axis, grouped by day in the zone times are shown in, newest first (or from the
 * instant jumped to), with "Load older". Each row is one tab stop; `j`/`k`, `/` and
 * `?` work anywhere on the page while no field has focus.
 */
export function ComponentTimeline({ component, role, view }: { component: string; role: ViewerRole; view: TimelineView }) {
  const trpc = useTRPC();
  const { zone, compact } = useConsolePreferences();
  const timeline = useInfiniteQuery(trpc.component.timeline.infiniteQueryOptions(timelineInput(component, view), { ...nextPage, ...livePolling }));
  const days = useQuery(trpc.component.timelineDays.queryOptions(timelineDaysInput(component, zone), { placeholderData: (previous) => previous, ...livePolling }));
  const live = useQuery(trpc.component.liveMatch.queryOptions({ name: component }, { staleTime: 0, refetchOnWindowFocus: false, ...livePolling }));
  const dayList = days.data?.days ?? [];
  const daysByKey = new Map(dayList.map((d) => [d.day, d]));
  const items = timeline.data?.pages.flatMap((page) => page.items) ?? [];
  const shownIds = new Set(items.flatMap((i) => (i.type === "checkpoint" ? [i.checkpoint.id] : [])));
  const liveId = live.data?.checkpointId ?? null;
  const groups = groupByDay(items, zone).map((group) => ({ ...group, rows: collapseQuietRuns(group.items, liveId) }));
  const rowCount = groups.reduce((n, group) => n + group.rows.length, 0);

  const list = useRef<HTMLDivElement>(null);
  const help = useRef<ShortcutsHelpHandle>(null);
  useTimelineShortcuts({
    container: list,
    rowCount,
    loadMore: () => {
      if (!timeline.hasNextPage) return false;
      if (!timeline.isFetchingNextPage) void timeline.fetchNextPage();
      return true;
    },
    focusFilter: () => document.getElementById(FILTER_INPUT_ID)?.focus(),
    openHelp: () => help.current?.open(),
  });

  // A jump lands on the checkpoint nearest the instant: the newest one at or before it gets focus.
  const focusedJump = useRef<string | null>(null);
  const loaded = Boolean(timeline.data);
  useEffect(() => {
    if (!view.at || !loaded || focusedJump.current === view.at) return;
    focusedJump.current = view.at;
    const row = list.current?.querySelector<HTMLElement>("[data-row-checkpoint-id]") ?? list.current?.querySelector<HTMLElement>("[data-timeline-row]");
    row?.focus({ preventScroll: true });
    row?.scrollIntoView({ block: "center" });
  }, [view.at, loaded]);

  const newestHref = `/components/${encodeURIComponent(component)}${view.q ? `?q=${encodeURIComponent(view.q)}` : ""}`;
  return (
    <div className="space-y-4">
      <TimelineControls key={`${view.at ?? ""}|${zone}`} component={component} view={view} days={dayList} help={help} />
      <div className="space-y-1">
        <p className="text-xs text-muted" data-testid="timeline-position">
          Checkpoints are manual and active unless marked otherwise.{" "}
          {view.at ? (
            <>
              From <Time iso={view.at} mode="absolute" />, older below.{" "}
              <Link href={newestHref} scroll={false} className="text-accent hover:underline">
                Back to the newest
              </Link>
            </>
          ) : (
            "Newest first."
          )}
        </p>
        <LiveMatchLine component={component} shownIds={shownIds} />
        {view.damaged ? (
          <p className="text-sm" data-testid="damaged-view">
            <strong className="text-bad">Damaged checkpoints only</strong>: active checkpoints whose last check found corrupt or missing stored objects (Roll back is disabled on
            them).{" "}
            <Link href={`/components/${encodeURIComponent(component)}`} scroll={false} className="text-accent hover:underline">
              Show the whole timeline
            </Link>
          </p>
        ) : null}
      </div>
      {!timeline.data ? (
        timeline.isError ? (
          <ProblemNotice problem={describeProblem(timeline.error)} onRetry={() => void timeline.refetch()} />
        ) : (
          <LoadingBlock label="Loading the timeline" rows={4} />
        )
      ) : items.length === 0 ? (
        view.damaged ? (
          <EmptyState title="No damaged checkpoints">Every active checkpoint of this component passed its last check (or was not checked yet).</EmptyState>
        ) : view.q || view.at ? (
          <EmptyState title="Nothing matches">
            {view.q ? `Nothing on this timeline matches “${view.q}”${view.at ? " up to that time" : ""}.` : "Nothing on this timeline up to that time."} Clear the filter to see
            everything.
          </EmptyState>
        ) : (
          <EmptyState title="No checkpoints yet">
            Take one with Take checkpoint above before an agent starts, or from a terminal:{" "}
            <code className="font-mono">npx safetynet checkpoint create {component} --reason &quot;before refactor&quot;</code>.
          </EmptyState>
        )
      ) : (
        <>
          <div ref={list} className="space-y-6" data-compact={compact ? "true" : undefined}>
            {groups.map((group) => (
              <section key={group.day} aria-labelledby={`day-${group.day}`} data-testid="timeline-day" data-day={group.day} className="space-y-3">
                <h3 id={`day-${group.day}`} className="sticky top-0 z-10 flex flex-wrap items-baseline justify-between gap-2 bg-background/95 py-1 text-sm font-semibold backdrop-blur">
                  <span>{dayLabel(group.day)}</span>
                  <span className="text-xs font-normal text-muted">{dayCounts(daysByKey.get(group.day))}</span>
                </h3>
                <ol aria-label={`${dayLabel(group.day)}`} className={`relative border-l-2 border-border pl-4 sm:pl-5 ${compact ? "space-y-1" : "space-y-3"}`}>
                  {group.rows.map((row) => (
                    <TimelineRowItem key={rowKey(row)} checkpointId={row.type === "item" && row.item.type === "checkpoint" ? row.item.checkpoint.id : undefined}>
                      <span
                        aria-hidden="true"
                        className={`absolute -left-[23px] ${row.type === "quiet" || compact ? "top-3" : "top-5"} h-3 w-3 rounded-full border-2 border-background sm:-left-[27px] ${dotColour(row)}`}
                      />
                      {row.type === "quiet" ? (
                        <QuietRun items={row.items} role={role} compact={compact} />
                      ) : row.item.type === "checkpoint" ? (
                        compact ? (
                          <CompactCheckpointRow checkpoint={row.item.checkpoint} role={role} matchesLive={row.item.checkpoint.id === liveId} />
                        ) : (
                          <CheckpointCard checkpoint={row.item.checkpoint} role={role} matchesLive={row.item.checkpoint.id === liveId} />
                        )
                      ) : row.item.type === "rollback" ? (
                        <RollbackEntry rollback={row.item.rollback} component={component} role={role} />
                      ) : (
                        <EventEntry event={row.item.event} />
                      )}
                    </TimelineRowItem>
                  ))}
                </ol>
              </section>
            ))}
          </div>
          <div className="flex flex-wrap items-center gap-3 text-sm text-muted">
            {timeline.hasNextPage ? (
              <Button onClick={() => void timeline.fetchNextPage()} disabled={timeline.isFetchingNextPage}>
                {timeline.isFetchingNextPage ? "Loading…" : "Load older"}
              </Button>
            ) : (
              <span>The beginning of this timeline.</span>
            )}
            {dayList.length > 1 ? <span>or jump to any day or time above.</span> : null}
            {timeline.isFetchNextPageError ? <span className="text-bad">Loading more failed: {timeline.error?.message}</span> : null}
          </div>
        </>
      )}
    </div>
  );
}
