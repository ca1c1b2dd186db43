import type { Metadata } from "next";
import { CheckpointTimeline } from "@/components/CheckpointTimeline";
import { ComponentSummary } from "@/components/ComponentSummary";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { nextPage, timelineInput } from "@/lib/trpc/list-inputs";
import { HydrateClient, getQueryClient, load, loadViewer, trpc } from "@/lib/trpc/server";

export const dynamic = "force-dynamic";

type Params = Promise<{ name: string }>;

/** The component name from the URL segment (a malformed escape is passed on as is; the API names the problem). */
function componentName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { name } = await params;
  return { title: `${componentName(name)} · Safety Net` };
}

export default async function ComponentPage({ params }: { params: Params }) {
  const name = componentName((await params).name);
  const viewer = await loadViewer();
  if (viewer.problem) return <ProblemNotice problem={viewer.problem} className="mx-auto max-w-xl" />;
  const component = await load((qc) => qc.fetchQuery(trpc.component.get.queryOptions({ name })));
  if (component.problem) return <ProblemNotice problem={component.problem} className="mx-auto max-w-xl" />;
  await getQueryClient().prefetchInfiniteQuery(trpc.checkpoint.list.infiniteQueryOptions(timelineInput(name), nextPage));
  return (
    <HydrateClient>
      <div className="space-y-8">
        <ComponentSummary name={name} />
        <section aria-labelledby="timeline" className="space-y-4">
          <div className="flex items-baseline justify-between">
            <h2 id="timeline" className="text-lg font-semibold">
              Checkpoint timeline
            </h2>
            <p className="text-xs text-muted">newest first</p>
          </div>
          <CheckpointTimeline component={name} />
        </section>
      </div>
    </HydrateClient>
  );
}
