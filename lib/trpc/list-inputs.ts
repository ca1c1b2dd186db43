/**
 * The inputs of the paginated lists, built in one place so the server's prefetch
 * and the browser's query use the same query key (and so hydrate).
 */
import type { HistoryFilter } from "./types";

export const TIMELINE_PAGE_SIZE = 20;
export const HISTORY_PAGE_SIZE = 50;
export const ENTRIES_PAGE_SIZE = 100;

export function timelineInput(component: string) {
  return { component, limit: TIMELINE_PAGE_SIZE };
}

export function historyInput(filter: HistoryFilter) {
  const input: HistoryFilter & { limit: number } = { limit: HISTORY_PAGE_SIZE };
  if (filter.component) input.component = filter.component;
  if (filter.kind) input.kind = filter.kind;
  if (filter.outcome) input.outcome = filter.outcome;
  if (filter.actor) input.actor = filter.actor;
  return input;
}

/** Cursor pagination: the server returns `nextCursor` (null on the last page). */
export const nextPage = { getNextPageParam: (page: { nextCursor: string | null }) => page.nextCursor };
