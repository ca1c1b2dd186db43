/**
 * Finds, before anything is written, what would stop a plan half-way: a file or
 * link to be put where a directory still holds files the rollback may not touch
 * (ignored or out of scope), or a directory or parent to be put where such a
 * file sits. Such a rollback would fail in the middle and leave a journal that
 * can never complete, so it is refused up front, naming the paths in the way.
 */
import { lstatSync, type Stats } from "node:fs";
import { ConflictError } from "../errors";
import { fsPath } from "../byte-paths";
import { listNames } from "../scan/paths";
import type { RollbackPlanBody } from "./plan";

export interface PlanObstacle {
  /** What the plan must put at this path. */
  path: string;
  /** Files and folders the rollback may not touch that are in the way (root-relative, at most a few). */
  inTheWay: string[];
  /**
   * The topmost of them, complete: what moving the obstacles aside moves (each with
   * everything under it). The plan's own deletions take care of the rest.
   */
  toMove: string[];
}

const LISTED_PER_OBSTACLE = 10;

/** lstat, or null when nothing is there (or a parent is not a directory). */
function lstatOrNull(abs: string): Stats | null {
  try {
    return lstatSync(fsPath(abs));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw error;
  }
}

/** Everything under `rel` (a directory), depth first, never following symlinks. */
function listUnder(root: string, rel: string, out: string[], limit: number): void {
  let names: string[];
  try {
    names = listNames(`${root}/${rel}`);
  } catch {
    return;
  }
  for (const name of names.sort()) {
    if (out.length >= limit) return;
    const child = `${rel}/${name}`;
    out.push(child);
    const st = lstatOrNull(`${root}/${child}`);
    if (st?.isDirectory()) listUnder(root, child, out, limit);
  }
}

export function findPlanObstacles(root: string, plan: Pick<RollbackPlanBody, "restore" | "delete">): PlanObstacle[] {
  const deleted = new Set(plan.delete.map((d) => d.path));
  const restoredDirs = new Set(plan.restore.filter((r) => r.kind === "dir").map((r) => r.path));
  const replaced = new Set(plan.restore.filter((r) => r.action === "replace").map((r) => r.path));
  const obstacles: PlanObstacle[] = [];
  const checkedParents = new Set<string>();
  for (const item of plan.restore) {
    // Parents: each must be a directory already, or one the plan creates or replaces.
    for (let slash = item.path.indexOf("/"); slash >= 0; slash = item.path.indexOf("/", slash + 1)) {
      const parent = item.path.slice(0, slash);
      if (checkedParents.has(parent)) continue;
      checkedParents.add(parent);
      if (restoredDirs.has(parent) || deleted.has(parent)) continue;
      const st = lstatOrNull(`${root}/${parent}`);
      if (st && !st.isDirectory()) obstacles.push({ path: item.path, inTheWay: [parent], toMove: [parent] });
    }
    const st = lstatOrNull(`${root}/${item.path}`);
    if (!st) continue;
    if (item.kind === "dir") {
      if (!st.isDirectory() && !replaced.has(item.path) && !deleted.has(item.path)) obstacles.push({ path: item.path, inTheWay: [item.path], toMove: [item.path] });
      continue;
    }
    if (!st.isDirectory() || item.action === "mode" || item.action === "mtime") continue;
    // A file or link must replace this directory: whatever the plan does not delete stays in the way.
    const under: string[] = [];
    listUnder(root, item.path, under, 10_000);
    const left = under.filter((p) => !deleted.has(p));
    if (left.length > 0) obstacles.push({ path: item.path, inTheWay: left.slice(0, LISTED_PER_OBSTACLE), toMove: topmostKept(root, item.path, deleted) });
  }
  return obstacles;
}

/**
 * What under the directory `rel` the plan does not delete, topmost only: an entry
 * kept is taken whole; a directory the plan deletes is looked into, since what it
 * still holds keeps it from being removed.
 */
function topmostKept(root: string, rel: string, deleted: ReadonlySet<string>): string[] {
  const kept: string[] = [];
  const visit = (dir: string) => {
    let names: string[];
    try {
      names = listNames(`${root}/${dir}`);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const child = `${dir}/${name}`;
      if (!deleted.has(child)) kept.push(child);
      else if (lstatOrNull(`${root}/${child}`)?.isDirectory()) visit(child);
    }
  };
  visit(rel);
  return kept;
}

/** One entry in the way, moved aside into the data directory's quarantine when the caller asked for it. */
export interface ObstacleMove {
  /** Root-relative: moved with everything under it. */
  path: string;
  /** The path the plan restores that it is in the way of. */
  inTheWayOf: string;
}

/**
 * Refuses (ConflictError, nothing written) a plan that could not be carried out to
 * the end; with `moveObstacles`, returns instead what must be moved aside for it to
 * complete (empty when nothing is in the way).
 */
export function assertPlanCanComplete(root: string, plan: Pick<RollbackPlanBody, "restore" | "delete">, options: { moveObstacles?: boolean } = {}): ObstacleMove[] {
  const obstacles = findPlanObstacles(root, plan);
  if (obstacles.length === 0) return [];
  if (options.moveObstacles) {
    const seen = new Set<string>();
    const moves: ObstacleMove[] = [];
    for (const obstacle of obstacles) {
      for (const p of obstacle.toMove) {
        if (seen.has(p)) continue;
        seen.add(p);
        moves.push({ path: p, inTheWayOf: obstacle.path });
      }
    }
    return moves.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
  const named = obstacles
    .slice(0, 5)
    .map((o) => `${o.path} (in the way: ${o.inTheWay.join(", ")})`)
    .join("; ");
  throw new ConflictError(
    `rollback refused before any change: ${obstacles.length} path(s) cannot be restored because files the rollback never touches (ignored or outside the checkpoint's scope) are in the way: ${named}; move or delete them, then plan again, or roll back with --move-obstacles (tRPC: moveObstacles: true) to have them moved into the data directory's quarantine/<rollback id>/ first`,
    { obstacles: obstacles.map(({ path, inTheWay }) => ({ path, inTheWay })) },
  );
}
