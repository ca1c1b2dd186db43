"use client";

import Link from "next/link";
import { ChecksumBadge } from "@/components/ChecksumBadge";
import { CheckpointStatusPill, PinnedMarker } from "@/components/CheckpointPills";
import { NewBytes } from "@/components/NewBytes";
import { RollbackBlockedNote, RollbackDialog } from "@/components/RollbackDialog";
import { CardChanges } from "@/components/timeline/CardChanges";
import { CheckpointIdLink } from "@/components/ui/CopyButton";
import { Pill } from "@/components/ui/Pill";
import { MatchesLivePill } from "@/components/timeline/MatchesLivePill";
import { Time } from "@/components/ui/Time";
import { damageSummary, isDamaged, rollbackBlockedReason } from "@/lib/checkpoint-state";
import { compareHref } from "@/lib/compare-target";
import { formatBytes, formatCount } from "@/lib/format";
import type { TimelineCheckpoint, ViewerRole } from "@/lib/trpc/types";

function metaText(meta: Record<string, unknown>, key: string): string | null {
  const value = meta[key];
  return typeof value === "string" && value ? value : typeof value === "number" ? String(value) : null;
}

/**
 * One checkpoint on a component's timeline, with Roll back. Only what sets it apart
 * is marked (the timeline's legend says what is usual: manual, active): a safety
 * checkpoint, another status, a pin, damage, the match with the live workspace.
 */
export function CheckpointCard({ checkpoint, role, matchesLive }: { checkpoint: TimelineCheckpoint; role: ViewerRole; matchesLive: boolean }) {
  const agent = metaText(checkpoint.callerMeta, "agent");
  const task = metaText(checkpoint.callerMeta, "task");
  const rollbackId = metaText(checkpoint.callerMeta, "rollbackId");
  const safety = checkpoint.kind === "safety";
  const damaged = isDamaged(checkpoint);
  const blocked = rollbackBlockedReason(checkpoint, role);
  return (
    <article
      aria-labelledby={`cp-${checkpoint.id}`}
      data-testid="timeline-item"
      data-checkpoint-id={checkpoint.id}
      data-live={matchesLive ? "true" : undefined}
      className={`rounded-lg border bg-surface p-4 ${damaged ? "border-bad/50" : matchesLive ? "border-accent" : checkpoint.status === "active" ? "border-border" : "border-dashed border-border opacity-80"}`}
    >
      <div className="flex flex-wrap items-start justify-between gap-x-4 gap-y-2">
        <div className="min-w-0 space-y-1">
          <h3 id={`cp-${checkpoint.id}`} className="text-sm font-semibold">
            <Link href={`/checkpoints/${checkpoint.id}`} className="hover:underline">
              <Time iso={checkpoint.createdAt} />
            </Link>
          </h3>
          <p className={`break-words text-sm ${checkpoint.reason ? "" : "italic text-muted"}`}>
            {safety ? (
              <>
                Safety checkpoint before rollback <span className="font-mono text-xs">{rollbackId ?? "?"}</span>: rolling back to it undoes that rollback.
              </>
            ) : (
              (checkpoint.reason ?? "No reason given")
            )}
          </p>
        </div>
        <div className="flex flex-wrap items-center gap-1.5">
          {matchesLive ? <MatchesLivePill partial={checkpoint.paths.length > 0} /> : null}
          {safety ? (
            <Pill tone="info" title="Taken automatically before a rollback, so the rollback can be undone">
              safety
            </Pill>
          ) : null}
          {checkpoint.paths.length > 0 ? (
            <Pill tone="neutral" title={`Only these paths and their related files:\n${checkpoint.paths.join("\n")}`}>
              partial
            </Pill>
          ) : null}
          {checkpoint.status !== "active" ? <CheckpointStatusPill status={checkpoint.status} expiredReason={checkpoint.expiredReason} /> : null}
          {checkpoint.pinned ? <PinnedMarker /> : null}
        </div>
      </div>
      <dl className="mt-3 flex flex-wrap gap-x-5 gap-y-1 text-xs text-muted">
        <div>
          <dt className="inline">by </dt>
          <dd className="inline font-medium text-foreground">{checkpoint.actor}</dd>
        </div>
        {agent ? (
          <div>
            <dt className="inline">agent </dt>
            <dd className="inline font-medium text-foreground">{agent}</dd>
          </div>
        ) : null}
        {task ? (
          <div>
            <dt className="inline">task </dt>
            <dd className="inline font-medium text-foreground">{task}</dd>
          </div>
        ) : null}
        <div>
          <dt className="sr-only">files</dt>
          <dd className="inline tabular-nums">
            {formatCount(checkpoint.files)} file{checkpoint.files === 1 ? "" : "s"} · {formatBytes(checkpoint.bytes)}
          </dd>
        </div>
        <div>
          <dt className="sr-only">added to the store</dt>
          <dd className="inline tabular-nums">
            <NewBytes bytes={checkpoint.bytes} newBytes={checkpoint.newBytes} manifestBytes={checkpoint.manifestBytes} />
          </dd>
        </div>
        {checkpoint.paths.length > 0 ? (
          <div className="min-w-0">
            <dt className="inline">paths </dt>
            <dd className="inline break-all font-mono" title={checkpoint.paths.join("\n")}>
              {checkpoint.paths.slice(0, 3).join(", ")}
              {checkpoint.paths.length > 3 ? ` +${checkpoint.paths.length - 3}` : ""}
            </dd>
          </div>
        ) : null}
      </dl>
      <div className="mt-2">
        <CardChanges checkpoint={checkpoint} />
      </div>
      {damaged ? (
        <p role="note" className="mt-3 rounded-md border border-bad/40 bg-bad/10 px-3 py-2 text-xs" data-testid="damage-note">
          <strong className="text-bad">Damaged:</strong> {damageSummary(checkpoint)}.
        </p>
      ) : null}
      <div className="mt-3 flex flex-wrap items-center justify-between gap-2">
        <div className="flex min-w-0 flex-wrap items-center gap-2">
          <ChecksumBadge sha256={checkpoint.manifestSha256} verifyState={checkpoint.verifyState} verifiedAt={checkpoint.verifiedAt} />
          <CheckpointIdLink id={checkpoint.id} />
          <Link href={compareHref(checkpoint.id)} className="text-xs text-accent hover:underline" data-testid="card-compare">
            Compare
          </Link>
        </div>
        <RollbackDialog
          target={{ id: checkpoint.id, component: checkpoint.component, createdAt: checkpoint.createdAt, reason: checkpoint.reason }}
          disabledReason={blocked}
          trigger={{ className: "px-3 py-1.5 text-xs" }}
        />
      </div>
      <RollbackBlockedNote reason={blocked} role={role} />
    </article>
  );
}
