"use client";

import { useQuery } from "@tanstack/react-query";
import { useState, type ReactNode } from "react";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { InlineProblem } from "@/components/feedback/InlineProblem";
import { ModeChange, ModifiedFile } from "@/components/DiffView";
import { formatBytes } from "@/lib/format";
import { describeProblem } from "@/lib/trpc/api-problem";
import type { CheckpointDiff, DiffEntry } from "@/lib/trpc/types";

/** Where a path sits in a diff: its row and what the rollback does with it, in words. */
function findEntry(diff: CheckpointDiff, path: string): { entry: DiffEntry; bucket: keyof typeof BUCKET_WORDS } | null {
  for (const bucket of Object.keys(BUCKET_WORDS) as (keyof typeof BUCKET_WORDS)[]) {
    const entry = diff[bucket].find((e) => e.path === path);
    if (entry) return { entry, bucket };
  }
  return null;
}

const BUCKET_WORDS = {
  modified: "content differs",
  added: "not in the checkpoint: the rollback deletes it",
  deleted: "missing now: the rollback recreates it from the checkpoint",
  modeChanged: "only the permission bits differ",
  typeChanged: "its type differs",
  linkChanged: "same content; its hard links differ",
  mtimeChanged: "only the modification time differs",
} as const;

/** One file of a rollback plan against the live workspace, fetched only when opened (checkpoint.diff for that path). */
function FileDiffBody({ checkpointId, path }: { checkpointId: string; path: string }) {
  const trpc = useTRPC();
  const diff = useQuery(trpc.checkpoint.diff.queryOptions({ id: checkpointId, path, textDiff: true }, { staleTime: 0, refetchOnWindowFocus: false }));
  if (diff.isPending) return <p className="px-3 py-2 text-xs text-muted">Comparing this file with the workspace…</p>;
  if (diff.isError) return <InlineProblem problem={describeProblem(diff.error)} className="m-2" />;
  const found = findEntry(diff.data, path);
  if (!found) return <p className="px-3 py-2 text-xs text-muted">This file now matches the checkpoint: plan again to see the current plan.</p>;
  const { entry, bucket } = found;
  if (bucket === "modified") return <ModifiedFile entry={entry} open />;
  let detail: ReactNode = null;
  if (bucket === "typeChanged") detail = `${entry.before?.kind ?? "?"} in the checkpoint → ${entry.after?.kind ?? "?"} live`;
  else if (bucket === "deleted" && entry.before) detail = `${entry.before.kind}, ${formatBytes(entry.before.size)} in the checkpoint`;
  else if (bucket === "added" && entry.after) detail = `${entry.after.kind}, ${formatBytes(entry.after.size)} live`;
  return (
    <p className="flex flex-wrap items-center gap-2 px-3 py-2 text-xs text-muted" data-testid="plan-file-diff-summary">
      <span>{BUCKET_WORDS[bucket]}</span>
      <ModeChange before={entry.before} after={entry.after} />
      {detail ? <span>{detail}</span> : null}
      {entry.damaged ? <span className="text-bad">stored content {entry.damaged}</span> : null}
    </p>
  );
}

/** One row of a rollback plan with its own diff: a toggle opens it inline, loaded on the first open. */
export function PlanFileRow({ checkpointId, path, label, aside }: { checkpointId: string; path: string; label: ReactNode; aside: ReactNode }) {
  const [open, setOpen] = useState(false);
  const id = `plan-diff-${encodeURIComponent(path)}`;
  return (
    <li data-testid="plan-row" data-path={path}>
      <div className="flex items-center justify-between gap-3 px-3 py-1.5">
        <span className="min-w-0 break-all font-mono text-xs">{label}</span>
        <span className="flex shrink-0 items-center gap-2 text-xs text-muted">
          {aside}
          <button
            type="button"
            aria-expanded={open}
            aria-controls={id}
            onClick={() => setOpen(!open)}
            className="rounded border border-border px-1.5 py-0.5 text-xs text-accent hover:bg-background"
            data-testid="plan-file-diff-toggle"
            title="This file: the checkpoint against the live workspace"
          >
            {open ? "Hide diff" : "Diff"}
          </button>
        </span>
      </div>
      {open ? (
        <div id={id} className="border-t border-border bg-background" data-testid="plan-file-diff">
          <p className="px-3 pt-2 text-xs text-muted">
            <span className="text-bad">−</span> is in the checkpoint, <span className="text-ok">+</span> is in the workspace now: the rollback turns + back into −.
          </p>
          <FileDiffBody checkpointId={checkpointId} path={path} />
        </div>
      ) : null}
    </li>
  );
}
