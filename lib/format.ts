/**
 * How numbers, sizes, durations and times read on the dashboard. Deterministic
 * (fixed locale; times in a zone both sides are told) so the server-rendered HTML
 * matches the browser's first render.
 */
import { wallTimeOf } from "@/server/timeline/zoned-time";

const COUNT = new Intl.NumberFormat("en-US");
const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

export function formatCount(n: number): string {
  return COUNT.format(n);
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "—";
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < BYTE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1) return "<1 ms";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes} min ${seconds} s`;
}

export function formatPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined) return "—";
  const pct = ratio * 100;
  return `${pct === 100 || pct === 0 ? pct.toFixed(0) : pct.toFixed(1)}%`;
}

/** `2025-11-25 18:23:04 UTC` */
export function formatUtc(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

const zoneNames = new Map<string, Intl.DateTimeFormat>();

/** The short name of `timeZone` at `date`: `PST`, `CEST`, or `GMT+5:30` where English has none. */
function zoneAbbreviation(date: Date, timeZone: string): string {
  let formatter = zoneNames.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "short" });
    zoneNames.set(timeZone, formatter);
  }
  return formatter.formatToParts(date).find((part) => part.type === "timeZoneName")?.value ?? timeZone;
}

/** `2025-11-25 10:23:04 PST` in `timeZone`; exactly `formatUtc` in UTC. */
export function formatInZone(iso: string, timeZone: string): string {
  if (timeZone === "UTC") return formatUtc(iso);
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const w = wallTimeOf(date.getTime(), timeZone);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${w.year}-${two(w.month)}-${two(w.day)} ${two(w.hour)}:${two(w.minute)}:${two(w.second)} ${zoneAbbreviation(date, timeZone)}`;
}

/** `2025-11-25T18:23:04.000Z`: the exact instant, for tooltips (and what exports carry). */
export function isoUtc(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString();
}

/** `3 min ago`, `in 9 min`, `2 days ago`, relative to `nowMs`. */
export function formatRelative(iso: string, nowMs: number): string {
  const delta = new Date(iso).getTime() - nowMs;
  const abs = Math.abs(delta);
  const past = delta <= 0;
  let text: string;
  if (abs < 10_000) return past ? "just now" : "in a few seconds";
  if (abs < 60_000) text = `${Math.round(abs / 1000)} s`;
  else if (abs < 3_600_000) text = `${Math.round(abs / 60_000)} min`;
  else if (abs < 86_400_000) text = `${Math.round(abs / 3_600_000)} h`;
  else {
    const days = Math.round(abs / 86_400_000);
    text = `${days} day${days === 1 ? "" : "s"}`;
  }
  return past ? `${text} ago` : `in ${text}`;
}

/** The first 12 hex digits of a sha256: enough to tell checkpoints apart at a glance. */
export function shortSha(sha: string): string {
  return sha.slice(0, 12);
}

/** Permission bits as `0644`. */
export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}
