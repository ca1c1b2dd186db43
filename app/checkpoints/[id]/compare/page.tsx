import type { Metadata } from "next";
import { CompareView } from "@/components/compare/CompareView";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { parseCompareAgainst } from "@/lib/compare-target";
import { HydrateClient, load, requireViewer, trpc } from "@/lib/trpc/server";

export const dynamic = "force-dynamic";

type Params = Promise<{ id: string }>;
type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { id } = await params;
  return { title: `Compare ${id} · Safety Net` };
}

export default async function ComparePage({ params, searchParams }: { params: Params; searchParams: SearchParams }) {
  const { id } = await params;
  const against = parseCompareAgainst((await searchParams).against);
  const viewer = await requireViewer(`/checkpoints/${encodeURIComponent(id)}/compare`);
  if (viewer.problem) return <ProblemNotice problem={viewer.problem} className="mx-auto max-w-xl" />;
  const checkpoint = await load((qc) => qc.fetchQuery(trpc.checkpoint.get.queryOptions({ id })));
  if (checkpoint.problem) return <ProblemNotice problem={checkpoint.problem} className="mx-auto max-w-xl" />;
  return (
    <HydrateClient>
      <CompareView id={id} against={against} />
    </HydrateClient>
  );
}
