import type { Metadata } from "next";
import { HistoryFilters, historyQuery } from "@/components/HistoryFilters";
import { HistoryTable } from "@/components/HistoryTable";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { historyInput, nextPage } from "@/lib/trpc/list-inputs";
import { HydrateClient, getQueryClient, load, requireViewer, trpc } from "@/lib/trpc/server";
import type { HistoryFilter } from "@/lib/trpc/types";
import { historyKinds, historyOutcomes, utcDay } from "@/server/schemas";
import { requestDisplayZone } from "@/lib/console-preferences-server";
import { endOfDayInZone, instantOfWallTime } from "@/server/timeline/zoned-time";
import { ROLLBACK_FAILURES } from "@/server/audit/rollback-failure";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "History · Safety Net" };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

function first(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v?.trim() ? v.trim() : undefined;
}

function oneOf<T extends string>(allowed: readonly T[], value: string | undefined): T | undefined {
  return allowed.find((a) => a === value);
}

function day(value: string | undefined): string | undefined {
  return value && utcDay.safeParse(value).success ? value : undefined;
}

export default async function HistoryPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  // The date range is picked as days in the zone times are shown in; the API takes instants (from the start of `from` to the end of `to`).
  const zone = await requestDisplayZone();
  const days = { from: day(first(params.from)), to: day(first(params.to)) };
  const since = days.from ? instantOfWallTime(days.from, zone) : null;
  const until = days.to ? endOfDayInZone(days.to, zone) : null;
  const filter: HistoryFilter = {
    component: first(params.component),
    kind: oneOf(historyKinds, first(params.kind)),
    outcome: oneOf(historyOutcomes, first(params.outcome)),
    failure: oneOf(ROLLBACK_FAILURES, first(params.failure)),
    actor: first(params.actor)?.slice(0, 200),
    agent: first(params.agent)?.slice(0, 200),
    task: first(params.task)?.slice(0, 200),
    since: since === null ? undefined : new Date(since).toISOString(),
    until: until === null ? undefined : new Date(until).toISOString(),
  };
  const query = historyQuery(filter);
  if (days.from) query.set("from", days.from);
  if (days.to) query.set("to", days.to);
  query.delete("since");
  query.delete("until");
  const viewer = await requireViewer(`/history${query.size ? `?${query.toString()}` : ""}`);
  if (viewer.problem) return <ProblemNotice problem={viewer.problem} className="mx-auto max-w-xl" />;
  const [components] = await Promise.all([
    load((qc) => qc.fetchQuery(trpc.component.list.queryOptions())),
    getQueryClient().prefetchInfiniteQuery(trpc.history.list.infiniteQueryOptions(historyInput(filter), nextPage)),
  ]);
  return (
    <HydrateClient>
      <div className="space-y-6">
        <div className="space-y-1">
          <h1 className="text-2xl font-semibold tracking-tight">History</h1>
          <p className="text-sm text-muted">
            Every create, verify, rollback, delete and retention run: who did it, when, how long it took and why it failed. Append-only.
          </p>
        </div>
        <HistoryFilters filter={filter} days={days} zone={zone} components={(components.data?.items ?? []).map((c) => c.name)} />
        <HistoryTable filter={filter} role={viewer.data.role} />
      </div>
    </HydrateClient>
  );
}
