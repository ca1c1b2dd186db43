import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { InvalidInputError } from "../errors";
import { ACTOR, openFixture, type Fixture } from "./test-fixture";
import { DEFAULT_RETENTION_INTERVAL_MS, retentionScheduleConfig, startIntegritySchedule, startRetentionSchedule } from "./schedule";
import type { RetentionRunResult } from "./run";

describe("configuration", () => {
  it("runs hourly by default, every N ms when set, and never when off", () => {
    expect(retentionScheduleConfig({})).toEqual({ enabled: true, intervalMs: DEFAULT_RETENTION_INTERVAL_MS });
    expect(retentionScheduleConfig({ SAFETYNET_RETENTION_INTERVAL_MS: "300000" })).toEqual({ enabled: true, intervalMs: 300_000 });
    expect(retentionScheduleConfig({ SAFETYNET_RETENTION_SCHEDULE: "off" }).enabled).toBe(false);
    expect(() => retentionScheduleConfig({ SAFETYNET_RETENTION_INTERVAL_MS: "soon" })).toThrow(InvalidInputError);
  });
});

describe("schedules", () => {
  let f: Fixture;
  beforeEach(async () => {
    f = await openFixture();
  });
  afterEach(async () => {
    await f.close();
  });

  const waitFor = async (done: () => boolean) => {
    for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  };

  it("runs retention every interval as the system actor until stopped", async () => {
    const results: RetentionRunResult[] = [];
    const stop = startRetentionSchedule(f.core, { intervalMs: 30, onResult: (r) => results.push(r), env: {} });
    await waitFor(() => results.length >= 2);
    await stop();
    const count = results.length;
    expect(count).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(results.length).toBe(count);
    const runs = await f.core.db.auditEvent.findMany({ where: { kind: "retention.run" } });
    expect(runs.every((e) => e.actor === "system")).toBe(true);
  });

  it("is a no-op when SAFETYNET_RETENTION_SCHEDULE=off", async () => {
    const results: unknown[] = [];
    const stop = startRetentionSchedule(f.core, { intervalMs: 10, onResult: (r) => results.push(r), env: { SAFETYNET_RETENTION_SCHEDULE: "off" } });
    await new Promise((r) => setTimeout(r, 80));
    await stop();
    expect(results).toEqual([]);
  });

  it("runs the integrity sweep only when an interval is given", async () => {
    const off: unknown[] = [];
    await startIntegritySchedule(f.core, { onResult: (r) => off.push(r), env: {} })();
    expect(off).toEqual([]);
    const results: unknown[] = [];
    const stop = startIntegritySchedule(f.core, { onResult: (r) => results.push(r), env: { SAFETYNET_VERIFY_INTERVAL_MS: "1000" }, actor: ACTOR });
    await waitFor(() => results.length >= 1);
    await stop();
    expect(results[0]).toMatchObject({ outcome: "succeeded", checkpoints: 0 });
  });
});
