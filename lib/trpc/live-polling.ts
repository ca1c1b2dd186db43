/**
 * How open pages stay live: React Query polls the queries that show what changes
 * (checkpoints, rollbacks, statuses, drift, the live match) every LIVE_REFRESH_MS
 * while the tab is visible, and not at all while it is hidden. Polling rather than
 * subscriptions: every change (CLI, hooks, MCP, another server instance on the
 * same database) lands in the metadata store, which one process cannot watch for
 * all writers, and a poll of a page is a few indexed queries. A refetch replaces
 * data in place: "Load older" pages are refetched with the same page count,
 * component state (open dialogs, typed filters) and scroll are kept.
 */
// A second, so that a change shows within 2 s of being made: half a poll on average, plus the request and render.
export const LIVE_REFRESH_MS = 1_000;

export const livePolling = { refetchInterval: LIVE_REFRESH_MS, refetchIntervalInBackground: false } as const;

/**
 * Drift compares a component's workspace with its last checkpoint, and the
 * overview asks it for every component it lists: polled less often than the
 * metadata, so that a page of many components does not keep the server busy
 * comparing workspaces (one comparison per component per DRIFT_REFRESH_MS).
 */
export const DRIFT_REFRESH_MS = 10_000;

export const driftPolling = { refetchInterval: DRIFT_REFRESH_MS, refetchIntervalInBackground: false } as const;
