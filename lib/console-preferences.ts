/**
 * The console's per-browser preferences: times in local time or UTC, and the
 * compact timeline. Kept in cookies (so the server renders the page the way the
 * browser will show it, without a flash after hydration) and mirrored in
 * localStorage (so a cleared cookie comes back). The browser's own time zone is a
 * cookie too: the server cannot know it otherwise.
 */
import { isTimeZone } from "@/server/timeline/zoned-time";

export type TimeMode = "local" | "utc";

export interface ConsolePreferences {
  timeMode: TimeMode;
  /** The browser's IANA zone as it last reported it; null before its first visit. */
  browserZone: string | null;
  compact: boolean;
}

export const TIME_MODE_COOKIE = "sn-time";
export const BROWSER_ZONE_COOKIE = "sn-zone";
export const COMPACT_COOKIE = "sn-compact";
/** A year: preferences outlive sessions. */
export const PREFERENCE_MAX_AGE_S = 365 * 86_400;

export function preferencesFromCookies(read: (name: string) => string | undefined): ConsolePreferences {
  const zone = read(BROWSER_ZONE_COOKIE);
  return {
    timeMode: read(TIME_MODE_COOKIE) === "utc" ? "utc" : "local",
    browserZone: zone && isTimeZone(zone) ? zone : null,
    compact: read(COMPACT_COOKIE) === "1",
  };
}

/** The zone times are shown in: UTC when asked, else the browser's (UTC until the browser has said which). */
export function displayZone(timeMode: TimeMode, browserZone: string | null): string {
  return timeMode === "utc" || !browserZone ? "UTC" : browserZone;
}
