"use client";

import Link from "next/link";
import Form from "next/form";
import { useState, type RefObject } from "react";
import { usePathname, useRouter } from "next/navigation";
import { useConsolePreferences } from "@/components/providers/ConsolePreferencesProvider";
import { KeyboardShortcutsHelp, type ShortcutsHelpHandle } from "@/components/timeline/KeyboardShortcutsHelp";
import { Button } from "@/components/ui/Button";
import { formatCount } from "@/lib/format";
import type { TimelineView } from "@/lib/trpc/list-inputs";
import type { TimelineDay } from "@/lib/trpc/types";
import { endOfDayInZone, instantOfWallTime, wallTimeInputValue } from "@/server/timeline/zoned-time";

export const FILTER_INPUT_ID = "timeline-q";

export function dayCounts(day: TimelineDay | undefined): string {
  if (!day) return "";
  const parts = [`${formatCount(day.checkpoints)} checkpoint${day.checkpoints === 1 ? "" : "s"}`];
  if (day.rollbacks) parts.push(`${formatCount(day.rollbacks)} rollback${day.rollbacks === 1 ? "" : "s"}`);
  if (day.events) parts.push(`${formatCount(day.events)} other`);
  return parts.join(" · ");
}

/** The URL of a timeline view: the jump and the filter live there, so a view can be shared and the server renders it. */
export function timelineHref(pathname: string, view: TimelineView): string {
  const params = new URLSearchParams();
  if (view.q) params.set("q", view.q);
  if (view.at) params.set("at", view.at);
  const query = params.toString();
  return query ? `${pathname}?${query}` : pathname;
}

/**
 * The date jump (a day from the list, or any date and time, in the zone times are
 * shown in), the text filter, compact mode and the keyboard shortcuts.
 */
export function TimelineControls({ component, view, days, help }: { component: string; view: TimelineView; days: TimelineDay[]; help: RefObject<ShortcutsHelpHandle | null> }) {
  const router = useRouter();
  const pathname = usePathname() ?? `/components/${encodeURIComponent(component)}`;
  const { zone, compact, setCompact } = useConsolePreferences();
  const shownAt = view.at ? wallTimeInputValue(Date.parse(view.at), zone) : "";
  const [wallTime, setWallTime] = useState(shownAt);
  const [problem, setProblem] = useState<string | null>(null);
  const go = (next: TimelineView) => router.push(timelineHref(pathname, next), { scroll: false });
  const jumpToDay = (day: string) => {
    const end = day ? endOfDayInZone(day, zone) : null;
    go({ ...view, at: end === null ? undefined : new Date(end).toISOString() });
  };
  const jumpToTime = () => {
    const instant = instantOfWallTime(wallTime, zone);
    if (instant === null) {
      setProblem("Pick a date and a time.");
      return;
    }
    setProblem(null);
    go({ ...view, at: new Date(instant).toISOString() });
  };
  const zoneName = zone === "UTC" ? "UTC" : zone.replaceAll("_", " ");

  return (
    <div className="flex flex-wrap items-end gap-3 rounded-lg border border-border bg-surface p-3">
      <div className="flex flex-col gap-1">
        <label htmlFor="timeline-day" className="text-xs font-medium text-muted">
          Jump to day
        </label>
        <select
          id="timeline-day"
          value=""
          onChange={(event) => jumpToDay(event.target.value)}
          className="max-w-[16rem] rounded-md border border-border bg-background px-2.5 py-1.5 text-sm"
        >
          <option value="">{view.at ? "Pick a day…" : "Newest first"}</option>
          {days.map((d) => (
            <option key={d.day} value={d.day}>
              {d.day} · {dayCounts(d)}
            </option>
          ))}
        </select>
      </div>
      <form
        className="flex items-end gap-2"
        aria-label="Jump to a date and time"
        onSubmit={(event) => {
          event.preventDefault();
          jumpToTime();
        }}
      >
        <div className="flex flex-col gap-1">
          <label htmlFor="timeline-at" className="text-xs font-medium text-muted">
            Jump to date and time <span className="font-normal">({zoneName})</span>
          </label>
          <input
            id="timeline-at"
            type="datetime-local"
            step={60}
            value={wallTime}
            onChange={(event) => setWallTime(event.target.value)}
            aria-describedby={problem ? "timeline-at-problem" : undefined}
            className="rounded-md border border-border bg-background px-2.5 py-1 text-sm"
          />
        </div>
        <Button type="submit" className="py-1.5">
          Go
        </Button>
        {problem ? (
          <span id="timeline-at-problem" role="alert" className="py-1.5 text-xs text-bad">
            {problem}
          </span>
        ) : null}
      </form>
      <Form action={pathname} scroll={false} className="flex flex-1 flex-wrap items-end gap-2" role="search" aria-label="Filter the timeline">
        <div className="flex min-w-[12rem] flex-1 flex-col gap-1">
          <label htmlFor={FILTER_INPUT_ID} className="text-xs font-medium text-muted">
            Filter by reason, agent, task or id
          </label>
          <input
            id={FILTER_INPUT_ID}
            name="q"
            key={view.q ?? ""}
            defaultValue={view.q ?? ""}
            placeholder="e.g. refactor-bot, TASK-42, cp_01… (press /)"
            className="rounded-md border border-border bg-background px-2.5 py-1.5 text-sm"
          />
        </div>
        {view.at ? <input type="hidden" name="at" value={view.at} /> : null}
        <Button type="submit" className="py-1.5">
          Filter
        </Button>
        {view.q || view.at ? (
          <Link href={pathname} scroll={false} className="py-1.5 text-sm text-muted hover:text-foreground">
            Clear
          </Link>
        ) : null}
      </Form>
      <div className="flex w-full flex-wrap items-center justify-between gap-2 border-t border-border pt-2">
        <label className="inline-flex items-center gap-2 text-xs text-muted">
          <input type="checkbox" checked={compact} onChange={(event) => setCompact(event.target.checked)} className="accent-[var(--accent)]" />
          Compact: one line per checkpoint
        </label>
        <KeyboardShortcutsHelp ref={help} />
      </div>
    </div>
  );
}
