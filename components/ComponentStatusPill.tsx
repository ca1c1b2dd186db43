import Link from "next/link";
import { Pill, type Tone } from "@/components/ui/Pill";
import { Time } from "@/components/ui/Time";
import { rolledBackMarkOf } from "@/server/registry/component-status";

const STATUS_TONES: Record<string, Tone> = {
  active: "ok",
  "rolled-back": "warn",
  deprecated: "neutral",
  archived: "neutral",
  broken: "bad",
  failed: "bad",
};

/** The `status` of a component's metadata document (free text; known values are coloured). */
export function ComponentStatusPill({ metadata }: { metadata: Record<string, unknown> }) {
  const status = typeof metadata.status === "string" && metadata.status ? metadata.status : null;
  if (!status) return <span className="text-muted">—</span>;
  const mark = rolledBackMarkOf(metadata);
  return (
    <Pill tone={STATUS_TONES[status] ?? "info"} title={mark ? `set by rollback ${mark.rollbackId} to ${mark.checkpointId}` : undefined}>
      {status}
    </Pill>
  );
}

/**
 * When a rollback set the status: which rollback, to which checkpoint, when, and
 * what clears it (the next checkpoint taken on purpose restores the status before).
 */
export function RolledBackNote({ metadata, compact = false }: { metadata: Record<string, unknown>; compact?: boolean }) {
  const mark = rolledBackMarkOf(metadata);
  if (!mark) return null;
  if (compact) {
    return (
      <span className="text-xs text-muted" data-testid="rolled-back-note">
        by <span className="font-mono">{mark.rollbackId}</span> <Time iso={mark.at} mode="relative" />
      </span>
    );
  }
  return (
    <p className="text-sm text-muted" data-testid="rolled-back-note">
      Rolled back <Time iso={mark.at} mode="relative" /> by rollback <span className="font-mono text-xs text-foreground">{mark.rollbackId}</span> to{" "}
      <Link href={`/checkpoints/${mark.checkpointId}`} className="font-mono text-xs text-accent hover:underline">
        {mark.checkpointId}
      </Link>
      . The next checkpoint taken on purpose sets the status back to <strong>{mark.statusBefore ?? "active"}</strong>.
    </p>
  );
}
