import { ComponentsTable } from "@/components/ComponentsTable";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { StatsStrip } from "@/components/StatsStrip";
import { HydrateClient, getQueryClient, requireViewer, trpc } from "@/lib/trpc/server";

export const dynamic = "force-dynamic";

export default async function OverviewPage() {
  const viewer = await requireViewer("/");
  if (viewer.problem) return <ProblemNotice problem={viewer.problem} className="mx-auto max-w-xl" />;
  const queryClient = getQueryClient();
  await Promise.all([queryClient.prefetchQuery(trpc.component.list.queryOptions()), queryClient.prefetchQuery(trpc.stats.summary.queryOptions())]);
  return (
    <HydrateClient>
      <div className="space-y-8">
        <div className="space-y-1">
          <h1 className="text-2xl font-semibold tracking-tight">Components</h1>
          <p className="text-sm text-muted">
            What agents may change, and the checkpoints that can put it back. Open a component to see its timeline and roll back.
          </p>
        </div>
        <StatsStrip />
        <ComponentsTable role={viewer.data.role} />
      </div>
    </HydrateClient>
  );
}
