/**
 * The timeline's date-and-time jump (`component.timeline` with `at`) and its day
 * counts in a time zone (`component.timelineDays` with `timeZone`) over HTTP: what
 * happened at or before the instant comes first, an instant written with an offset
 * means the same instant, and a malformed instant or an unknown zone is a 400
 * naming the field.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { Api, expectError, makeComponent } from "./api";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);

interface TimelinePage {
  items: { type: string; at: string; checkpoint?: { id: string; reason: string | null } }[];
  nextCursor: string | null;
}

/** `iso` written in India's time (UTC+5:30). */
function inIndia(iso: string): string {
  const shifted = new Date(Date.parse(iso) + 5.5 * 3_600_000).toISOString().slice(0, 23);
  return `${shifted}+05:30`;
}

describe("timeline jump", () => {
  let name: string;
  let checkpoints: { id: string; at: string; reason: string | null }[];

  beforeAll(async () => {
    const component = await makeComponent(admin, server.workspace, { "a.txt": "zero\n" });
    name = component.name;
    for (const reason of ["first", "second", "third"]) {
      writeFileSync(path.join(component.root, "a.txt"), `${reason}\n`);
      await admin.call("checkpoint.create", { component: name, reason });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const page = await admin.get<TimelinePage>("component.timeline", { component: name });
    checkpoints = page.items.flatMap((item) => (item.checkpoint ? [{ id: item.checkpoint.id, at: item.at, reason: item.checkpoint.reason }] : []));
    expect(checkpoints.map((c) => c.reason)).toEqual(["third", "second", "first"]);
  });

  it("starts at the instant: the checkpoint taken at that millisecond first, older ones after, in any offset", async () => {
    const second = checkpoints[1];
    const atSecond = await admin.get<TimelinePage>("component.timeline", { component: name, at: second?.at });
    expect(atSecond.items.map((item) => item.checkpoint?.reason)).toEqual(["second", "first"]);
    const sameInIndia = await admin.get<TimelinePage>("component.timeline", { component: name, at: inIndia(second?.at ?? "") });
    expect(sameInIndia.items).toEqual(atSecond.items);
    const justBefore = await admin.get<TimelinePage>("component.timeline", { component: name, at: new Date(Date.parse(second?.at ?? "") - 1).toISOString() });
    expect(justBefore.items.map((item) => item.checkpoint?.reason)).toEqual(["first"]);
    const beforeAll = await admin.get<TimelinePage>("component.timeline", { component: name, at: "2001-01-01T00:00:00Z" });
    expect(beforeAll).toEqual({ items: [], nextCursor: null });
  });

  it("pages on from a jump with the cursor", async () => {
    const first = await admin.get<TimelinePage>("component.timeline", { component: name, at: checkpoints[0]?.at, limit: 1 });
    expect(first.items.map((item) => item.checkpoint?.reason)).toEqual(["third"]);
    const next = await admin.get<TimelinePage>("component.timeline", { component: name, at: checkpoints[0]?.at, limit: 2, cursor: first.nextCursor });
    expect(next.items.map((item) => item.checkpoint?.reason)).toEqual(["second", "first"]);
  });

  it("counts the days in the zone asked for", async () => {
    const newest = Date.parse(checkpoints[0]?.at ?? "");
    for (const timeZone of ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kolkata"]) {
      const { days } = await admin.get<{ days: { day: string; checkpoints: number }[] }>("component.timelineDays", { name, timeZone });
      const expected = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(newest));
      expect(days.reduce((n, d) => n + d.checkpoints, 0)).toBe(3);
      expect(days[0]?.day).toBe(expected);
    }
  });

  it("refuses a malformed instant and an unknown zone with 400 naming the field", async () => {
    const badAt = expectError(await admin.query("component.timeline", { component: name, at: "yesterday" }), 400);
    expect(badAt.message).toMatch(/at/);
    const localOnly = expectError(await admin.query("component.timeline", { component: name, at: "2026-11-24T23:30" }), 400);
    expect(localOnly.message).toMatch(/at/);
    const badZone = expectError(await admin.query("component.timelineDays", { name, timeZone: "Mars/Olympus" }), 400);
    expect(badZone.message).toMatch(/timeZone/);
  });
});
