import { describe, expect, it } from "vitest";
import { formatInZone, formatUtc, isoUtc } from "../lib/format";
import { displayZone, preferencesFromCookies } from "../lib/console-preferences";

describe("times on the console", () => {
  it("reads a time in the viewer's zone with the zone's short name, and exactly as before in UTC", () => {
    expect(formatInZone("2026-11-24T23:30:00Z", "Asia/Kolkata")).toBe("2026-11-25 05:00:00 GMT+5:30");
    expect(formatInZone("2026-11-24T23:30:00Z", "America/Los_Angeles")).toBe("2026-11-24 15:30:00 PST");
    expect(formatInZone("2026-07-01T12:00:00Z", "America/Los_Angeles")).toBe("2026-07-01 05:00:00 PDT");
    expect(formatInZone("2026-11-24T23:30:00Z", "UTC")).toBe(formatUtc("2026-11-24T23:30:00Z"));
    expect(formatInZone("not a time", "Asia/Kolkata")).toBe("not a time");
    expect(isoUtc("2026-11-25T05:00:00+05:30")).toBe("2026-11-24T23:30:00.000Z");
  });

  it("takes the preferences from cookies, refusing a zone the runtime does not know", () => {
    const cookies = (values: Record<string, string>) => preferencesFromCookies((name) => values[name]);
    expect(cookies({})).toEqual({ timeMode: "local", browserZone: null, compact: false });
    expect(cookies({ "sn-time": "utc", "sn-zone": "Asia/Kolkata", "sn-compact": "1" })).toEqual({ timeMode: "utc", browserZone: "Asia/Kolkata", compact: true });
    expect(cookies({ "sn-zone": "Mars/Olympus" }).browserZone).toBeNull();
    expect(displayZone("local", "Asia/Kolkata")).toBe("Asia/Kolkata");
    expect(displayZone("utc", "Asia/Kolkata")).toBe("UTC");
    // Before the browser has said where it is, the server renders UTC.
    expect(displayZone("local", null)).toBe("UTC");
  });
});
