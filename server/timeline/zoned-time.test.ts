import { describe, expect, it } from "vitest";
import { dayInZone, endOfDayInZone, instantOfWallTime, isTimeZone, wallTimeInputValue, zoneOffsetMs } from "./zoned-time";

const ms = (iso: string) => Date.parse(iso);

describe("zoned time", () => {
  it("knows IANA zone names and refuses anything else", () => {
    expect(isTimeZone("UTC")).toBe(true);
    expect(isTimeZone("America/Los_Angeles")).toBe(true);
    expect(isTimeZone("Mars/Olympus")).toBe(false);
    expect(isTimeZone("")).toBe(false);
  });

  it("puts 23:30 UTC on the next day in India and on the same day in California", () => {
    expect(dayInZone(ms("2026-11-24T23:30:00Z"), "Asia/Kolkata")).toBe("2026-11-25");
    expect(dayInZone(ms("2026-11-24T23:30:00Z"), "America/Los_Angeles")).toBe("2026-11-24");
    expect(dayInZone(ms("2026-11-25T07:59:59Z"), "America/Los_Angeles")).toBe("2026-11-24");
    expect(zoneOffsetMs(ms("2026-11-24T23:30:00Z"), "Asia/Kolkata")).toBe(5.5 * 3_600_000);
  });

  it("reads a wall-clock time in a zone, across DST changes", () => {
    expect(instantOfWallTime("2026-11-25T05:00", "Asia/Kolkata")).toBe(ms("2026-11-24T23:30:00Z"));
    expect(instantOfWallTime("2026-07-01T12:00", "America/Los_Angeles")).toBe(ms("2026-07-01T19:00:00Z"));
    expect(instantOfWallTime("2026-12-01T12:00", "America/Los_Angeles")).toBe(ms("2026-12-01T20:00:00Z"));
    // 02:30 on 8 March 2026 does not exist in California: it moves forward by the hour skipped.
    expect(instantOfWallTime("2026-03-08T02:30", "America/Los_Angeles")).toBe(ms("2026-03-08T10:30:00Z"));
    expect(instantOfWallTime("2026-13-01T00:00", "UTC")).toBeNull();
    expect(instantOfWallTime("yesterday", "UTC")).toBeNull();
    expect(wallTimeInputValue(ms("2026-11-24T23:30:00Z"), "Asia/Kolkata")).toBe("2026-11-25T05:00");
  });

  it("ends a day at its last millisecond in the zone, 23 hours long on a spring-forward day", () => {
    expect(endOfDayInZone("2026-11-24", "America/Los_Angeles")).toBe(ms("2026-11-25T08:00:00Z") - 1);
    expect(endOfDayInZone("2026-03-08", "America/Los_Angeles")).toBe(ms("2026-03-09T07:00:00Z") - 1);
    expect(endOfDayInZone("2026-11-24", "UTC")).toBe(ms("2026-11-25T00:00:00Z") - 1);
  });
});
