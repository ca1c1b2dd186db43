"use client";

import Link from "next/link";
import { useState, type ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { ComparePicker } from "@/components/compare/ComparePicker";
import { DiffView } from "@/components/DiffView";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { Time } from "@/components/ui/Time";
import { compareHref, type CompareAgainst } from "@/lib/compare-target";
import { describeProblem } from "@/lib/trpc/api-problem";
import type { CheckpointDetail } from "@/lib/trpc/types";
import { ComponentBreadcrumb } from "@/components/ComponentBreadcrumb";

function Choice({ href, current, children, testId, disabled }: { href: string; current: boolean; children: ReactNode; testId: string; disabled?: string }) {
  const look = `rounded-md border px-3 py-1.5 text-sm ${current ? "border-accent bg-accent/10 font-medium" : "border-border bg-surface hover:bg-background"}`;
  if (disabled) {
    return (
      <span className={`${look} cursor-not-allowed opacity-50`} title={disabled} aria-disabled="true" data-testid={testId}>
        {children}
      </span>
    );
  }
  return (
    <Link href={href} aria-current={current ? "page" : undefined} className={look} data-testid={testId}>
      {children}
    </Link>
  );
}

/**
 * A checkpoint compared with the previous checkpoint (what it changed), the live
 * workspace, or any other checkpoint of its component. The choice lives in the URL
 * (?against=previous|live|<id>), so a comparison can be linked and reloaded.
 */
export function CompareView({ id, against }: { id: string; against: CompareAgainst }) {
  const trpc = useTRPC();
  const [picking, setPicking] = useState(false);
  const detail = useQuery(trpc.checkpoint.get.queryOptions({ id }));
  const pickedId = typeof against === "string" ? null : against.checkpointId;
  const picked = useQuery(trpc.checkpoint.get.queryOptions({ id: pickedId ?? id }, { enabled: pickedId !== null }));
  if (detail.isPending) return <LoadingBlock label="Loading checkpoint" rows={3} />;
  if (detail.isError) return <ProblemNotice problem={describeProblem(detail.error)} onRetry={() => void detail.refetch()} />;
  const checkpoint = detail.data;
  const previous = checkpoint.changesAgainst;
  return (
    <div className="space-y-6">
      <header className="space-y-3">
        <ComponentBreadcrumb component={checkpoint.component}>
          <Link href={`/checkpoints/${encodeURIComponent(id)}`} className="font-mono hover:text-foreground hover:underline">
            {id}
          </Link>{" "}
          / compare
        </ComponentBreadcrumb>
        <h1 className="text-xl font-semibold tracking-tight">
          Compare checkpoint <span className="font-mono">{id}</span>
        </h1>
        <p className="text-sm text-muted">
          Taken <Time iso={checkpoint.createdAt} />
          {checkpoint.reason ? <> — “{checkpoint.reason}”</> : null}
        </p>
        <nav aria-label="Compare with" className="flex flex-wrap items-center gap-2">
          <span className="text-sm text-muted">Compare with</span>
          <Choice href={compareHref(id, "previous")} current={against === "previous"} testId="compare-previous" disabled={previous ? undefined : "This is the component's first checkpoint (for its scope): there is nothing earlier to compare with"}>
            the previous checkpoint
          </Choice>
          <Choice href={compareHref(id, "live")} current={against === "live"} testId="compare-live" disabled={checkpoint.status === "active" ? undefined : `This checkpoint is ${checkpoint.status}`}>
            the live workspace
          </Choice>
          <button
            type="button"
            aria-expanded={picking}
            aria-controls="pick"
            onClick={() => setPicking(!picking)}
            className={`rounded-md border px-3 py-1.5 text-sm ${pickedId ? "border-accent bg-accent/10 font-medium" : "border-border bg-surface hover:bg-background"}`}
            data-testid="compare-other"
          >
            {pickedId ? (
              <>
                checkpoint <span className="font-mono">{pickedId}</span> (change)
              </>
            ) : (
              "another checkpoint…"
            )}
          </button>
        </nav>
        <details id="pick" className="rounded-md border border-border bg-surface px-3 py-2" open={picking} onToggle={(event) => setPicking(event.currentTarget.open)}>
          <summary className="cursor-pointer text-sm" data-testid="compare-pick-open">
            {pickedId ? "Pick another checkpoint of this component" : "Pick a checkpoint of this component"}
          </summary>
          <div className="mt-2">
            <ComparePicker checkpointId={id} component={checkpoint.component} picked={pickedId} />
          </div>
        </details>
      </header>
      <Comparison checkpoint={checkpoint} against={against} picked={picked} />
    </div>
  );
}

function Comparison({
  checkpoint,
  against,
  picked,
}: {
  checkpoint: CheckpointDetail;
  against: CompareAgainst;
  picked: { isPending: boolean; isError: boolean; error: unknown; data?: CheckpointDetail };
}) {
  if (against === "previous") {
    if (!checkpoint.changesAgainst) {
      return (
        <p className="rounded-md border border-dashed border-border px-4 py-3 text-sm text-muted" data-testid="compare-no-previous">
          This is the first checkpoint of the component (for its scope): every one of its {checkpoint.files} files is new, and there is nothing earlier to compare
          with. Compare with the live workspace or another checkpoint instead.
        </p>
      );
    }
    return (
      <DiffView
        checkpointId={checkpoint.changesAgainst}
        against={checkpoint.id}
        heading="What this checkpoint changed"
        actions={
          <p className="text-sm text-muted">
            From the previous checkpoint{" "}
            <Link href={`/checkpoints/${encodeURIComponent(checkpoint.changesAgainst)}`} className="font-mono text-accent underline">
              {checkpoint.changesAgainst}
            </Link>{" "}
            to this one.
          </p>
        }
      />
    );
  }
  if (against === "live") {
    if (checkpoint.status !== "active") {
      return <p className="rounded-md border border-dashed border-border px-4 py-3 text-sm text-muted">This checkpoint is {checkpoint.status}; it cannot be compared with the workspace.</p>;
    }
    return <DiffView checkpointId={checkpoint.id} heading="This checkpoint against the live workspace" />;
  }
  if (picked.isPending) return <LoadingBlock label="Loading the picked checkpoint" rows={2} />;
  if (picked.isError || !picked.data) return <ProblemNotice problem={describeProblem(picked.error)} />;
  // Read in time order: from the older checkpoint to the newer one.
  const other = picked.data;
  const olderFirst = new Date(other.createdAt).getTime() <= new Date(checkpoint.createdAt).getTime();
  const [from, to] = olderFirst ? [other, checkpoint] : [checkpoint, other];
  return (
    <DiffView
      checkpointId={from.id}
      against={to.id}
      heading={`From ${olderFirst ? "the picked checkpoint" : "this checkpoint"} to ${olderFirst ? "this one" : "the picked one"}`}
      actions={
        <p className="text-sm text-muted">
          <span className="font-mono">{from.id}</span> (<Time iso={from.createdAt} />) → <span className="font-mono">{to.id}</span> (<Time iso={to.createdAt} />)
        </p>
      }
    />
  );
}
