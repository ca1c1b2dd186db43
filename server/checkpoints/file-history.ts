/**
 * The history of one path: every checkpoint of a component in which it changed,
 * newest first, from the change records (one indexed query per page, however
 * many checkpoints the component has). A checkpoint with nothing before it to
 * compare with records no changes; when the records run out, the oldest such
 * checkpoint that holds the path ends the history as where it was first seen.
 */
import type { Core } from "../core";
import { NotFoundError } from "../errors";
import { toStorageText } from "../byte-paths";
import { checkInputPath, normalizeRelativePath } from "../scan/paths";
import type { FileHistoryInput } from "../schemas";
import { lookupEntry, openManifest } from "./tree-read";
import type { RecordedChange } from "./change-records";
import { ensureManifestLocal } from "./tree-fetch";

export interface FileHistoryItem {
  checkpointId: string;
  /** What happened to the path in this checkpoint; `present`: the first checkpoint holding it (nothing earlier to compare with). */
  change: RecordedChange | "present";
  kind: string;
  /** The content's sha256 in this checkpoint (null when deleted, or not a file). */
  sha256: string | null;
  /** The content's sha256 before it (null when added). */
  previousSha256: string | null;
  mode: number | null;
  previousMode: number | null;
  /** Bytes in this checkpoint (before it, for a deletion). */
  size: number | null;
  createdAt: string;
  checkpointKind: string;
  actor: string;
  agent: string | null;
  task: string | null;
  reason: string | null;
}

export interface FileHistoryPage {
  component: string;
  path: string;
  items: FileHistoryItem[];
  nextCursor: string | null;
}

const DEFAULT_LIMIT = 50;

function metaString(meta: unknown, key: string): string | null {
  const value = (meta as Record<string, unknown> | null)?.[key];
  return typeof value === "string" ? value : null;
}

interface CheckpointFacts {
  id: string;
  kind: string;
  actor: string;
  callerMeta: unknown;
  reason: string | null;
  createdAt: Date;
}

function describe(checkpoint: CheckpointFacts) {
  return {
    checkpointId: checkpoint.id,
    createdAt: checkpoint.createdAt.toISOString(),
    checkpointKind: checkpoint.kind,
    actor: checkpoint.actor,
    agent: metaString(checkpoint.callerMeta, "agent"),
    task: metaString(checkpoint.callerMeta, "task"),
    reason: checkpoint.reason,
  };
}

const CHECKPOINT_FACTS = { id: true, kind: true, actor: true, callerMeta: true, reason: true, createdAt: true } as const;

export async function fileHistory(core: Core, input: FileHistoryInput): Promise<FileHistoryPage> {
  const component = await core.db.component.findUnique({ where: { name: input.component }, select: { id: true, name: true } });
  if (!component) throw new NotFoundError(`no component named "${input.component}"`, { component: input.component });
  const path = checkInputPath("path", () => normalizeRelativePath(input.path));
  const limit = input.limit ?? DEFAULT_LIMIT;
  const stored = toStorageText(path);
  let before: { createdAt: Date; checkpointId: string } | undefined;
  if (input.cursor !== undefined) {
    const at = await core.db.fileChange.findUnique({ where: { checkpointId_path: { checkpointId: input.cursor, path: stored } }, select: { createdAt: true, checkpointId: true } });
    if (at) before = at;
    else {
      // The cursor is the first checkpoint holding the path (the history's end): nothing is older.
      return { component: component.name, path, items: [], nextCursor: null };
    }
  }
  const rows = await core.db.fileChange.findMany({
    where: {
      componentId: component.id,
      path: stored,
      checkpoint: { status: "active" },
      ...(before ? { OR: [{ createdAt: { lt: before.createdAt } }, { createdAt: before.createdAt, checkpointId: { lt: before.checkpointId } }] } : {}),
    },
    orderBy: [{ createdAt: "desc" }, { checkpointId: "desc" }],
    take: limit + 1,
    include: { checkpoint: { select: CHECKPOINT_FACTS } },
  });
  const page = rows.slice(0, limit);
  const items: FileHistoryItem[] = page.map((row) => ({
    ...describe(row.checkpoint),
    change: row.change as RecordedChange,
    kind: row.kind,
    sha256: row.newSha256,
    previousSha256: row.oldSha256,
    mode: row.newMode,
    previousMode: row.oldMode,
    size: row.size === null ? null : Number(row.size),
  }));
  if (rows.length > limit) return { component: component.name, path, items, nextCursor: page[page.length - 1]?.checkpointId ?? null };
  const origin = await firstSeen(core, component.id, path, page[page.length - 1]?.createdAt ?? before?.createdAt ?? null);
  if (origin && items.length < limit) items.push(origin);
  else if (origin) return { component: component.name, path, items, nextCursor: page[page.length - 1]?.checkpointId ?? null };
  return { component: component.name, path, items, nextCursor: null };
}

/**
 * The path as held by the latest checkpoint with no base (nothing before it to
 * compare with) taken before the oldest recorded change: where the history starts.
 */
async function firstSeen(core: Core, componentId: string, path: string, olderThan: Date | null): Promise<FileHistoryItem | null> {
  const start = await core.db.checkpoint.findFirst({
    where: { componentId, status: "active", baseId: null, ...(olderThan ? { createdAt: { lt: olderThan } } : {}) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: { ...CHECKPOINT_FACTS, manifestSha: true },
  });
  if (!start) return null;
  let entry;
  try {
    await ensureManifestLocal(core.store, start.manifestSha);
    entry = lookupEntry(core.store, openManifest(core.store, start.manifestSha), path);
  } catch {
    return null; // A damaged checkpoint cannot say; the records above still stand.
  }
  if (!entry) return null;
  return {
    ...describe(start),
    change: "present",
    kind: entry.kind,
    sha256: entry.sha256 ?? null,
    previousSha256: null,
    mode: entry.mode,
    previousMode: null,
    size: entry.kind === "dir" ? null : entry.size,
  };
}

