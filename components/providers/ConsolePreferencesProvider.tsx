"use client";

/**
 * Times in local time or UTC, and the compact timeline, for every component of
 * the console. The server renders with the preferences its cookies carried; the
 * browser starts from the same values (so hydration matches) and then reports its
 * own zone, which the next page load renders with.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useSyncExternalStore, type ReactNode } from "react";
import {
  BROWSER_ZONE_COOKIE,
  COMPACT_COOKIE,
  displayZone,
  PREFERENCE_MAX_AGE_S,
  TIME_MODE_COOKIE,
  type ConsolePreferences,
  type TimeMode,
} from "@/lib/console-preferences";

interface PreferencesContext {
  timeMode: TimeMode;
  /** The zone times are shown in ("UTC" or the browser's IANA zone). */
  zone: string;
  compact: boolean;
  setTimeMode(mode: TimeMode): void;
  setCompact(compact: boolean): void;
}

const Context = createContext<PreferencesContext | null>(null);

const STORAGE_KEY = "safetynet.console-preferences";

function writeCookie(name: string, value: string): void {
  document.cookie = `${name}=${encodeURIComponent(value)}; path=/; max-age=${PREFERENCE_MAX_AGE_S}; samesite=lax`;
}

type Stored = Partial<Pick<ConsolePreferences, "timeMode" | "compact">>;

const listeners = new Set<() => void>();
let stored: Stored | null = null;

/** What this browser chose, from localStorage (read once, then kept here and written through). */
function storedPreferences(): Stored {
  if (stored) return stored;
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "{}");
    const record = parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : {};
    stored = {
      ...(record.timeMode === "utc" || record.timeMode === "local" ? { timeMode: record.timeMode } : {}),
      ...(typeof record.compact === "boolean" ? { compact: record.compact } : {}),
    };
  } catch {
    stored = {};
  }
  return stored;
}

function writeCookies(preferences: Pick<ConsolePreferences, "timeMode" | "compact">): void {
  writeCookie(TIME_MODE_COOKIE, preferences.timeMode);
  writeCookie(COMPACT_COOKIE, preferences.compact ? "1" : "0");
}

function choose(preferences: Pick<ConsolePreferences, "timeMode" | "compact">): void {
  stored = { ...preferences };
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(stored));
  } catch {
    // Storage may be disabled; the cookies still carry the choice.
  }
  writeCookies(preferences);
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const subscribeToNothing = () => () => {};
const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export function ConsolePreferencesProvider({ initial, children }: { initial: ConsolePreferences; children: ReactNode }) {
  // During hydration, what the server rendered with (its cookies); after it, this browser's own choice and zone.
  const serverTimeMode = useCallback(() => initial.timeMode, [initial.timeMode]);
  const serverCompact = useCallback(() => initial.compact, [initial.compact]);
  const serverZone = useCallback(() => initial.browserZone, [initial.browserZone]);
  const clientTimeMode = useCallback(() => storedPreferences().timeMode ?? initial.timeMode, [initial.timeMode]);
  const clientCompact = useCallback(() => storedPreferences().compact ?? initial.compact, [initial.compact]);
  const timeMode = useSyncExternalStore<TimeMode>(subscribe, clientTimeMode, serverTimeMode);
  const compact = useSyncExternalStore<boolean>(subscribe, clientCompact, serverCompact);
  const zoneOfBrowser = useSyncExternalStore<string | null>(subscribeToNothing, browserZone, serverZone);

  // The cookies follow, so the next page the server renders looks the same (a cleared cookie comes back from storage).
  useEffect(() => {
    if (zoneOfBrowser) writeCookie(BROWSER_ZONE_COOKIE, zoneOfBrowser);
    writeCookies({ timeMode, compact });
  }, [zoneOfBrowser, timeMode, compact]);

  const value = useMemo<PreferencesContext>(
    () => ({
      timeMode,
      zone: displayZone(timeMode, zoneOfBrowser),
      compact,
      setTimeMode: (mode) => choose({ timeMode: mode, compact }),
      setCompact: (next) => choose({ timeMode, compact: next }),
    }),
    [timeMode, compact, zoneOfBrowser],
  );
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

const FALLBACK: PreferencesContext = { timeMode: "utc", zone: "UTC", compact: false, setTimeMode: () => {}, setCompact: () => {} };

/** The console's preferences; UTC and the full timeline outside the provider (error pages). */
export function useConsolePreferences(): PreferencesContext {
  return useContext(Context) ?? FALLBACK;
}
