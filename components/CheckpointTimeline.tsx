"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { CheckpointCard } from "@/components/CheckpointCard";
import { EmptyState } from "@/components/feedback/EmptyState";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { Button } from "@/components/ui/Button";
import { describeProblem } from "@/lib/trpc/api-problem";
import { nextPage, timelineInput } from "@/lib/trpc/list-inputs";

/** A component's checkpoints, newest first, with "Load more" (cursor pagination). */
export function CheckpointTimeline({ component }: { component: string }) {
  const trpc = useTRPC();
  const timeline = useInfiniteQuery(trpc.checkpoint.list.infiniteQueryOptions(timelineInput(component), nextPage));
  if (!timeline.data) {
    if (timeline.isError) return <ProblemNotice problem={describeProblem(timeline.error)} onRetry={() => void timeline.refetch()} />;
    return <LoadingBlock label="Loading checkpoints" rows={4} />;
  }
  const items = timeline.data.pages.flatMap((page) => page.items);
  if (items.length === 0) {
    return (
      <EmptyState title="No checkpoints yet">
        Take one before an agent starts:{" "}
        <code className="font-mono">npx safetynet checkpoint create {component} --reason &quot;before refactor&quot;</code>, or call{" "}
        <code className="font-mono">checkpoint.create</code> over the API.
      </EmptyState>
    );
  }
  return (
    <div className="space-y-4">
      <ol aria-label={`Checkpoints of ${component}, newest first`} className="relative space-y-3 border-l-2 border-border pl-5">
        {items.map((checkpoint) => (
          <li key={checkpoint.id} className="relative">
            <span
              aria-hidden="true"
              className={`absolute -left-[27px] top-5 h-3 w-3 rounded-full border-2 border-background ${checkpoint.kind === "safety" ? "bg-info" : "bg-accent"}`}
            />
            <CheckpointCard checkpoint={checkpoint} />
          </li>
        ))}
      </ol>
      <div className="flex items-center gap-3 pl-5 text-sm text-muted">
        {timeline.hasNextPage ? (
          <Button onClick={() => void timeline.fetchNextPage()} disabled={timeline.isFetchingNextPage}>
            {timeline.isFetchingNextPage ? "Loading…" : "Load more"}
          </Button>
        ) : (
          <span>{items.length === 1 ? "This is the only checkpoint." : `All ${items.length} checkpoints shown.`}</span>
        )}
        {timeline.isFetchNextPageError ? <span className="text-bad">Loading more failed: {timeline.error?.message}</span> : null}
      </div>
    </div>
  );
}
