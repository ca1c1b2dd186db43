import Link from "next/link";
import { ChecksumBadge } from "@/components/ChecksumBadge";
import { CheckpointKindPill, CheckpointStatusPill, PinnedMarker } from "@/components/CheckpointPills";
import { Time } from "@/components/ui/Time";
import { formatBytes, formatCount } from "@/lib/format";
import type { CheckpointListItem } from "@/lib/trpc/types";

function metaText(meta: Record<string, unknown>, key: string): string | null {
  const value = meta[key];
  return typeof value === "string" && value ? value : typeof value === "number" ? String(value) : null;
}

/** One checkpoint on a component's timeline. */
export function CheckpointCard({ checkpoint }: { checkpoint: CheckpointListItem }) {
  const agent = metaText(checkpoint.callerMeta, "agent");
  const task = metaText(checkpoint.callerMeta, "task");
  const safety = checkpoint.kind === "safety";
  return (
    <article
      aria-labelledby={`cp-${checkpoint.id}`}
      data-testid="timeline-item"
      className={`rounded-lg border bg-surface p-4 ${checkpoint.status === "active" ? "border-border" : "border-dashed border-border opacity-80"}`}
    >
      <div className="flex flex-wrap items-start justify-between gap-x-4 gap-y-2">
        <div className="min-w-0 space-y-1">
          <h3 id={`cp-${checkpoint.id}`} className="text-sm font-semibold">
            <Link href={`/checkpoints/${checkpoint.id}`} className="hover:underline">
              <Time iso={checkpoint.createdAt} />
            </Link>
          </h3>
          <p className={`text-sm ${checkpoint.reason ? "" : "italic text-muted"}`}>
            {checkpoint.reason ?? (safety ? "Safety checkpoint" : "No reason given")}
          </p>
        </div>
        <div className="flex flex-wrap items-center gap-1.5">
          <CheckpointKindPill kind={checkpoint.kind} />
          <CheckpointStatusPill status={checkpoint.status} expiredReason={checkpoint.expiredReason} />
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
            {formatCount(checkpoint.files)} file{checkpoint.files === 1 ? "" : "s"}
          </dd>
        </div>
        <div>
          <dt className="sr-only">size</dt>
          <dd className="inline tabular-nums">{formatBytes(checkpoint.bytes)}</dd>
        </div>
        <div>
          <dt className="inline">new </dt>
          <dd className="inline tabular-nums" title="Bytes this checkpoint added to the store (the rest was already stored)">
            {formatBytes(checkpoint.newBytes)}
          </dd>
        </div>
        {checkpoint.paths.length > 0 ? (
          <div className="min-w-0">
            <dt className="inline">paths </dt>
            <dd className="inline font-mono" title={checkpoint.paths.join("\n")}>
              {checkpoint.paths.slice(0, 3).join(", ")}
              {checkpoint.paths.length > 3 ? ` +${checkpoint.paths.length - 3}` : ""}
            </dd>
          </div>
        ) : null}
      </dl>
      <div className="mt-3 flex flex-wrap items-center justify-between gap-2">
        <ChecksumBadge sha256={checkpoint.manifestSha256} verifyState={checkpoint.verifyState} verifiedAt={checkpoint.verifiedAt} />
        <Link href={`/checkpoints/${checkpoint.id}`} className="font-mono text-xs text-muted hover:text-accent hover:underline">
          {checkpoint.id} →
        </Link>
      </div>
    </article>
  );
}
