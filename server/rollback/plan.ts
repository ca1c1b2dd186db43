/**
 * Rollback planning: from the comparison of a checkpoint with the live state of
 * the same scope, decide exactly what is written, what is deleted and what is
 * left alone. Only what differs is touched.
 */
import { createHash } from "node:crypto";
import type { ManifestEntry } from "../checkpoints/manifest-types";
import type { ManifestComparison, PathChange } from "../checkpoints/compare";
import { contentBytesOnDisk } from "../checkpoints/manifest";
import type { DatabasePlanItem } from "../dbstate/databases";
import type { ObstacleMove } from "./preflight";

export type RestoreAction = "write" | "recreate" | "replace" | "link" | "mode" | "mtime";

export interface RestoreItem {
  path: string;
  kind: ManifestEntry["kind"];
  /**
   * write: content differs; recreate: missing; replace: type changed; link: made a
   * hard link to `hardlinkTo` again (another name of that file, no content written);
   * mode / mtime: metadata only.
   */
  action: RestoreAction;
  /** Files: the apparent size. */
  size: number;
  /** link: the file this path is another name of. */
  hardlinkTo?: string;
  /** A sparse file: the bytes of data written (everything else of `size` stays a hole). */
  sparse?: { dataBytes: number };
  /** The permission bits change too (whatever else does): `live` now, `restored` the checkpoint's. */
  modeChange?: { live: number; restored: number };
}

export interface DeleteItem {
  path: string;
  kind: ManifestEntry["kind"];
}

export interface RollbackPlanBody {
  restore: RestoreItem[];
  delete: DeleteItem[];
  unchanged: number;
  /**
   * Paths the checkpoint recorded as unstable (they kept changing while it was
   * taken): it holds no content for them, so the rollback leaves them as they are.
   */
  unstable: string[];
  /** Bytes of file content the rollback writes (of a sparse file, its data: holes are not written). */
  bytesToWrite: number;
  /** Databases the rollback replaces with the checkpoint's snapshots (all of them: a database is put back whole). */
  databases: DatabasePlanItem[];
  /**
   * Asked for with moveObstacles: ignored or out-of-scope entries in the way of a
   * restored path, moved into `<data dir>/quarantine/<rollback id>/` before any file
   * is written (absent when not asked for).
   */
  obstaclesToMove?: ObstacleMove[];
  /** A rollback restricted to these paths (files, or folders with everything under them): nothing else is planned. Absent: the whole checkpoint. */
  paths?: string[];
}

/** `comparison`: the checkpoint (before) against the live state (after). */
export function computeRollbackPlan({ changes, unchanged, unstable }: ManifestComparison): RollbackPlanBody {
  const restore: RestoreItem[] = [];
  const remove: DeleteItem[] = [];
  let bytesToWrite = 0;
  for (const change of changes) {
    if (change.change === "added" && change.after) {
      remove.push({ path: change.path, kind: change.after.kind });
      continue;
    }
    const before = change.before;
    if (!before) continue;
    const action = restoreAction(change.change, before);
    if (before.kind === "file" && (action === "write" || action === "recreate" || action === "replace")) bytesToWrite += contentBytesOnDisk(before);
    const item: RestoreItem = { path: change.path, kind: before.kind, action, size: before.kind === "file" ? before.size : 0 };
    if (action === "link") item.hardlinkTo = before.hardlinkTo;
    if (before.kind === "file" && before.sparse) item.sparse = before.sparse;
    const live = change.after;
    if (live && live.kind === before.kind && before.kind !== "symlink" && live.mode !== before.mode) item.modeChange = { live: live.mode, restored: before.mode };
    restore.push(item);
  }
  return { restore, delete: remove, unchanged, unstable, bytesToWrite, databases: [] };
}

/**
 * How a changed path is put back. A file the checkpoint holds as another name of an
 * earlier file is linked to it again, whatever happened to it (its content is that
 * file's, which the plan restores first when it changed too).
 */
function restoreAction(change: PathChange["change"], before: ManifestEntry): RestoreAction {
  if (before.kind === "file" && before.hardlinkTo !== undefined && change !== "mode-changed" && change !== "mtime-changed") return "link";
  switch (change) {
    case "deleted":
      return "recreate";
    case "type-changed":
      return "replace";
    case "modified":
    case "link-changed":
      return "write";
    case "mode-changed":
      return "mode";
    default:
      return "mtime";
  }
}

/** Paths whose content must come from the store (these objects are verified first). */
export function pathsNeedingContent(plan: { restore: readonly RestoreItem[] }): Set<string> {
  return new Set(plan.restore.filter((r) => r.kind === "file" && r.action !== "mode" && r.action !== "mtime" && r.action !== "link").map((r) => r.path));
}

/** The hash a confirm token is bound to: the checkpoint plus exactly what will be done. */
export function planHash(checkpointId: string, plan: RollbackPlanBody): string {
  // Unstable paths are not written: they bind the token only when there are some (earlier plans keep their hashes).
  // Obstacles moved aside likewise: the token covers each one.
  const files = [
    checkpointId,
    plan.restore.map((r) => [r.path, r.action]),
    plan.delete.map((d) => d.path),
    ...(plan.unstable.length > 0 ? [plan.unstable] : []),
    ...(plan.obstaclesToMove?.length ? [{ moveAside: plan.obstaclesToMove.map((o) => o.path) }] : []),
    // A token for some paths confirms a rollback of exactly those paths (a plan of them all is another plan).
    ...(plan.paths ? [{ paths: plan.paths }] : []),
  ];
  // Without databases the hash is what it always was.
  const body = JSON.stringify(plan.databases.length === 0 ? files : [...files, plan.databases.map((d) => [d.target, d.action, d.sha256])]);
  return createHash("sha256").update(body).digest("hex");
}
