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
  /** Start at this instant (ISO 8601, UTC): what happened at or before it, newest first. */
  at?: string;
  /** Text filter: id, reason, agent, task, actor. */
  q?: string;
  /** Only damaged checkpoints. */
  damaged?: boolean;
}

export function timelineInput(component: string, view: TimelineView = {}) {
  const input: { component: string; limit: number; at?: string; q?: string; damaged?: boolean } = { component, limit: TIMELINE_PAGE_SIZE };
  if (view.at) input.at = view.at;
  if (view.q) input.q = view.q;
  if (view.damaged) input.damaged = true;
  return input;
}

/** The days of a component's timeline, counted in the zone times are shown in. */
export function timelineDaysInput(component: string, timeZone: string) {
  return { name: component, timeZone };
}

export function historyInput(filter: HistoryFilter) {
  const input: HistoryFilter & { limit: number } = { limit: HISTORY_PAGE_SIZE };
  if (filter.component) input.component = filter.component;
  if (filter.kind) input.kind = filter.kind;
  if (filter.outcome) input.outcome = filter.outcome;
  if (filter.failure) input.failure = filter.failure;
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

/** Versions per page on a file's history page. */
export const FILE_HISTORY_PAGE_SIZE = 20;

export function fileHistoryInput(component: string, path: string, limit = FILE_HISTORY_PAGE_SIZE) {
  return { component, path, limit };
}
