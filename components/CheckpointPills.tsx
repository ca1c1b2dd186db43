import { Pill } from "@/components/ui/Pill";

/** manual (taken on purpose) or safety (taken automatically before a rollback). */
export function CheckpointKindPill({ kind }: { kind: string }) {
  return kind === "safety" ? (
    <Pill tone="info" title="Taken automatically before a rollback, so the rollback can be undone">
      safety
    </Pill>
  ) : (
    <Pill tone="accent" title="Taken on request (CLI, API, agent)">
      {kind}
    </Pill>
  );
}

/** active / expired (retention) / deleted. */
export function CheckpointStatusPill({ status, expiredReason }: { status: string; expiredReason?: string | null }) {
  const tone = status === "active" ? "ok" : status === "expired" ? "warn" : "neutral";
  return (
    <Pill tone={tone} title={expiredReason ?? undefined}>
      {status}
    </Pill>
  );
}

/** Kept regardless of retention. */
export function PinnedMarker() {
  return (
    <Pill tone="warn" title="Pinned: retention never removes it">
      <svg viewBox="0 0 16 16" aria-hidden="true" className="h-3 w-3 fill-current">
        <path d="M10.5 1.5 14.5 5.5l-1.4 1.4-.7-.7-2.6 2.6.3 3.2-1.4 1.4-2.5-2.5-3.4 3.4-.7-.7 3.4-3.4L3 7.7l1.4-1.4 3.2.3 2.6-2.6-.7-.7z" />
      </svg>
      pinned
    </Pill>
  );
}
