import { describe, expect, it } from "vitest";
import { mapConcurrent } from "./concurrency";

describe("mapConcurrent", () => {
  it("keeps input order with at most `limit` workers in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapConcurrent([5, 1, 4, 2, 3], 2, async (n) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it("after a failure starts nothing new, lets the items in flight finish, then throws the first error", async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const error = await mapConcurrent([0, 1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      if (n === 0) throw new Error("first");
      await new Promise((resolve) => setImmediate(resolve));
      finished.push(n);
      return n;
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe("first");
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([1]);
  });
});
