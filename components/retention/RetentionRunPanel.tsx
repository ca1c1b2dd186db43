"use client";

import Link from "next/link";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { Button } from "@/components/ui/Button";
import { Pill } from "@/components/ui/Pill";
import { Time } from "@/components/ui/Time";
import { describeProblem } from "@/lib/trpc/api-problem";
import { formatBytes, formatCount, formatDuration } from "@/lib/format";
import type { RetentionRun } from "@/lib/trpc/types";
import { keptInWords, removedInWords } from "@/server/retention/wording";

/** Rows listed per list (the counts are complete). */
const LISTED = 200;

function RunReport({ run }: { run: RetentionRun }) {
  const preview = run.dryRun;
  return (
    <div className="space-y-3" data-testid={preview ? "retention-preview" : "retention-result"}>
      <p className="text-sm font-medium" data-testid="retention-words">
        {removedInWords(run.summary.expired, preview)}; {keptInWords(run.summary.kept)}.
      </p>
      <p className="text-sm">
        {preview ? "The next run would" : "This run did"}: expire <strong data-testid="count-expired">{formatCount(run.counts.expired)}</strong> checkpoint
        {run.counts.expired === 1 ? "" : "s"}, remove <strong>{formatCount(run.counts.removed)}</strong> checkpoint record{run.counts.removed === 1 ? "" : "s"}, delete{" "}
        <strong>{formatCount(run.objectsDeleted)}</strong> stored object{run.objectsDeleted === 1 ? "" : "s"} and free <strong data-testid="bytes-freed">{formatBytes(run.bytesFreed)}</strong>;
        keep <strong>{formatCount(run.counts.kept)}</strong>.
        {run.keptByGrace.objects > 0 ? ` ${formatCount(run.keptByGrace.objects)} unreferenced objects (${formatBytes(run.keptByGrace.bytes)}) are younger than the grace period and stay for now.` : ""}
      </p>
      {run.warnings.length > 0 ? (
        <ul className="space-y-0.5 text-xs text-warn">
          {run.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      ) : null}
      <section aria-labelledby={`${preview ? "p" : "r"}-expire`} className="space-y-1">
        <h3 id={`${preview ? "p" : "r"}-expire`} className="text-sm font-semibold">
          {preview ? "Would expire" : "Expired"} ({formatCount(run.counts.expired)})
        </h3>
        {run.expired.length === 0 ? (
          <p className="text-xs text-muted">Nothing: every active checkpoint is kept by a rule.</p>
        ) : (
          <ul className="max-h-64 divide-y divide-border overflow-y-auto rounded-md border border-warn/30 text-xs" data-testid="expire-list">
            {run.expired.slice(0, LISTED).map((d) => (
              <li key={d.checkpointId} className="flex flex-wrap items-baseline gap-x-3 gap-y-1 px-3 py-1.5">
                <Link href={`/checkpoints/${d.checkpointId}`} className="font-mono text-accent hover:underline">
                  {d.checkpointId}
                </Link>
                <span>{d.component}</span>
                <Pill tone="warn">{d.rule}</Pill>
                <span className="text-muted">{d.reason}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <details className="text-sm">
        <summary className="cursor-pointer font-semibold">
          {preview ? "Would keep" : "Kept"} ({formatCount(run.counts.kept)}), and why
        </summary>
        <ul className="mt-1 max-h-64 divide-y divide-border overflow-y-auto rounded-md border border-border text-xs" data-testid="keep-list">
          {run.kept.slice(0, LISTED).map((d) => (
            <li key={d.checkpointId} className="flex flex-wrap items-baseline gap-x-3 gap-y-1 px-3 py-1.5">
              <Link href={`/checkpoints/${d.checkpointId}`} className="font-mono text-accent hover:underline">
                {d.checkpointId}
              </Link>
              <span>{d.component}</span>
              {d.rules.map((rule) => (
                <Pill key={rule} tone="ok">
                  {rule}
                </Pill>
              ))}
              <span className="text-muted">{d.reason}</span>
            </li>
          ))}
        </ul>
      </details>
    </div>
  );
}

/** Preview what the next retention run would expire and keep (and why), then run it now. */
export function RetentionRunPanel({ canRun, runBlocked }: { canRun: boolean; runBlocked: string | null }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const preview = useMutation(trpc.retention.run.mutationOptions());
  const run = useMutation(trpc.retention.run.mutationOptions({ onSettled: () => queryClient.invalidateQueries() }));
  const problem = preview.isError ? describeProblem(preview.error) : run.isError ? describeProblem(run.error) : null;
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-3">
        <Button onClick={() => (run.reset(), preview.mutate({ dryRun: true }))} disabled={!canRun || preview.isPending || run.isPending} title={runBlocked ?? undefined}>
          {preview.isPending ? "Working it out…" : "Preview the next run"}
        </Button>
        <Button
          variant="danger"
          onClick={() => run.mutate({})}
          disabled={!canRun || !preview.isSuccess || run.isPending || run.isSuccess}
          title={runBlocked ?? (preview.isSuccess ? undefined : "Preview first: see what would go before it goes")}
        >
          {run.isPending ? "Running…" : preview.isSuccess ? `Run now: expire ${formatCount(preview.data.counts.expired)}, free about ${formatBytes(preview.data.bytesFreed)}` : "Run now"}
        </Button>
        {runBlocked ? <span className="text-xs text-muted">{runBlocked}.</span> : null}
      </div>
      {problem ? <ProblemNotice problem={problem} /> : null}
      {run.isSuccess ? (
        <div role="status" className="space-y-2 rounded-md border border-ok/40 bg-ok/10 px-4 py-3">
          <p className="font-semibold text-ok">
            Retention ran in {formatDuration(run.data.durationMs)} ({run.data.outcome})
          </p>
          <RunReport run={run.data} />
        </div>
      ) : preview.isSuccess ? (
        <div className="rounded-md border border-border bg-surface px-4 py-3">
          <p className="mb-2 text-xs text-muted">
            Preview made <Time iso={preview.data.startedAt} mode="relative" />; nothing was changed.
          </p>
          <RunReport run={preview.data} />
        </div>
      ) : null}
    </div>
  );
}
