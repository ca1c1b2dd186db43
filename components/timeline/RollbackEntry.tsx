import Link from "next/link";
import { RollbackDialog } from "@/components/RollbackDialog";
import { CopyButton } from "@/components/ui/CopyButton";
import { Pill } from "@/components/ui/Pill";
import { Time } from "@/components/ui/Time";
import { formatBytes, formatCount, formatDuration } from "@/lib/format";
import { roleAllows, type TimelineRollback, type ViewerRole } from "@/lib/trpc/types";

const OUTCOME_TONE = { succeeded: "ok", recovered: "ok", failed: "bad", running: "warn" } as const;

/** A rollback on the timeline: where it went, its outcome and duration, and Undo (to its safety checkpoint). */
export function RollbackEntry({ rollback, component, role }: { rollback: TimelineRollback; component: string; role: ViewerRole }) {
  const tone = OUTCOME_TONE[rollback.outcome as keyof typeof OUTCOME_TONE] ?? "neutral";
  const done = rollback.outcome === "succeeded" || rollback.outcome === "recovered";
  return (
    <article
      data-testid="timeline-rollback"
      data-rollback-id={rollback.id}
      data-outcome={rollback.outcome}
      className={`rounded-lg border px-4 py-3 ${rollback.outcome === "failed" ? "border-bad/40 bg-bad/5" : "border-info/30 bg-info/5"}`}
    >
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0 space-y-1 text-sm">
          <p className="flex flex-wrap items-center gap-2 font-medium">
            <span aria-hidden="true">↺</span> Rollback to{" "}
            <Link href={`/checkpoints/${rollback.checkpointId}`} className="font-mono text-xs text-accent hover:underline">
              {rollback.checkpointId}
            </Link>
            <Pill tone={tone}>{rollback.outcome}</Pill>
          </p>
          <p className="text-xs text-muted">
            <Time iso={rollback.startedAt} /> · by <span className="text-foreground">{rollback.actor}</span> · took {formatDuration(rollback.durationMs)}
            {done ? ` · ${formatCount(rollback.restored)} restored, ${formatCount(rollback.deleted)} deleted, ${formatBytes(rollback.bytes)} written` : ""}
          </p>
          <p className="flex items-center gap-1 text-xs text-muted">
            <span className="font-mono">{rollback.id}</span>
            <CopyButton value={rollback.id} label={`Copy rollback id ${rollback.id}`} />
          </p>
          {rollback.error ? <p className="break-words rounded border border-bad/30 bg-surface px-2 py-1 font-mono text-xs text-bad">{rollback.error}</p> : null}
        </div>
        {done && rollback.safetyCheckpointId ? (
          <RollbackDialog
            target={{ id: rollback.safetyCheckpointId, component, createdAt: rollback.startedAt, reason: `safety checkpoint before rollback ${rollback.id}` }}
            disabledReason={roleAllows(role, "agent") ? null : `Undoing needs the agent role or higher; your token has ${role}`}
            trigger={{ label: "Undo…", variant: "secondary", className: "px-3 py-1.5 text-xs" }}
          />
        ) : null}
      </div>
    </article>
  );
}
