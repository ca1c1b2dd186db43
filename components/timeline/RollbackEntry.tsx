import Link from "next/link";
import { CopyButton } from "@/components/ui/CopyButton";
import { Pill } from "@/components/ui/Pill";
import { Time } from "@/components/ui/Time";
import { RollbackIdLink, UndoneByNote } from "@/components/timeline/RollbackLinks";
import { UndoRollbackDialog } from "@/components/timeline/UndoRollbackDialog";
import { formatBytes, formatCount, formatDuration } from "@/lib/format";
import type { TimelineRollback, ViewerRole } from "@/lib/trpc/types";

const OUTCOME_TONE = { succeeded: "ok", recovered: "ok", failed: "bad", running: "warn" } as const;

/**
 * A rollback on the timeline: where it went (or which rollback it undid), its
 * outcome and duration, who undid it, and Undo (to its safety checkpoint) while
 * it is not undone. Its id anchors the entry, so a link to the record lands here.
 */
export function RollbackEntry({ rollback, component, role }: { rollback: TimelineRollback; component: string; role: ViewerRole }) {
  const refused = rollback.failure?.failure === "refused";
  const tone = refused ? "warn" : (OUTCOME_TONE[rollback.outcome as keyof typeof OUTCOME_TONE] ?? "neutral");
  const done = rollback.outcome === "succeeded" || rollback.outcome === "recovered";
  return (
    <article
      id={rollback.id}
      data-testid="timeline-rollback"
      data-rollback-id={rollback.id}
      data-outcome={rollback.outcome}
      data-failure={rollback.failure?.failure}
      data-undone={rollback.undoneBy ? "true" : undefined}
      className={`scroll-mt-16 rounded-lg border px-4 py-3 target:ring-2 target:ring-accent ${rollback.outcome === "failed" ? "border-bad/40 bg-bad/5" : "border-info/30 bg-info/5"}`}
    >
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0 space-y-1 text-sm">
          <p className="flex flex-wrap items-center gap-2 font-medium" data-testid="rollback-label">
            <span aria-hidden="true">↺</span>
            {rollback.undoOf ? (
              <>
                Undo of <RollbackIdLink component={component} rollbackId={rollback.undoOf} />
              </>
            ) : (
              <>
                Rollback to{" "}
                <Link href={`/checkpoints/${rollback.checkpointId}`} className="font-mono text-xs text-accent hover:underline">
                  {rollback.checkpointId}
                </Link>
              </>
            )}
            <Pill tone={tone} title={refused ? `Refused before any change (${rollback.failure?.refusal ?? "a check"}); nothing was changed` : undefined}>
              {refused ? "refused" : rollback.outcome}
            </Pill>
            {rollback.undoneBy ? <Pill tone="neutral">undone</Pill> : null}
          </p>
          <p className="text-xs text-muted">
            <Time iso={rollback.startedAt} /> · by <span className="text-foreground">{rollback.actor}</span> · took {formatDuration(rollback.durationMs)}
            {done ? ` · ${formatCount(rollback.restored)} restored, ${formatCount(rollback.deleted)} deleted, ${formatBytes(rollback.bytes)} written` : ""}
          </p>
          {rollback.undoOf ? (
            <p className="text-xs text-muted">
              back to its safety checkpoint{" "}
              <Link href={`/checkpoints/${rollback.checkpointId}`} className="font-mono text-accent hover:underline">
                {rollback.checkpointId}
              </Link>
            </p>
          ) : null}
          <p className="flex flex-wrap items-center gap-1 text-xs text-muted">
            <span className="font-mono">{rollback.id}</span>
            <CopyButton value={rollback.id} label={`Copy rollback id ${rollback.id}`} />
            <UndoneByNote component={component} undoneBy={rollback.undoneBy} />
          </p>
          {rollback.error ? <p className="break-words rounded border border-bad/30 bg-surface px-2 py-1 font-mono text-xs text-bad">{rollback.error}</p> : null}
        </div>
        {done && rollback.safetyCheckpointId ? (
          <UndoRollbackDialog
            rollback={{ id: rollback.id, component, safetyCheckpointId: rollback.safetyCheckpointId, startedAt: rollback.startedAt }}
            role={role}
            hidden={rollback.undoneBy !== null}
          />
        ) : null}
      </div>
    </article>
  );
}
