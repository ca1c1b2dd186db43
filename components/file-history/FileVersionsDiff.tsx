"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { UnifiedPatch } from "@/components/UnifiedPatch";
import { describeProblem } from "@/lib/trpc/api-problem";
import { formatBytes, formatMode } from "@/lib/format";
import type { RouterOutputs } from "@/lib/trpc/types";

type FileDiff = RouterOutputs["file"]["diff"];

const NO_PATCH: Record<string, string> = {
  binary: "Binary content: no text diff.",
  "too-large": "Larger than 1 MiB: no text diff.",
  "not-text": "Not a text file in one of the versions (a folder, a sparse file, or no content held): no text diff.",
};

function Summary({ diff }: { diff: FileDiff }) {
  const from = diff.from.entry;
  const to = diff.to.entry;
  switch (diff.change) {
    case "unchanged":
      return <>The two versions are the same.</>;
    case "mode":
      return (
        <>
          Same content; the mode changed from {from ? formatMode(from.mode) : "?"} to {to ? formatMode(to.mode) : "?"}.
        </>
      );
    case "type":
      return (
        <>
          It changed from a {from?.kind} to a {to?.kind}.
        </>
      );
    case "added":
      return <>The older version does not hold it ({to ? formatBytes(to.size) : ""} in the newer one).</>;
    case "deleted":
      return <>The newer version does not hold it: it was deleted.</>;
    case "absent":
      return <>Neither version holds it.</>;
    default:
      return (
        <>
          {from ? formatBytes(from.size) : "—"} → {to ? formatBytes(to.size) : "—"}
        </>
      );
  }
}

/** One path from an older version (`from`) to a newer one (`to`): a unified diff of their text. */
export function FileVersionsDiff({ component, path, from, to }: { component: string; path: string; from: string; to: string }) {
  const trpc = useTRPC();
  const diff = useQuery(trpc.file.diff.queryOptions({ component, path, from, to }, { staleTime: Infinity }));
  return (
    <section aria-label={`Changes from ${from} to ${to}`} className="overflow-hidden rounded-lg border border-border bg-surface" data-testid="file-versions-diff">
      <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1 border-b border-border bg-background px-3 py-2 text-xs">
        <span>
          <span className="text-bad">−</span> <span className="font-mono">{from}</span> (older) → <span className="text-ok">+</span>{" "}
          <span className="font-mono">{to}</span> (newer)
        </span>
        {diff.data ? (
          <span className="text-muted" data-testid="file-diff-summary">
            <Summary diff={diff.data} />
          </span>
        ) : null}
      </div>
      {diff.isPending ? (
        <div className="p-3">
          <LoadingBlock label="Comparing the two versions" rows={3} />
        </div>
      ) : diff.isError ? (
        <div className="p-3">
          <ProblemNotice problem={describeProblem(diff.error)} onRetry={() => void diff.refetch()} />
        </div>
      ) : diff.data.patch !== null ? (
        <UnifiedPatch patch={diff.data.patch} sides={{ removed: `older (${from})`, added: `newer (${to})` }} />
      ) : diff.data.noPatch ? (
        <p className="px-3 py-3 text-sm text-muted">{NO_PATCH[diff.data.noPatch]}</p>
      ) : null}
    </section>
  );
}
