/**
 * The inputs of the paginated lists, built in one place so the server's prefetch
 * and the browser's query use the same query key (and so hydrate).
 */
import type { HistoryFilter } from "./types";

export const TIMELINE_PAGE_SIZE = 25;
export const HISTORY_PAGE_SIZE = 50;
export const ENTRIES_PAGE_SIZE = 100;
/** Sessions on the component page (the latest few) and on its sessions page. */
export const SESSIONS_PREVIEW_SIZE = 5;
export const SESSIONS_PAGE_SIZE = 25;

export interface TimelineView {
  /** Start at the end of this UTC day (YYYY-MM-DD). */
  day?: string;
  /** Text filter: id, reason, agent, task, actor. */
  q?: string;
}

export function timelineInput(component: string, view: TimelineView = {}) {
  const input: { component: string; limit: number; day?: string; q?: string } = { component, limit: TIMELINE_PAGE_SIZE };
  if (view.day) input.day = view.day;
  if (view.q) input.q = view.q;
  return input;
}

export function historyInput(filter: HistoryFilter) {
  const input: HistoryFilter & { limit: number } = { limit: HISTORY_PAGE_SIZE };
  if (filter.component) input.component = filter.component;
  if (filter.kind) input.kind = filter.kind;
  if (filter.outcome) input.outcome = filter.outcome;
  if (filter.actor) input.actor = filter.actor;
  if (filter.agent) input.agent = filter.agent;
  if (filter.task) input.task = filter.task;
  if (filter.since) input.since = filter.since;
  if (filter.until) input.until = filter.until;
  return input;
}

export function sessionsInput(component: string, limit: number) {
  return { component, limit };
}

/** Cursor pagination: the server returns `nextCursor` (null on the last page). */
export const nextPage = { getNextPageParam: (page: { nextCursor: string | null }) => page.nextCursor };
