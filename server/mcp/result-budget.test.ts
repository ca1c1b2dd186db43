import { describe, expect, it } from "vitest";
import { InvalidInputError } from "../errors";
import {
  cutLists,
  cutText,
  DEFAULT_MAX_RESULT_BYTES,
  fitToBudget,
  resolveMaxResultBytes,
  ResultTooLargeError,
  squeeze,
  textBytes,
  type CuttableResult,
} from "./result-budget";
import { pageOfList, pagedResult } from "./paging";

/** A result listing `items` under `list`, with their count always complete. */
function listing(items: unknown[], extra: Record<string, unknown> = {}): CuttableResult {
  return { size: items.length, keep: ["total"], render: (shown) => ({ total: items.length, ...extra, list: items.slice(0, shown) }) };
}

const env = (vars: Record<string, string>) => vars as NodeJS.ProcessEnv;

function parsed(text: string): Record<string, unknown> {
  return JSON.parse(text) as Record<string, unknown>;
}

describe("fitToBudget", () => {
  it("returns a result that fits as compact JSON, whole", () => {
    const text = fitToBudget(listing(["a", "b"]), 1000);
    expect(text).toBe('{"total":2,"list":["a","b"]}');
  });

  it("keeps the largest number of items that fits, and the count stays complete", () => {
    const items = Array.from({ length: 500 }, (_, i) => `src/file-${String(i).padStart(4, "0")}.ts`);
    const text = fitToBudget(listing(items), 4096);
    expect(textBytes(text)).toBeLessThanOrEqual(4096);
    const { total, list } = parsed(text) as { total: number; list: string[] };
    expect(total).toBe(500);
    expect(list).toEqual(items.slice(0, list.length));
    // One more item would not have fitted.
    expect(textBytes(JSON.stringify({ total: 500, list: items.slice(0, list.length + 1) }))).toBeGreaterThan(4096);
  });

  it("shows one item with its long values shortened when not even one fits whole, keeping the kept keys", () => {
    const huge = { path: "p".repeat(50_000), metadata: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i])) };
    const result: CuttableResult = {
      size: 3,
      keep: ["confirmToken", "nextCursor"],
      render: (shown) => ({ confirmToken: "ct_".padEnd(300, "x"), nextCursor: shown < 3 ? `after-${shown}` : null, list: [huge, huge, huge].slice(0, shown) }),
    };
    const text = fitToBudget(result, 4096);
    expect(textBytes(text)).toBeLessThanOrEqual(4096);
    const out = parsed(text) as { confirmToken: string; nextCursor: string; list: { path: string; metadata: Record<string, unknown> }[]; shortened: string };
    expect(out.confirmToken).toBe("ct_".padEnd(300, "x"));
    expect(out.nextCursor).toBe("after-1");
    expect(out.list).toHaveLength(1);
    expect(out.list[0]?.path).toMatch(/^p+…\[cut \d+ bytes\]$/);
    expect(out.list[0]?.metadata["…"]).toMatch(/^\[cut \d+ keys\]$/);
    expect(out.shortened).toMatch(/shortened/);
  });

  it("holds the budget for any mix of long names, many entries and multibyte text", () => {
    for (const budget of [4096, 5000, DEFAULT_MAX_RESULT_BYTES]) {
      for (let seed = 1; seed <= 20; seed++) {
        const count = (seed * 137) % 3000;
        const items = Array.from({ length: count }, (_, i) => ({
          path: `${"é中".repeat((i * seed) % 700)}/${"\u0001".repeat(seed % 5)}${i}`,
          size: i,
          sha256: "f".repeat(64),
        }));
        const text = fitToBudget(listing(items, { note: "ü".repeat(seed * 50) }), budget);
        expect(textBytes(text), `budget ${budget} seed ${seed}`).toBeLessThanOrEqual(budget);
        const out = parsed(text) as { total: number; list: unknown[] };
        expect(out.total).toBe(count);
        if (count > 0) expect(out.list.length).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it("refuses, within the budget, a result whose kept keys alone exceed it", () => {
    const result: CuttableResult = { size: 0, keep: ["nextCursor"], render: () => ({ nextCursor: "c".repeat(10_000), list: [] }) };
    expect(() => fitToBudget(result, 4096)).toThrow(ResultTooLargeError);
    expect(() => fitToBudget(result, 4096)).toThrow(/raise --max-result-bytes/);
  });
});

describe("cutLists", () => {
  it("cuts every top-level list alike and says each cut list's full size before the lists", () => {
    const value = { id: "rb_1", restored: 900, restoredPaths: Array.from({ length: 500 }, (_, i) => `a/${i}`), deletedPaths: ["x", "y"] };
    const text = fitToBudget(cutLists(value, { totals: { restoredPaths: 900 }, more: "see the diff" }), 4096);
    expect(textBytes(text)).toBeLessThanOrEqual(4096);
    const out = parsed(text);
    expect(Object.keys(out)).toEqual(["id", "restored", "truncated", "more", "restoredPaths", "deletedPaths"]);
    expect(out.truncated).toEqual({ restoredPaths: 900 });
    expect(out.deletedPaths).toEqual(["x", "y"]);
    expect(out.more).toBe("see the diff");
  });

  it("says a list the source had already capped is cut even when everything it sent fits", () => {
    const text = fitToBudget(cutLists({ related: ["a", "b"] }, { totals: { related: 1200 } }), 4096);
    expect(parsed(text)).toEqual({ truncated: { related: 1200 }, related: ["a", "b"] });
  });
});

describe("paging a list held whole", () => {
  it("sees every item exactly once by following nextCursor, whatever the budget cuts", () => {
    const all = Array.from({ length: 777 }, (_, i) => `dir-${i % 13}/${"n".repeat(i % 90)}-${i}`);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 1000; pages++) {
      const page = pageOfList(all, (p) => p, { cursor, limit: 100 });
      const result = pagedResult({
        items: page.items,
        cursorAfter: (p) => p,
        restCursor: page.restCursor,
        render: (shown, nextCursor) => ({ total: all.length, nextCursor, items: shown }),
      });
      const text = fitToBudget(result, 4096);
      expect(textBytes(text)).toBeLessThanOrEqual(4096);
      const out = parsed(text) as { nextCursor: string | null; items: string[] };
      seen.push(...out.items);
      if (out.nextCursor === null) break;
      cursor = out.nextCursor;
    }
    expect(seen).toEqual([...all].sort());
    expect(new Set(seen).size).toBe(all.length);
  });
});

describe("squeeze and cutText", () => {
  it("marks every shortened value", () => {
    expect(squeeze({ a: "x".repeat(40), b: [1, 2, 3, 4, 5] }, 32)).toEqual({ a: `${"x".repeat(32)}…[cut 8 bytes]`, b: [1, 2, "…[cut 3 items]"] });
  });

  it("cuts a message to the budget without splitting a character", () => {
    const text = cutText("é".repeat(5000), 4096);
    expect(textBytes(text)).toBeLessThanOrEqual(4096);
    expect(text).toMatch(/^é+…\[cut\]$/);
    expect(cutText("short", 4096)).toBe("short");
  });
});

describe("resolveMaxResultBytes", () => {
  it("takes the option first, then SAFETYNET_MCP_MAX_RESULT_BYTES, else 16 KiB", () => {
    expect(resolveMaxResultBytes(undefined, env({}))).toBe(16_384);
    expect(resolveMaxResultBytes(undefined, env({ SAFETYNET_MCP_MAX_RESULT_BYTES: "8192" }))).toBe(8192);
    expect(resolveMaxResultBytes("65536", env({ SAFETYNET_MCP_MAX_RESULT_BYTES: "8192" }))).toBe(65_536);
  });

  it("refuses a value that is not a whole number in range, naming where it came from", () => {
    const refusal = (option: string | undefined, vars: NodeJS.ProcessEnv) => {
      try {
        resolveMaxResultBytes(option, vars);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidInputError);
        return (error as InvalidInputError).message;
      }
      throw new Error("accepted");
    };
    expect(refusal("16k", env({}))).toBe('invalid --max-result-bytes: expects a whole number of bytes, got "16k"');
    expect(refusal("100", env({}))).toBe("invalid --max-result-bytes: the result budget is at least 4096 bytes");
    expect(refusal(undefined, env({ SAFETYNET_MCP_MAX_RESULT_BYTES: "-5" }))).toMatch(/^invalid SAFETYNET_MCP_MAX_RESULT_BYTES: expects a whole number/);
    expect(refusal(undefined, env({ SAFETYNET_MCP_MAX_RESULT_BYTES: "99999999999" }))).toMatch(/at most 16777216 bytes/);
  });
});
