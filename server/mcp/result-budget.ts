/**
 * The byte budget of an MCP tool result: every result the server sends is one text
 * content of compact JSON no longer than the budget (UTF-8 bytes), so a tool call
 * never floods an agent's context window, whatever the data (long names, many
 * entries, large metadata).
 *
 * A tool shapes its result as a CuttableResult: `render(n)` is the result showing
 * the first n items of its main list, with the counts always complete and a
 * cursor that resumes after the n-th item. fitToBudget finds the largest n that
 * fits. When not even one item fits whole, that one item is shown with its long
 * values shortened (marked), so paging always moves forward; the keys a caller
 * needs to go on (cursors, confirm tokens, counts) are never shortened.
 */
import { z } from "zod";
import { InvalidInputError } from "../errors";

export const DEFAULT_MAX_RESULT_BYTES = 16 * 1024;
/** Below this, one long path and its cursor could not be shown together. */
export const MIN_MAX_RESULT_BYTES = 4 * 1024;
export const MAX_MAX_RESULT_BYTES = 16 * 1024 * 1024;

export const maxResultBytes = z
  .number()
  .int()
  .min(MIN_MAX_RESULT_BYTES, `the result budget is at least ${MIN_MAX_RESULT_BYTES} bytes`)
  .max(MAX_MAX_RESULT_BYTES, `the result budget is at most ${MAX_MAX_RESULT_BYTES} bytes`);

/**
 * The budget from `--max-result-bytes` (first) or SAFETYNET_MCP_MAX_RESULT_BYTES,
 * else the default; a bad value is refused naming where it came from.
 */
export function resolveMaxResultBytes(option: string | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const [source, raw] = option !== undefined ? ["--max-result-bytes", option] : ["SAFETYNET_MCP_MAX_RESULT_BYTES", env.SAFETYNET_MCP_MAX_RESULT_BYTES];
  if (raw === undefined || raw === "") return DEFAULT_MAX_RESULT_BYTES;
  if (!/^\d+$/.test(raw.trim())) throw new InvalidInputError(`invalid ${source}: expects a whole number of bytes, got "${raw}"`, { field: source });
  const parsed = maxResultBytes.safeParse(Number(raw.trim()));
  if (!parsed.success) throw new InvalidInputError(`invalid ${source}: ${parsed.error.issues[0]?.message ?? "out of range"}`, { field: source });
  return parsed.data;
}

export function textBytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** A result whose main list can be cut to fit. */
export interface CuttableResult {
  /** Items in the main list. */
  size: number;
  /** The result showing the first `shown` items (the summary and counts stay complete). */
  render(shown: number): Record<string, unknown>;
  /** Top-level keys never shortened, whatever happens (cursors, confirm tokens, counts). */
  keep?: readonly string[];
}

/** Not even the summary fits: the budget is smaller than what the caller must see to go on. */
export class ResultTooLargeError extends Error {}

/**
 * The result as compact JSON within `budget` bytes: as many items of the main
 * list as fit (found by bisection; each candidate is measured, so what is
 * returned always fits).
 */
export function fitToBudget(result: CuttableResult, budget: number): string {
  const fits = (text: string) => textBytes(text) <= budget;
  // Each item takes at least two bytes ("0,"): more than budget/2 never fit, so a huge list is never serialized whole.
  const most = Math.min(result.size, Math.ceil(budget / 2));
  if (most === result.size) {
    const full = JSON.stringify(result.render(result.size));
    if (fits(full)) return full;
  }
  let best: string | null = null;
  let lo = 1;
  let hi = most === result.size ? most - 1 : most;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const text = JSON.stringify(result.render(mid));
    if (fits(text)) {
      best = text;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (best !== null) return best;
  // Not one item fits whole: show the first with its long values shortened, so the cursor still moves on.
  const squeezed = squeezeToBudget(result.render(Math.min(1, result.size)), budget, new Set(result.keep ?? []));
  if (squeezed !== null) return squeezed;
  throw new ResultTooLargeError(`the result does not fit in ${budget} bytes even with its lists cut and long values shortened; raise --max-result-bytes (SAFETYNET_MCP_MAX_RESULT_BYTES)`);
}

/** Shortest a shortened string gets, in characters. */
const MIN_VALUE_CHARS = 16;

function squeezeToBudget(value: Record<string, unknown>, budget: number, keep: ReadonlySet<string>): string | null {
  const longest = Math.max(MIN_VALUE_CHARS, JSON.stringify(value).length);
  let best: string | null = null;
  let lo = MIN_VALUE_CHARS;
  let hi = longest;
  while (lo <= hi) {
    const limit = Math.floor((lo + hi) / 2);
    const squeezed: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) squeezed[key] = keep.has(key) ? item : squeeze(item, limit);
    squeezed.shortened = "long values were shortened to fit the result budget (marked …[cut])";
    const text = JSON.stringify(squeezed);
    if (textBytes(text) <= budget) {
      best = text;
      lo = limit + 1;
    } else {
      hi = limit - 1;
    }
  }
  return best;
}

/**
 * `value` with strings over `limit` characters, arrays over limit/16 items and
 * objects over limit/16 keys shortened, each cut marked in place.
 */
export function squeeze(value: unknown, limit: number): unknown {
  const most = Math.max(1, Math.floor(limit / 16));
  if (typeof value === "string") return value.length > limit ? `${value.slice(0, limit)}…[cut ${textBytes(value.slice(limit))} bytes]` : value;
  if (Array.isArray(value)) {
    const kept = value.slice(0, most).map((item) => squeeze(item, limit));
    if (value.length > most) kept.push(`…[cut ${value.length - most} items]`);
    return kept;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    const out: Record<string, unknown> = {};
    for (const [key, item] of entries.slice(0, most)) out[key.length > limit ? `${key.slice(0, limit)}…` : key] = squeeze(item, limit);
    if (entries.length > most) out["…"] = `[cut ${entries.length - most} keys]`;
    return out;
  }
  return value;
}

/** Cuts a plain message (an error) to the budget. */
export function cutText(text: string, budget: number): string {
  if (textBytes(text) <= budget) return text;
  const marker = "…[cut]";
  let end = Math.max(0, budget - textBytes(marker));
  let head = Buffer.from(text, "utf8").subarray(0, end).toString("utf8");
  // A character split at the cut decodes to U+FFFD (3 bytes): drop bytes until it fits.
  while (textBytes(head) + textBytes(marker) > budget && end > 0) head = Buffer.from(text, "utf8").subarray(0, --end).toString("utf8");
  return head + marker;
}

/**
 * A result with no cursor of its own: every top-level list is cut to the same
 * length and `truncated` says each cut list's full size (`totals` overrides it,
 * for lists the source already capped); `more` says where the rest is.
 */
export function cutLists(value: Record<string, unknown>, options: { totals?: Record<string, number>; more?: string; keep?: readonly string[] } = {}): CuttableResult {
  const lists = Object.entries(value).filter((entry): entry is [string, unknown[]] => Array.isArray(entry[1]));
  const totalOf = (key: string, length: number) => Math.max(options.totals?.[key] ?? length, length);
  const size = Math.max(0, ...lists.map(([key, items]) => totalOf(key, items.length)));
  return {
    size,
    keep: options.keep,
    render(shown) {
      const truncated: Record<string, number> = {};
      for (const [key, items] of lists) if (totalOf(key, items.length) > Math.min(shown, items.length)) truncated[key] = totalOf(key, items.length);
      const cut = Object.keys(truncated).length > 0;
      const out: Record<string, unknown> = {};
      // The note on what was cut comes before the first list: the summary reads first.
      for (const [key, item] of Object.entries(value)) {
        if (Array.isArray(item) && cut && out.truncated === undefined) {
          out.truncated = truncated;
          if (options.more) out.more = options.more;
        }
        out[key] = Array.isArray(item) ? item.slice(0, shown) : item;
      }
      return out;
    },
  };
}
