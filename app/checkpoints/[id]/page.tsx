import type { Metadata } from "next";
import { CheckpointDetailView } from "@/components/CheckpointDetailView";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { HydrateClient, load, requireViewer, trpc } from "@/lib/trpc/server";

export const dynamic = "force-dynamic";

type Params = Promise<{ id: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { id } = await params;
  return { title: `Checkpoint ${id} · Safety Net` };
}

export default async function CheckpointPage({ params }: { params: Params }) {
  const { id } = await params;
  const viewer = await requireViewer(`/checkpoints/${encodeURIComponent(id)}`);
  if (viewer.problem) return <ProblemNotice problem={viewer.problem} className="mx-auto max-w-xl" />;
  const checkpoint = await load((qc) => qc.fetchQuery(trpc.checkpoint.get.queryOptions({ id })));
  if (checkpoint.problem) return <ProblemNotice problem={checkpoint.problem} className="mx-auto max-w-xl" />;
  return (
    <HydrateClient>
      <CheckpointDetailView id={id} role={viewer.data.role} />
    </HydrateClient>
  );
}
