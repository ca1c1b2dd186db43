import type { Metadata } from "next";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { RetentionPolicyForm } from "@/components/retention/RetentionPolicyForm";
import { RetentionRunPanel } from "@/components/retention/RetentionRunPanel";
import { RETENTION_RUNS_INPUT, RetentionRuns } from "@/components/retention/RetentionRuns";
import { HydrateClient, getQueryClient, requireViewer, trpc } from "@/lib/trpc/server";
import { roleAllows, type Viewer } from "@/lib/trpc/types";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Retention · Safety Net" };

/** Policies and runs apply to every component: they need an operator token not limited to some components. */
function changeBlocked(viewer: Viewer): string | null {
  if (!roleAllows(viewer.role, "operator")) return `Changing policies and running retention needs the operator role or higher; your token has ${viewer.role}`;
  if (viewer.components.length > 0) return `Your token is limited to ${viewer.components.join(", ")}; retention runs over every component, so it needs an unscoped token`;
  return null;
}

export default async function RetentionPage() {
  const viewer = await requireViewer("/retention");
  if (viewer.problem) return <ProblemNotice problem={viewer.problem} className="mx-auto max-w-xl" />;
  await Promise.all([getQueryClient().prefetchQuery(trpc.retention.get.queryOptions({})), getQueryClient().prefetchQuery(trpc.history.list.queryOptions(RETENTION_RUNS_INPUT))]);
  const blocked = changeBlocked(viewer.data);
  return (
    <HydrateClient>
      <div className="space-y-8">
        <div className="space-y-1">
          <h1 className="text-2xl font-semibold tracking-tight">Retention</h1>
          <p className="text-sm text-muted">
            How long checkpoints are kept. Expired checkpoints are marked first, then a sweep removes them and every stored object no live checkpoint uses.
          </p>
        </div>
        <section aria-labelledby="policies" className="space-y-3">
          <h2 id="policies" className="text-lg font-semibold">
            Policies
          </h2>
          <RetentionPolicyForm canEdit={blocked === null} editBlocked={blocked} />
        </section>
        <section aria-labelledby="run" className="space-y-3">
          <h2 id="run" className="text-lg font-semibold">
            Next run
          </h2>
          <RetentionRunPanel canRun={blocked === null} runBlocked={blocked} />
        </section>
        <section aria-labelledby="runs" className="space-y-3">
          <h2 id="runs" className="text-lg font-semibold">
            Last runs
          </h2>
          <RetentionRuns />
        </section>
      </div>
    </HydrateClient>
  );
}
