/**
 * Calendar days and wall-clock times in an IANA time zone, with nothing but Intl:
 * the timeline groups by day and jumps to a date and time in the viewer's zone, and
 * the server (day counts) and the browser (day headings, the jump) must agree on
 * what "that day" is. Pure: imported by the core and by the console alike.
 */

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = partsFormatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    partsFormatters.set(timeZone, formatter);
  }
  return formatter;
}

/** True for a zone name this runtime knows ("UTC", "Europe/Berlin", ...). */
export function isTimeZone(name: string): boolean {
  if (!name || name.length > 64) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock reading of the instant `ms` in `timeZone`. */
export function wallTimeOf(ms: number, timeZone: string): WallTime {
  const parts: Record<string, number> = {};
  for (const part of partsFormatter(timeZone).formatToParts(new Date(ms))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return { year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1, hour: (parts.hour ?? 0) % 24, minute: parts.minute ?? 0, second: parts.second ?? 0 };
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** YYYY-MM-DD: the calendar day of the instant `ms` in `timeZone`. */
export function dayInZone(ms: number, timeZone: string): string {
  const wall = wallTimeOf(ms, timeZone);
  return `${pad(wall.year, 4)}-${pad(wall.month)}-${pad(wall.day)}`;
}

/** How far `timeZone` is ahead of UTC at the instant `ms`, in milliseconds. */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const wall = wallTimeOf(ms, timeZone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

const WALL_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/**
 * The instant a wall-clock time (`YYYY-MM-DD` or `YYYY-MM-DDTHH:mm[:ss]`, as a
 * datetime-local input gives it) names in `timeZone`, or null when it is not a
 * time. A time skipped by a DST change moves forward by the gap; a repeated one is
 * one of its two readings.
 */
export function instantOfWallTime(wall: string, timeZone: string): number | null {
  const match = WALL_TIME.exec(wall);
  if (!match) return null;
  const [, y, mo, d, h = "0", mi = "0", s = "0"] = match;
  const asUtc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  // Date.UTC rolls 13/01 over into January: only a reading that comes back unchanged is a time.
  const back = new Date(asUtc);
  if (Number.isNaN(asUtc) || back.getUTCMonth() !== Number(mo) - 1 || back.getUTCDate() !== Number(d) || back.getUTCHours() !== Number(h) || back.getUTCMinutes() !== Number(mi)) return null;
  // The offset at the guess, then at the corrected instant: two steps settle every DST case.
  const first = asUtc - zoneOffsetMs(asUtc, timeZone);
  const offset = zoneOffsetMs(first, timeZone);
  const second = asUtc - offset;
  if (zoneOffsetMs(second, timeZone) === offset) return second;
  return Math.max(first, second);
}

/** The last millisecond of calendar day `day` (YYYY-MM-DD) in `timeZone`. */
export function endOfDayInZone(day: string, timeZone: string): number | null {
  const start = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(start)) return null;
  const next = new Date(start + 86_400_000).toISOString().slice(0, 10);
  const nextStart = instantOfWallTime(next, timeZone);
  return nextStart === null ? null : nextStart - 1;
}

/** `YYYY-MM-DDTHH:mm`: the value a datetime-local input shows for the instant `ms` in `timeZone`. */
export function wallTimeInputValue(ms: number, timeZone: string): string {
  const wall = wallTimeOf(ms, timeZone);
  return `${pad(wall.year, 4)}-${pad(wall.month)}-${pad(wall.day)}T${pad(wall.hour)}:${pad(wall.minute)}`;
}
