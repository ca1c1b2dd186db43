/**
 * Cursors of MCP tool results. A cursor is the key of the last item shown (a
 * path, an id, a name), so the next page starts after it: the API's own cursors
 * (checkpoint.list, history.list, file.history, checkpoint.entries) work that
 * way, and lists the API returns whole (a diff, a rollback plan) are paged here
 * the same way, in key order. A page the budget cuts short resumes after its last
 * item shown, so paging sees every item exactly once.
 */
import type { CuttableResult } from "./result-budget";

export interface PageSource<T> {
  /** The items of this page, in cursor order. */
  items: T[];
  /** The cursor that resumes after `item`. */
  cursorAfter(item: T): string;
  /** The cursor after the last of `items` when more follow them, else null. */
  restCursor: string | null;
  /** Top-level keys never shortened (besides nextCursor). */
  keep?: readonly string[];
  render(shown: T[], nextCursor: string | null): Record<string, unknown>;
}

export function pagedResult<T>(source: PageSource<T>): CuttableResult {
  const { items } = source;
  return {
    size: items.length,
    keep: ["nextCursor", "more", ...(source.keep ?? [])],
    render(shown) {
      const last = items[shown - 1];
      const nextCursor = shown >= items.length ? source.restCursor : last === undefined ? null : source.cursorAfter(last);
      return source.render(items.slice(0, shown), nextCursor);
    },
  };
}

/** Orders keys as the API's path cursors do (code unit order). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface ListPage<T> {
  /** Items after the cursor, at most `limit`. */
  items: T[];
  /** After the cursor, in all (the page and the rest). */
  remaining: number;
  restCursor: string | null;
}

/** One page of a list held whole: sorted by key, the items after `cursor`, at most `limit`. */
export function pageOfList<T>(all: readonly T[], key: (item: T) => string, options: { cursor?: string; limit?: number }): ListPage<T> {
  const sorted = [...all].sort((a, b) => compareKeys(key(a), key(b)));
  const { cursor } = options;
  const after = cursor === undefined ? sorted : sorted.filter((item) => key(item) > cursor);
  const items = options.limit === undefined ? after : after.slice(0, options.limit);
  const last = items[items.length - 1];
  return { items, remaining: after.length, restCursor: items.length < after.length && last !== undefined ? key(last) : null };
}

/** How to get the next page, said the same way by every tool. */
export function moreText(tool: string, nextCursor: string | null, rest?: { count: number; what: string }): string | undefined {
  if (nextCursor === null) return undefined;
  const how = `call ${tool} again with the same arguments and cursor set to nextCursor`;
  return rest ? `${rest.count} more ${rest.what}: ${how}` : `more follow: ${how}`;
}
