import Link from "next/link";
import { Time } from "@/components/ui/Time";
import type { TimelineEvent } from "@/lib/trpc/types";

function CheckpointLink({ id }: { id: string | null }) {
  if (!id) return <span>a checkpoint</span>;
  return (
    <Link href={`/checkpoints/${id}`} className="font-mono text-accent hover:underline">
      {id}
    </Link>
  );
}

/** A verification or a removal (retention expiry, operator delete) on the timeline: one line. */
export function EventEntry({ event }: { event: TimelineEvent }) {
  const failed = event.outcome === "failed";
  let text;
  if (event.kind === "checkpoint.verify") {
    text = failed ? (
      <>
        <span className="font-medium text-bad">Verification found damage</span> in <CheckpointLink id={event.checkpointId} />
        {event.problems ? ` (${event.problems} file${event.problems === 1 ? "" : "s"} ${event.state ?? "damaged"})` : ""}
      </>
    ) : (
      <>
        <span className="font-medium text-ok">Verified</span> <CheckpointLink id={event.checkpointId} />: every stored object matched its sha256
      </>
    );
  } else if (event.kind === "checkpoint.expire") {
    text = (
      <>
        <span className="font-medium text-warn">Retention expired</span> <CheckpointLink id={event.checkpointId} />
        {event.rule ? ` (${event.rule}${event.reason ? `: ${event.reason}` : ""})` : ""}
      </>
    );
  } else {
    text = (
      <>
        <span className="font-medium">Deleted</span> <CheckpointLink id={event.checkpointId} />
      </>
    );
  }
  return (
    <p data-testid="timeline-event" data-kind={event.kind} data-outcome={event.outcome} className="flex flex-wrap items-baseline gap-x-2 px-1 text-xs">
      <span className="text-muted">
        <Time iso={event.startedAt} mode="absolute" />
      </span>
      <span className="min-w-0 break-words">{text}</span>
      <span className="text-muted">by {event.actor}</span>
    </p>
  );
}
