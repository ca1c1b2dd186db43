"use client";

import { useMemo } from "react";
import { formatInZone, formatRelative, isoUtc } from "@/lib/format";
import { useNow } from "@/components/hooks/useNow";
import { useConsolePreferences } from "@/components/providers/ConsolePreferencesProvider";

/** Formats a timestamp in the zone the operator chose (local time or UTC). */
export function useFormatTime(): (iso: string) => string {
  const { zone } = useConsolePreferences();
  return (iso) => formatInZone(iso, zone);
}

/**
 * A timestamp in the zone the operator chose (local time with its abbreviation,
 * or UTC; the server renders the same), followed by the relative time once the
 * page runs in the browser; the tooltip has the exact UTC instant.
 * `mode="relative"` shows the relative time first.
 */
export function Time({ iso, mode = "both", className = "" }: { iso: string | null | undefined; mode?: "both" | "relative" | "absolute"; className?: string }) {
  const now = useNow();
  const { zone } = useConsolePreferences();
  // The relative part ticks every second; the absolute time only changes with the zone.
  const absolute = useMemo(() => (iso ? formatInZone(iso, zone) : ""), [iso, zone]);
  if (!iso) return <span className={className}>—</span>;
  const relative = now === null ? null : formatRelative(iso, now);
  const title = `${isoUtc(iso)} (UTC)`;
  if (mode === "relative") {
    return (
      <time dateTime={iso} title={`${absolute}\n${title}`} className={className}>
        {relative ?? absolute}
      </time>
    );
  }
  return (
    <time dateTime={iso} title={title} className={className}>
      {absolute}
      {mode === "both" && relative ? <span className="text-muted"> · {relative}</span> : null}
    </time>
  );
}
