"use client";

import { formatRelative, formatUtc } from "@/lib/format";
import { useNow } from "@/components/hooks/useNow";

/**
 * A timestamp: the UTC time (identical on server and client), followed by the
 * relative time once the page runs in the browser. `mode="relative"` shows the
 * relative time first and keeps the UTC time in the tooltip.
 */
export function Time({ iso, mode = "both", className = "" }: { iso: string | null | undefined; mode?: "both" | "relative" | "absolute"; className?: string }) {
  const now = useNow();
  if (!iso) return <span className={className}>—</span>;
  const absolute = formatUtc(iso);
  const relative = now === null ? null : formatRelative(iso, now);
  if (mode === "relative") {
    return (
      <time dateTime={iso} title={absolute} className={className}>
        {relative ?? absolute}
      </time>
    );
  }
  return (
    <time dateTime={iso} title={absolute} className={className}>
      {absolute}
      {mode === "both" && relative ? <span className="text-muted"> · {relative}</span> : null}
    </time>
  );
}
