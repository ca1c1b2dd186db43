import type { Metadata } from "next";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { InstancesTable } from "@/components/instances/InstancesTable";
import { HydrateClient, getQueryClient, requireViewer, trpc } from "@/lib/trpc/server";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Instances · Safety Net" };

export default async function InstancesPage() {
  const viewer = await requireViewer("/instances");
  if (viewer.problem) return <ProblemNotice problem={viewer.problem} className="mx-auto max-w-xl" />;
  await getQueryClient().prefetchQuery(trpc.instance.list.queryOptions(undefined));
  return (
    <HydrateClient>
      <div className="space-y-6">
        <div className="space-y-1">
          <h1 className="text-2xl font-semibold tracking-tight">Instances</h1>
          <p className="text-sm text-muted">
            The servers working on this metadata, each on its own host with the workspace roots it can reach. A checkpoint or a rollback asked of one
            instance runs on the one that reaches the component&apos;s files.
          </p>
        </div>
        <InstancesTable />
      </div>
    </HydrateClient>
  );
}
