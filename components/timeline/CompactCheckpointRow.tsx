"use client";

import Link from "next/link";
import { CheckpointStatusPill, PinnedMarker } from "@/components/CheckpointPills";
import { RollbackDialog } from "@/components/RollbackDialog";
import { MatchesLivePill } from "@/components/timeline/MatchesLivePill";
import { Pill } from "@/components/ui/Pill";
import { Time } from "@/components/ui/Time";
import { damageSummary, isDamaged, rollbackBlockedReason } from "@/lib/checkpoint-state";
import { formatBytes, formatCount } from "@/lib/format";
import type { TimelineCheckpoint, ViewerRole } from "@/lib/trpc/types";

function metaText(meta: Record<string, unknown>, key: string): string | null {
  const value = meta[key];
  return typeof value === "string" && value ? value : null;
}

/**
 * A checkpoint as one dense line (the timeline's compact mode): time, reason,
 * agent and task, what sets it apart, size, and Roll back. Everything else is one
 * click away on the checkpoint page.
 */
export function CompactCheckpointRow({ checkpoint, role, matchesLive }: { checkpoint: TimelineCheckpoint; role: ViewerRole; matchesLive: boolean }) {
  const agent = metaText(checkpoint.callerMeta, "agent");
  const task = metaText(checkpoint.callerMeta, "task");
  const safety = checkpoint.kind === "safety";
  const damaged = isDamaged(checkpoint);
  const blocked = rollbackBlockedReason(checkpoint, role);
  const reason = safety ? "Safety checkpoint before a rollback" : (checkpoint.reason ?? "No reason given");
  return (
    <article
      aria-label={`Checkpoint ${checkpoint.id}`}
      data-testid="timeline-item"
      data-compact="true"
      data-checkpoint-id={checkpoint.id}
      data-live={matchesLive ? "true" : undefined}
      className={`flex min-w-0 items-center gap-3 rounded-md border bg-surface px-3 py-1 text-xs ${damaged ? "border-bad/50" : matchesLive ? "border-accent" : checkpoint.status === "active" ? "border-border" : "border-dashed border-border opacity-80"}`}
    >
      <Link href={`/checkpoints/${checkpoint.id}`} data-row-primary="" className="shrink-0 font-medium tabular-nums hover:underline">
        <Time iso={checkpoint.createdAt} mode="absolute" />
      </Link>
      <span className={`min-w-0 flex-1 truncate ${checkpoint.reason || safety ? "" : "italic text-muted"}`} title={reason}>
        {reason}
        {agent || task ? <span className="text-muted"> · {[agent, task].filter(Boolean).join(" · ")}</span> : null}
      </span>
      <span className="hidden shrink-0 items-center gap-1 sm:flex">
        {matchesLive ? <MatchesLivePill partial={checkpoint.paths.length > 0} /> : null}
        {safety ? <Pill tone="info">safety</Pill> : null}
        {checkpoint.paths.length > 0 ? <Pill tone="neutral">partial</Pill> : null}
        {damaged ? (
          <Pill tone="bad" title={damageSummary(checkpoint)}>
            damaged
          </Pill>
        ) : null}
        {checkpoint.status !== "active" ? <CheckpointStatusPill status={checkpoint.status} expiredReason={checkpoint.expiredReason} /> : null}
        {checkpoint.pinned ? <PinnedMarker /> : null}
      </span>
      <span className="hidden shrink-0 tabular-nums text-muted md:inline">
        {formatCount(checkpoint.files)} file{checkpoint.files === 1 ? "" : "s"} · {formatBytes(checkpoint.bytes)}
      </span>
      <span className="hidden shrink-0 font-mono text-muted lg:inline">{checkpoint.id}</span>
      <RollbackDialog
        target={{ id: checkpoint.id, component: checkpoint.component, createdAt: checkpoint.createdAt, reason: checkpoint.reason }}
        disabledReason={blocked}
        trigger={{ className: "shrink-0 px-2 py-0.5 text-xs" }}
      />
    </article>
  );
}
