"use client";

import Link from "next/link";
import Form from "next/form";
import { usePathname, useRouter } from "next/navigation";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { CheckpointCard } from "@/components/CheckpointCard";
import { EmptyState } from "@/components/feedback/EmptyState";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { EventEntry } from "@/components/timeline/EventEntry";
import { RollbackEntry } from "@/components/timeline/RollbackEntry";
import { QuietRun } from "@/components/timeline/QuietRun";
import { collapseQuietRuns, type TimelineRow } from "@/components/timeline/quiet-runs";
import { Button } from "@/components/ui/Button";
import { describeProblem } from "@/lib/trpc/api-problem";
import { nextPage, timelineInput, type TimelineView } from "@/lib/trpc/list-inputs";
import { formatCount } from "@/lib/format";
import { livePolling } from "@/lib/trpc/live-polling";
import type { TimelineDay, TimelineItem, ViewerRole } from "@/lib/trpc/types";

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "Tuesday 25 Nov 2026" for a UTC day. */
function dayLabel(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  return `${WEEKDAYS[date.getUTCDay()]} ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

function dayCounts(day: TimelineDay | undefined): string {
  if (!day) return "";
  const parts = [`${formatCount(day.checkpoints)} checkpoint${day.checkpoints === 1 ? "" : "s"}`];
  if (day.rollbacks) parts.push(`${formatCount(day.rollbacks)} rollback${day.rollbacks === 1 ? "" : "s"}`);
  if (day.events) parts.push(`${formatCount(day.events)} other`);
  return parts.join(" · ");
}

function groupByDay(items: TimelineItem[]): { day: string; items: TimelineItem[] }[] {
  const groups: { day: string; items: TimelineItem[] }[] = [];
  for (const item of items) {
    const day = item.at.slice(0, 10);
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

/** The date jump and the text filter; both live in the URL, so a view can be shared and the server renders it. */
function TimelineControls({ component, view, days }: { component: string; view: TimelineView; days: TimelineDay[] }) {
  const router = useRouter();
  const pathname = usePathname() ?? `/components/${encodeURIComponent(component)}`;
  const go = (next: TimelineView) => {
    const params = new URLSearchParams();
    if (next.q) params.set("q", next.q);
    if (next.day) params.set("day", next.day);
    const query = params.toString();
    router.push(query ? `${pathname}?${query}` : pathname, { scroll: false });
  };
  return (
    <div className="flex flex-wrap items-end gap-3 rounded-lg border border-border bg-surface p-3">
      <div className="flex flex-col gap-1">
        <label htmlFor="timeline-day" className="text-xs font-medium text-muted">
          Jump to day
        </label>
        <select
          id="timeline-day"
          value={view.day ?? ""}
          onChange={(event) => go({ ...view, day: event.target.value || undefined })}
          className="max-w-[16rem] rounded-md border border-border bg-background px-2.5 py-1.5 text-sm"
        >
          <option value="">Newest first</option>
          {days.map((d) => (
            <option key={d.day} value={d.day}>
              {d.day} · {dayCounts(d)}
            </option>
          ))}
          {view.day && !days.some((d) => d.day === view.day) ? <option value={view.day}>{view.day}</option> : null}
        </select>
      </div>
      <Form action={pathname} scroll={false} className="flex flex-1 flex-wrap items-end gap-2" role="search" aria-label="Filter the timeline">
        <div className="flex min-w-[12rem] flex-1 flex-col gap-1">
          <label htmlFor="timeline-q" className="text-xs font-medium text-muted">
            Filter by reason, agent, task or id
          </label>
          <input
            id="timeline-q"
            name="q"
            key={view.q ?? ""}
            defaultValue={view.q ?? ""}
            placeholder="e.g. refactor-bot, TASK-42, cp_01…"
            className="rounded-md border border-border bg-background px-2.5 py-1.5 text-sm"
          />
        </div>
        {view.day ? <input type="hidden" name="day" value={view.day} /> : null}
        <Button type="submit" className="py-1.5">
          Filter
        </Button>
        {view.q || view.day ? (
          <Link href={pathname} scroll={false} className="py-1.5 text-sm text-muted hover:text-foreground">
            Clear
          </Link>
        ) : null}
      </Form>
    </div>
  );
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
 * axis, grouped by day, newest first (or from the day jumped to), with "Load older".
 */
export function ComponentTimeline({ component, role, view }: { component: string; role: ViewerRole; view: TimelineView }) {
  const trpc = useTRPC();
  const timeline = useInfiniteQuery(trpc.component.timeline.infiniteQueryOptions(timelineInput(component, view), { ...nextPage, ...livePolling }));
  const days = useQuery(trpc.component.timelineDays.queryOptions({ name: component }, livePolling));
  const live = useQuery(trpc.component.liveMatch.queryOptions({ name: component }, { staleTime: 0, refetchOnWindowFocus: false, ...livePolling }));
  const dayList = days.data?.days ?? [];
  const daysByKey = new Map(dayList.map((d) => [d.day, d]));
  const items = timeline.data?.pages.flatMap((page) => page.items) ?? [];
  const shownIds = new Set(items.flatMap((i) => (i.type === "checkpoint" ? [i.checkpoint.id] : [])));
  const liveId = live.data?.checkpointId ?? null;

  return (
    <div className="space-y-4">
      <TimelineControls component={component} view={view} days={dayList} />
      <div className="space-y-1">
        <p className="text-xs text-muted">
          Checkpoints are manual and active unless marked otherwise. {view.day ? `From the end of ${view.day}, older first below.` : "Newest first."}
          {view.day ? (
            <>
              {" "}
              <Link href={`/components/${encodeURIComponent(component)}${view.q ? `?q=${encodeURIComponent(view.q)}` : ""}`} scroll={false} className="text-accent hover:underline">
                Back to the newest
              </Link>
            </>
          ) : null}
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
        ) : view.q || view.day ? (
          <EmptyState title="Nothing matches">
            {view.q ? `Nothing on this timeline matches “${view.q}”${view.day ? ` up to ${view.day}` : ""}.` : `Nothing on this timeline up to ${view.day}.`} Clear the filter to
            see everything.
          </EmptyState>
        ) : (
          <EmptyState title="No checkpoints yet">
            Take one with the form above before an agent starts, or from a terminal:{" "}
            <code className="font-mono">npx safetynet checkpoint create {component} --reason &quot;before refactor&quot;</code>.
          </EmptyState>
        )
      ) : (
        <>
          <div className="space-y-6">
            {groupByDay(items).map((group) => (
              <section key={group.day} aria-labelledby={`day-${group.day}`} data-testid="timeline-day" data-day={group.day} className="space-y-3">
                <h3 id={`day-${group.day}`} className="sticky top-0 z-10 flex flex-wrap items-baseline justify-between gap-2 bg-background/95 py-1 text-sm font-semibold backdrop-blur">
                  <span>{dayLabel(group.day)}</span>
                  <span className="text-xs font-normal text-muted">{dayCounts(daysByKey.get(group.day))}</span>
                </h3>
                <ol aria-label={`${dayLabel(group.day)}`} className="relative space-y-3 border-l-2 border-border pl-4 sm:pl-5">
                  {collapseQuietRuns(group.items, liveId).map((row) => (
                    <li key={rowKey(row)} className="relative">
                      <span
                        aria-hidden="true"
                        className={`absolute -left-[23px] ${row.type === "quiet" ? "top-3" : "top-5"} h-3 w-3 rounded-full border-2 border-background sm:-left-[27px] ${dotColour(row)}`}
                      />
                      {row.type === "quiet" ? (
                        <QuietRun items={row.items} role={role} />
                      ) : row.item.type === "checkpoint" ? (
                        <CheckpointCard checkpoint={row.item.checkpoint} role={role} matchesLive={row.item.checkpoint.id === liveId} />
                      ) : row.item.type === "rollback" ? (
                        <RollbackEntry rollback={row.item.rollback} component={component} role={role} />
                      ) : (
                        <EventEntry event={row.item.event} />
                      )}
                    </li>
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
            {dayList.length > 1 ? <span>or pick any day with Jump to day above.</span> : null}
            {timeline.isFetchNextPageError ? <span className="text-bad">Loading more failed: {timeline.error?.message}</span> : null}
          </div>
        </>
      )}
    </div>
  );
}
