import type { Metadata } from "next";
import { HistoryFilters } from "@/components/HistoryFilters";
import { HistoryTable } from "@/components/HistoryTable";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { historyInput, nextPage } from "@/lib/trpc/list-inputs";
import { HydrateClient, getQueryClient, load, loadViewer, trpc } from "@/lib/trpc/server";
import type { HistoryFilter } from "@/lib/trpc/types";
import { historyKinds, historyOutcomes } from "@/server/schemas";

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

export default async function HistoryPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const filter: HistoryFilter = {
    component: first(params.component),
    kind: oneOf(historyKinds, first(params.kind)),
    outcome: oneOf(historyOutcomes, first(params.outcome)),
    actor: first(params.actor),
  };
  const viewer = await loadViewer();
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
        <HistoryFilters filter={filter} components={(components.data?.items ?? []).map((c) => c.name)} />
        <HistoryTable filter={filter} />
      </div>
    </HydrateClient>
  );
}
