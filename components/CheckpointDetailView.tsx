"use client";

import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { CheckpointActions } from "@/components/CheckpointActions";
import { CheckpointFacts } from "@/components/CheckpointFacts";
import { CheckpointKindPill, CheckpointStatusPill, PinnedMarker } from "@/components/CheckpointPills";
import { CheckpointScope } from "@/components/CheckpointScope";
import { CliHints, type CliHint } from "@/components/CliHints";
import { CopyButton } from "@/components/ui/CopyButton";
import { Time } from "@/components/ui/Time";
import { isDamaged } from "@/lib/checkpoint-state";
import { compareHref } from "@/lib/compare-target";
import { CardChanges } from "@/components/timeline/CardChanges";
import { buttonClasses } from "@/components/ui/Button";
import { ChecksumBadge } from "@/components/ChecksumBadge";
import { DatabaseSnapshots } from "@/components/DatabaseSnapshots";
import { DiffView } from "@/components/DiffView";
import { EntriesList } from "@/components/EntriesList";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { MetadataDocument } from "@/components/MetadataDocument";
import { RollbackIdLink } from "@/components/timeline/RollbackLinks";
import { describeProblem } from "@/lib/trpc/api-problem";
import type { CheckpointDetail, ViewerRole } from "@/lib/trpc/types";
import { displayPath } from "@/server/byte-paths";
import { livePolling } from "@/lib/trpc/live-polling";
import { ComponentBreadcrumb } from "@/components/ComponentBreadcrumb";

/** Caller metadata without the keys the facts grid already shows. */
function extraCallerMeta(meta: Record<string, unknown>): Record<string, unknown> {
  const { agent: _agent, task: _task, git: _git, ...rest } = meta;
  return rest;
}

function SafetyNote({ checkpoint }: { checkpoint: CheckpointDetail }) {
  const rollbackId = typeof checkpoint.callerMeta.rollbackId === "string" ? checkpoint.callerMeta.rollbackId : null;
  const target = typeof checkpoint.callerMeta.targetCheckpointId === "string" ? checkpoint.callerMeta.targetCheckpointId : null;
  return (
    <p className="rounded-md border border-info/30 bg-info/10 px-4 py-3 text-sm">
      This is the <strong>safety checkpoint</strong> taken just before rollback{" "}
      {rollbackId ? <RollbackIdLink component={checkpoint.component} rollbackId={rollbackId} /> : <span className="font-mono text-xs">?</span>}
      {target ? (
        <>
          {" "}
          to{" "}
          <Link href={`/checkpoints/${target}`} className="font-mono text-xs text-accent underline">
            {target}
          </Link>
        </>
      ) : null}
      .{" "}
      {checkpoint.undoneBy ? (
        <span data-testid="safety-undone">
          That rollback was undone by <RollbackIdLink component={checkpoint.component} rollbackId={checkpoint.undoneBy.rollbackId} /> at <Time iso={checkpoint.undoneBy.at} />.
        </span>
      ) : (
        "To undo that rollback, roll back to this checkpoint (Undo… below)."
      )}
    </p>
  );
}

/** Every damaged file the last check found; Roll back stays disabled until the checkpoint verifies again. */
function DamagePanel({ checkpoint }: { checkpoint: CheckpointDetail }) {
  return (
    <div role="alert" className="space-y-2 rounded-md border border-bad/40 bg-bad/10 px-4 py-3 text-sm" data-testid="damage-panel">
      <p className="font-semibold text-bad">
        Stored data of this checkpoint is damaged{checkpoint.verifiedAt ? <> (found <Time iso={checkpoint.verifiedAt} mode="relative" />)</> : null}
      </p>
      <ul className="max-h-56 space-y-0.5 overflow-y-auto font-mono text-xs">
        {checkpoint.damagedFiles.map((file) => (
          <li key={`${file.path}:${file.sha256}`} className="break-all">
            <span className="font-semibold text-bad">{file.state}</span> {file.path === null || file.path === undefined ? "(the manifest itself)" : displayPath(file.path)} <span className="text-muted">sha256 {file.sha256.slice(0, 12)}</span>
          </li>
        ))}
      </ul>
      <p className="text-xs text-muted">
        A rollback to it would be refused before anything changes, so Roll back is disabled. Pick another checkpoint; Verify checks again (if the store was repaired, it
        clears this).
      </p>
    </div>
  );
}

/** Files that kept changing while the checkpoint read them: it holds no content for them, and a rollback leaves them alone. */
function UnstablePanel({ paths }: { paths: string[] }) {
  return (
    <div role="note" className="space-y-2 rounded-md border border-warn/40 bg-warn/10 px-4 py-3 text-sm" data-testid="unstable-panel">
      <p className="font-semibold">
        {paths.length === 1 ? "1 file" : `${paths.length} files`} kept changing while this checkpoint was taken
      </p>
      <ul className="max-h-40 space-y-0.5 overflow-y-auto font-mono text-xs">
        {paths.map((p) => (
          <li key={p} className="break-all">
            {displayPath(p)}
          </li>
        ))}
      </ul>
      <p className="text-xs text-muted">
        No two reads of them agreed, so the checkpoint holds no content for them (never a mix of versions). A rollback to it leaves them as they are, and exports
        list them as left out.
      </p>
    </div>
  );
}

/** The same actions from a terminal, with this checkpoint's id. */
function cliHints(checkpoint: CheckpointDetail): CliHint[] {
  const file = `${checkpoint.component}-${checkpoint.id}`;
  return [
    { what: "What changed since this checkpoint", command: `npx safetynet checkpoint diff ${checkpoint.id} --patch` },
    { what: "The rollback plan, without changing anything", command: `npx safetynet rollback ${checkpoint.id} --dry-run` },
    { what: "Roll back (asks first)", command: `npx safetynet rollback ${checkpoint.id}` },
    { what: "Re-hash every stored object", command: `npx safetynet checkpoint verify ${checkpoint.id}` },
    { what: "Export as an archive", command: `npx safetynet checkpoint export ${checkpoint.id} --format tar.gz -o ${file}.tar.gz` },
    { what: "Restore into another, empty directory", command: `npx safetynet checkpoint restore ${checkpoint.id} --to ./${file}` },
  ];
}

/** Everything about one checkpoint: header, actions, facts, metadata, diff against live, scope and entries. */
export function CheckpointDetailView({ id, role }: { id: string; role: ViewerRole }) {
  const trpc = useTRPC();
  const detail = useQuery(trpc.checkpoint.get.queryOptions({ id }, livePolling));
  if (detail.isPending) return <LoadingBlock label="Loading checkpoint" rows={4} />;
  if (detail.isError) return <ProblemNotice problem={describeProblem(detail.error)} onRetry={() => void detail.refetch()} />;
  const checkpoint = detail.data;
  const callerExtra = extraCallerMeta(checkpoint.callerMeta);
  return (
    <div className="space-y-8">
      <header className="space-y-4">
        <ComponentBreadcrumb component={checkpoint.component}>checkpoint</ComponentBreadcrumb>
        <div className="flex flex-wrap items-start justify-between gap-4">
          <div className="min-w-0 space-y-2">
            <h1 className="flex flex-wrap items-center gap-2 break-all font-mono text-xl font-semibold tracking-tight">
              {checkpoint.id}
              <CopyButton value={checkpoint.id} label="Copy the checkpoint id" />
            </h1>
            <p className={checkpoint.reason ? "text-base" : "italic text-muted"}>{checkpoint.reason ?? "No reason given"}</p>
            <div className="flex flex-wrap items-center gap-2">
              <CheckpointKindPill kind={checkpoint.kind} />
              <CheckpointStatusPill status={checkpoint.status} expiredReason={checkpoint.expiredReason} />
              {checkpoint.pinned ? <PinnedMarker /> : null}
              <ChecksumBadge sha256={checkpoint.manifestSha256} verifyState={checkpoint.verifyState} verifiedAt={checkpoint.verifiedAt} />
            </div>
            <div className="pt-1">
              <CardChanges checkpoint={checkpoint} />
            </div>
          </div>
          <div className="flex flex-wrap gap-2">
            <Link href={compareHref(checkpoint.id)} className={buttonClasses("secondary")} data-testid="checkpoint-compare">
              Compare…
            </Link>
          </div>
        </div>
        {checkpoint.kind === "safety" ? <SafetyNote checkpoint={checkpoint} /> : null}
        {isDamaged(checkpoint) ? <DamagePanel checkpoint={checkpoint} /> : null}
        {checkpoint.unstable.length > 0 ? <UnstablePanel paths={checkpoint.unstable} /> : null}
        <CheckpointActions checkpoint={checkpoint} role={role} />
        <CliHints hints={cliHints(checkpoint)} />
      </header>

      <CheckpointFacts checkpoint={checkpoint} />

      <DatabaseSnapshots databases={checkpoint.databases} />

      <div className="grid gap-4 md:grid-cols-2">
        <section aria-labelledby="caller-meta" className="rounded-lg border border-border bg-surface p-4">
          <h2 id="caller-meta" className="mb-3 text-sm font-semibold">
            Caller metadata
          </h2>
          <MetadataDocument document={callerExtra} emptyText="No other caller metadata." />
        </section>
        <section aria-labelledby="component-meta" className="rounded-lg border border-border bg-surface p-4">
          <h2 id="component-meta" className="mb-3 text-sm font-semibold">
            Component metadata at checkpoint time
          </h2>
          <MetadataDocument document={checkpoint.componentMeta} />
        </section>
      </div>

      {checkpoint.status === "active" ? (
        <DiffView checkpointId={checkpoint.id} />
      ) : (
        <p className="rounded-md border border-dashed border-border px-4 py-3 text-sm text-muted">
          This checkpoint is {checkpoint.status}; its content may be gone, so it cannot be compared or rolled back to.
        </p>
      )}

      <CheckpointScope checkpoint={checkpoint} />

      <EntriesList checkpointId={checkpoint.id} component={checkpoint.component} />
    </div>
  );
}
