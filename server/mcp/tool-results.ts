/**
 * What each MCP tool returns, shaped for an agent's context: a summary first
 * (complete counts, bytes, the cursor and how to get the rest), then the first
 * entries, compact unless the call asks for `detail` (or `fields`). Each shape is
 * a CuttableResult, so the server fits every one to the result budget the same
 * way (result-budget.ts).
 */
import type { ApiOutputs } from "./client";
import { cutLists, type CuttableResult } from "./result-budget";
import { moreText, pageOfList, pagedResult } from "./paging";
import type { EntryField } from "./tool-inputs";

type Diff = ApiOutputs["checkpoint"]["diff"];
type DiffEntry = Diff["added"][number];
type Plan = ApiOutputs["rollback"]["plan"];
type RestoreItem = Plan["restore"][number];
type DeleteItem = Plan["delete"][number];

export interface PageOptions {
  cursor?: string;
  limit?: number;
  detail?: boolean;
}

// ---------------------------------------------------------------------------
// diff_checkpoint: one sequence of changed paths in path order, shown in its buckets.

export const DIFF_LISTS = ["added", "modified", "deleted", "modeChanged", "typeChanged", "linkChanged", "mtimeChanged"] as const;
type DiffList = (typeof DIFF_LISTS)[number];

interface Change {
  list: DiffList;
  entry: DiffEntry;
}

/** A changed path without hashes: its type (file, dir, symlink), size, and the patch when asked for. */
function compactDiffEntry(entry: DiffEntry): Record<string, unknown> {
  const side = entry.after ?? entry.before;
  const out: Record<string, unknown> = { path: entry.path };
  if (side) out.type = side.kind;
  if (entry.before && entry.after && entry.before.kind !== entry.after.kind) out.type = `${entry.before.kind}->${entry.after.kind}`;
  if (side?.kind === "file") out.size = side.size;
  if (entry.patch !== undefined) out.patch = entry.patch;
  return out;
}

export function diffResult(diff: Diff, options: PageOptions & { prefix?: string }): CuttableResult {
  const inPrefix = (p: string) => options.prefix === undefined || p.startsWith(options.prefix);
  const changes: Change[] = DIFF_LISTS.flatMap((list) => diff[list].filter((entry) => inPrefix(entry.path)).map((entry) => ({ list, entry })));
  const counts: Record<string, number> = {};
  for (const list of DIFF_LISTS) counts[list] = 0;
  let bytesBefore = 0;
  let bytesAfter = 0;
  for (const { list, entry } of changes) {
    counts[list] = (counts[list] ?? 0) + 1;
    if (entry.before?.kind === "file") bytesBefore += entry.before.size;
    if (entry.after?.kind === "file") bytesAfter += entry.after.size;
  }
  const unstable = diff.unstable.filter(inPrefix);
  const page = pageOfList(changes, (c) => c.entry.path, options);
  return pagedResult({
    items: page.items,
    cursorAfter: (c) => c.entry.path,
    restCursor: page.restCursor,
    keep: ["checkpointId", "against", "component", "changed", "counts", "bytes"],
    render: (shown, nextCursor) => {
      const lists: Record<string, unknown[]> = {};
      for (const list of DIFF_LISTS) lists[list] = [];
      for (const { list, entry } of shown) lists[list]?.push(options.detail ? entry : compactDiffEntry(entry));
      return {
        checkpointId: diff.checkpointId,
        against: diff.against,
        component: diff.component,
        ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
        changed: changes.length,
        counts: { ...counts, unchanged: diff.unchanged, unstable: unstable.length, databases: diff.databases.length },
        bytes: { checkpoint: bytesBefore, [diff.against === null ? "live" : "against"]: bytesAfter },
        shown: shown.length,
        nextCursor,
        ...optional("more", moreText("diff_checkpoint", nextCursor, { count: page.remaining - shown.length, what: "changed paths" })),
        ...lists,
        unstable,
        databases: diff.databases,
      };
    },
  });
}

// ---------------------------------------------------------------------------
// plan_rollback: restore and delete in one path order; the token and the counts always.

type PlanItem = { list: "restore"; item: RestoreItem } | { list: "delete"; item: DeleteItem };

export function planResult(plan: Plan, options: PageOptions): CuttableResult {
  const items: PlanItem[] = [...plan.restore.map((item) => ({ list: "restore" as const, item })), ...plan.delete.map((item) => ({ list: "delete" as const, item }))];
  const page = pageOfList(items, (p) => p.item.path, options);
  const { related: _related, ...scope } = plan.scope;
  return pagedResult({
    items: page.items,
    cursorAfter: (p) => p.item.path,
    restCursor: page.restCursor,
    keep: ["checkpointId", "component", "confirmToken", "expiresAt", "counts", "bytesToWrite", "paths"],
    render: (shown, nextCursor) => ({
      checkpointId: plan.checkpointId,
      component: plan.component,
      confirmToken: plan.confirmToken,
      expiresAt: plan.expiresAt,
      counts: { restore: plan.restore.length, delete: plan.delete.length, unchanged: plan.unchanged, unstable: plan.unstable.length, databases: plan.databases.length },
      bytesToWrite: plan.bytesToWrite,
      root: plan.root,
      checkpointKind: plan.checkpointKind,
      // A plan of some paths: the rollback tool must be given the same ones.
      ...(plan.paths ? { paths: plan.paths } : {}),
      undo: plan.undo,
      integrity: plan.integrity,
      scope: options.detail ? plan.scope : scope,
      shown: shown.length,
      nextCursor,
      ...optional("more", moreText("plan_rollback", nextCursor, { count: page.remaining - shown.length, what: "paths to restore or delete (any page's confirmToken confirms the whole plan)" })),
      restore: shown.flatMap((p) => (p.list === "restore" ? [p.item] : [])),
      delete: shown.flatMap((p) => (p.list === "delete" ? [p.item] : [])),
      unstable: plan.unstable,
      databases: plan.databases,
      ...(plan.obstaclesToMove?.length ? { obstaclesToMove: plan.obstaclesToMove } : {}),
    }),
  });
}

// ---------------------------------------------------------------------------
// rollback: the summary; the paths are in the diff between the safety checkpoint and the target.

export function rollbackResult(result: ApiOutputs["rollback"]["execute"]): CuttableResult {
  const { restoredPaths, deletedPaths, unstable, restoredDatabases, ...summary } = result;
  const more = result.safetyCheckpointId
    ? `every path this rollback changed: call diff_checkpoint with id=${result.safetyCheckpointId} against=${result.checkpointId} (paged)`
    : undefined;
  return cutLists(
    { ...summary, restoredDatabases, unstable, restoredPaths, deletedPaths },
    { totals: { restoredPaths: result.restored, deletedPaths: result.deleted }, more, keep: ["rollbackId", "checkpointId", "outcome", "restored", "deleted", "safetyCheckpointId"] },
  );
}

// ---------------------------------------------------------------------------
// Lists the API pages itself: the budget may cut a page short; the cursor resumes after its last item shown.

type CheckpointItem = ApiOutputs["checkpoint"]["list"]["items"][number];

function compactCheckpoint(c: CheckpointItem): Record<string, unknown> {
  return {
    id: c.id,
    component: c.component,
    kind: c.kind,
    status: c.status,
    createdAt: c.createdAt,
    reason: c.reason,
    actor: c.actor,
    callerMeta: c.callerMeta,
    paths: c.paths,
    files: c.files,
    bytes: c.bytes,
    changes: c.changes,
    pinned: c.pinned,
    retentionUntil: c.retentionUntil,
    verifyState: c.verifyState,
    damagedFiles: c.damagedFiles.length,
    databases: c.databases.length,
  };
}

export function checkpointListResult(page: ApiOutputs["checkpoint"]["list"], options: PageOptions): CuttableResult {
  return pagedResult({
    items: page.items,
    cursorAfter: (c) => c.id,
    restCursor: page.nextCursor,
    render: (shown, nextCursor) => ({
      shown: shown.length,
      nextCursor,
      ...optional("more", moreText("list_checkpoints", nextCursor)),
      items: shown.map((c) => (options.detail ? c : compactCheckpoint(c))),
    }),
  });
}

export function historyResult(page: ApiOutputs["history"]["list"], options: PageOptions): CuttableResult {
  return pagedResult({
    items: page.items,
    cursorAfter: (h) => h.id,
    restCursor: page.nextCursor,
    render: (shown, nextCursor) => {
      const named = new Set(shown.flatMap((h) => [h.checkpointId, safetyCheckpointOf(h.details)]));
      return {
        shown: shown.length,
        nextCursor,
        ...optional("more", moreText("history", nextCursor)),
        items: shown,
        ...(options.detail ? { checkpoints: Object.fromEntries(Object.entries(page.checkpoints).filter(([id]) => named.has(id))) } : {}),
      };
    },
  });
}

function safetyCheckpointOf(details: unknown): string | null {
  const value = (details as Record<string, unknown> | null)?.safetyCheckpointId;
  return typeof value === "string" ? value : null;
}

export function fileHistoryResult(page: ApiOutputs["file"]["history"], options: PageOptions): CuttableResult {
  return pagedResult({
    items: page.items,
    cursorAfter: (h) => h.checkpointId,
    restCursor: page.nextCursor,
    keep: ["component", "path"],
    render: (shown, nextCursor) => ({
      component: page.component,
      path: page.path,
      shown: shown.length,
      nextCursor,
      ...optional("more", moreText("file_history", nextCursor)),
      items: shown.map((h) => {
        if (options.detail) return h;
        const { sha256: _sha256, previousSha256: _previous, mode: _mode, previousMode: _previousMode, checkpointKind: _kind, ...compact } = h;
        return compact;
      }),
    }),
  });
}

export function sessionsResult(page: ApiOutputs["session"]["list"]): CuttableResult {
  return pagedResult({
    items: page.items,
    // Each session carries the cursor that resumes after it: a page the budget cuts short loses nothing.
    cursorAfter: (s) => s.cursor,
    restCursor: page.nextCursor,
    render: (shown, nextCursor) => ({
      shown: shown.length,
      nextCursor,
      ...optional("more", moreText("list_sessions", nextCursor)),
      items: shown.map(({ cursor: _cursor, ...session }) => session),
    }),
  });
}

type Entry = ApiOutputs["checkpoint"]["entries"]["items"][number];
const DEFAULT_ENTRY_FIELDS: readonly EntryField[] = ["kind", "size"];

export function entriesResult(checkpointId: string, page: ApiOutputs["checkpoint"]["entries"], options: PageOptions & { prefix?: string; fields?: readonly EntryField[] }): CuttableResult {
  const show = options.detail ? null : (options.fields ?? DEFAULT_ENTRY_FIELDS);
  const pick = (entry: Entry): Record<string, unknown> => {
    if (show === null) return entry;
    const out: Record<string, unknown> = { path: entry.path };
    for (const field of show) if (entry[field] !== undefined) out[field] = entry[field];
    return out;
  };
  return pagedResult({
    items: page.items,
    cursorAfter: (e) => e.path,
    restCursor: page.nextCursor,
    keep: ["checkpointId", "total"],
    render: (shown, nextCursor) => ({
      checkpointId,
      total: page.total,
      ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
      shown: shown.length,
      nextCursor,
      ...optional("more", moreText("list_checkpoint_entries", nextCursor)),
      items: shown.map(pick),
    }),
  });
}

// ---------------------------------------------------------------------------
// Lists the API returns whole and the MCP tool pages by key.

export function componentsResult(list: ApiOutputs["component"]["list"], options: PageOptions): CuttableResult {
  const page = pageOfList(list.items, (c) => c.name, options);
  return pagedResult({
    items: page.items,
    cursorAfter: (c) => c.name,
    restCursor: page.restCursor,
    keep: ["total"],
    render: (shown, nextCursor) => ({
      total: list.items.length,
      shown: shown.length,
      nextCursor,
      ...optional("more", moreText("list_components", nextCursor, { count: page.remaining - shown.length, what: "components" })),
      items: shown,
    }),
  });
}

type Problem = ApiOutputs["checkpoint"]["verify"]["problems"][number];

export function verifyResult(result: ApiOutputs["checkpoint"]["verify"], options: PageOptions): CuttableResult {
  const { problems, ...summary } = result;
  // The manifest's own damage (path null) sorts first.
  const page = pageOfList(problems, (p: Problem) => p.path ?? "", options);
  return pagedResult({
    items: page.items,
    cursorAfter: (p) => p.path ?? "",
    restCursor: page.restCursor,
    keep: ["checkpointId", "state", "problemCount"],
    render: (shown, nextCursor) => ({
      ...summary,
      problemCount: problems.length,
      shown: shown.length,
      nextCursor,
      ...optional("more", moreText("verify_checkpoint", nextCursor, { count: page.remaining - shown.length, what: "damaged files" })),
      problems: options.detail ? shown : shown.map(({ sha256: _sha256, ...compact }) => compact),
    }),
  });
}

// ---------------------------------------------------------------------------
// Single results with lists capped by the API.

export function createdResult(created: ApiOutputs["checkpoint"]["create"]): CuttableResult {
  return cutLists(created, {
    totals: { related: created.relatedCount },
    more: `every related file, with why it was included: call list_checkpoint_entries with id=${created.id} and fields ["reason"]`,
    keep: ["id", "component", "files", "bytes", "manifestSha256", "relatedCount"],
  });
}

export function componentResult(component: ApiOutputs["component"]["upsert"]): CuttableResult {
  return cutLists(component, { keep: ["id", "name", "root"] });
}

function optional(key: string, value: string | undefined): Record<string, string> {
  return value === undefined ? {} : { [key]: value };
}

