"use client";

import { useConsolePreferences } from "@/components/providers/ConsolePreferencesProvider";
import type { TimeMode } from "@/lib/console-preferences";

const OPTIONS: { mode: TimeMode; label: string; explain: string }[] = [
  { mode: "local", label: "Local", explain: "Show times and days in this browser's time zone" },
  { mode: "utc", label: "UTC", explain: "Show times and days in UTC" },
];

/** Local time or UTC for every time on the console; remembered by this browser. */
export function TimeModeToggle() {
  const { timeMode, setTimeMode } = useConsolePreferences();
  return (
    <div role="group" aria-label="Show times in" className="flex items-center rounded-md border border-border text-xs" data-testid="time-mode">
      {OPTIONS.map((option) => (
        <button
          key={option.mode}
          type="button"
          aria-pressed={timeMode === option.mode}
          title={option.explain}
          onClick={() => setTimeMode(option.mode)}
          className={`px-2 py-1 first:rounded-l-md last:rounded-r-md ${timeMode === option.mode ? "bg-accent text-background" : "text-muted hover:text-foreground"}`}
        >
          {option.label}
        </button>
      ))}
    </div>
  );
}
