import type { Metadata } from "next";
import Link from "next/link";
import { ComponentSummary } from "@/components/ComponentSummary";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { TakeCheckpointForm } from "@/components/TakeCheckpointForm";
import { ComponentTimeline } from "@/components/timeline/ComponentTimeline";
import { SessionsList } from "@/components/sessions/SessionsList";
import { nextPage, sessionsInput, SESSIONS_PREVIEW_SIZE, timelineDaysInput, timelineInput, type TimelineView } from "@/lib/trpc/list-inputs";
import { HydrateClient, getQueryClient, load, requireViewer, trpc } from "@/lib/trpc/server";
import { requestDisplayZone } from "@/lib/console-preferences-server";
import { componentTimelineInput, utcDay } from "@/server/schemas";
import { endOfDayInZone } from "@/server/timeline/zoned-time";
import { componentNameOfSegment } from "@/lib/component-route";

export const dynamic = "force-dynamic";

type Params = Promise<{ name: string }>;
type SearchParams = Promise<Record<string, string | string[] | undefined>>;


function first(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v?.trim() ? v.trim() : undefined;
}

/**
 * Where the timeline starts: `at` (an instant), or for older links `day` (the end
 * of that day in the zone times are shown in); anything else is the newest.
 */
function startInstant(query: Record<string, string | string[] | undefined>, zone: string): string | undefined {
  const at = first(query.at);
  if (at && componentTimelineInput.shape.at.safeParse(at).success) return new Date(at).toISOString();
  const day = first(query.day);
  const end = day && utcDay.safeParse(day).success ? endOfDayInZone(day, zone) : null;
  return end === null ? undefined : new Date(end).toISOString();
}

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { name } = await params;
  return { title: `${componentNameOfSegment(name)} · Safety Net` };
}

export default async function ComponentPage({ params, searchParams }: { params: Params; searchParams: SearchParams }) {
  const name = componentNameOfSegment((await params).name);
  const query = await searchParams;
  const zone = await requestDisplayZone();
  const view: TimelineView = { at: startInstant(query, zone), q: first(query.q)?.slice(0, 200), damaged: first(query.damaged) === "1" || undefined };
  const search = new URLSearchParams(Object.entries({ ...view, damaged: view.damaged ? "1" : undefined }).filter((e): e is [string, string] => Boolean(e[1]))).toString();
  const viewer = await requireViewer(`/components/${encodeURIComponent(name)}${search ? `?${search}` : ""}`);
  if (viewer.problem) return <ProblemNotice problem={viewer.problem} className="mx-auto max-w-xl" />;
  const component = await load((qc) => qc.fetchQuery(trpc.component.get.queryOptions({ name })));
  if (component.problem) return <ProblemNotice problem={component.problem} className="mx-auto max-w-xl" />;
  // The first screen: the newest page (or the page of the instant jumped to) and the list of days in the viewer's zone, rendered on the server.
  await Promise.all([
    getQueryClient().prefetchInfiniteQuery(trpc.component.timeline.infiniteQueryOptions(timelineInput(name, view), nextPage)),
    getQueryClient().prefetchQuery(trpc.component.timelineDays.queryOptions(timelineDaysInput(name, zone))),
    getQueryClient().prefetchInfiniteQuery(trpc.session.list.infiniteQueryOptions(sessionsInput(name, SESSIONS_PREVIEW_SIZE), nextPage)),
  ]);
  const sessionsHref = `/components/${encodeURIComponent(name)}/sessions`;
  return (
    <HydrateClient>
      <div className="space-y-8">
        <ComponentSummary name={name} />
        <TakeCheckpointForm component={name} role={viewer.data.role} />
        <section aria-labelledby="timeline" className="space-y-4">
          <h2 id="timeline" className="text-lg font-semibold">
            Timeline
          </h2>
          <ComponentTimeline component={name} role={viewer.data.role} view={view} />
        </section>
        <section aria-labelledby="sessions" className="space-y-4">
          <div className="flex flex-wrap items-baseline justify-between gap-2">
            <h2 id="sessions" className="text-lg font-semibold">
              Sessions
            </h2>
            <Link href={sessionsHref} className="text-sm text-accent hover:underline">
              All sessions
            </Link>
          </div>
          <SessionsList component={name} role={viewer.data.role} pageSize={SESSIONS_PREVIEW_SIZE} allHref={sessionsHref} />
        </section>
      </div>
    </HydrateClient>
  );
}
