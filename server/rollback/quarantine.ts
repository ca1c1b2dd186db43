/**
 * Moving obstacles aside: entries a rollback never touches (ignored, or outside
 * the checkpoint's scope) that stand where the rollback must put a path are
 * moved, when the caller asked for it, into `<data dir>/quarantine/<rollback id>/`
 * under their root-relative path, so the rollback can complete and nothing is
 * lost. The quarantine folders are private (0700) like the rest of the data
 * directory; the moved entries keep their own modes, times and links.
 */
import { copyFileSync, lstatSync, lutimesSync, mkdirSync, readlinkSync, rmSync, symlinkSync, utimesSync, renameSync } from "node:fs";
import path from "node:path";
import { fsPath } from "../byte-paths";
import { describeFsError, OperationFailedError } from "../errors";
import { listNames, normalizeRelativePath } from "../scan/paths";
import { flushDirectories } from "../store/sync-fs";
import { PRIVATE_DIR_MODE } from "../private-files";
import type { ObstacleMove } from "./preflight";

export interface MovedObstacle {
  /** Root-relative path it was at. */
  path: string;
  /** Absolute path it is at now, inside the data directory's quarantine. */
  to: string;
}

export function quarantineDir(dataDir: string, rollbackId: string): string {
  return path.join(dataDir, "quarantine", rollbackId);
}

/** A free name at `dest`: a recovery moving a second thing to the same path keeps both. */
function freeDestination(dest: string): string {
  let candidate = dest;
  for (let n = 1; lstatSync(fsPath(candidate), { throwIfNoEntry: false }); n++) candidate = `${dest}~${n}`;
  return candidate;
}

/** Copies `src` (not following links) to `dest`, for a data directory on another file system than the root. */
function copyTree(src: string, dest: string): void {
  const st = lstatSync(fsPath(src));
  if (st.isDirectory()) {
    mkdirSync(fsPath(dest), { mode: st.mode & 0o7777 });
    for (const name of listNames(src)) copyTree(`${src}/${name}`, `${dest}/${name}`);
    utimesSync(fsPath(dest), st.atime, st.mtime);
  } else if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(fsPath(src)), fsPath(dest));
    lutimesSync(fsPath(dest), st.atime, st.mtime);
  } else if (st.isFile()) {
    copyFileSync(fsPath(src), fsPath(dest));
    utimesSync(fsPath(dest), st.atime, st.mtime);
  }
  // Sockets, FIFOs and devices are not content: they are removed with the rest.
}

/**
 * Moves each obstacle (with everything under it) into the rollback's quarantine.
 * Nothing is followed: every folder above an obstacle must still be a real folder
 * inside the root, or the move is refused.
 */
export async function moveObstaclesAside(root: string, dataDir: string, rollbackId: string, moves: readonly ObstacleMove[]): Promise<MovedObstacle[]> {
  const moved: MovedObstacle[] = [];
  if (moves.length === 0) return moved;
  const base = quarantineDir(dataDir, rollbackId);
  const touched = new Set<string>();
  for (const move of moves) {
    const rel = move.path;
    if (normalizeRelativePath(rel) !== rel || rel === "") throw new OperationFailedError(`refusing to move an unsafe path aside: ${JSON.stringify(rel)}`, { path: rel });
    for (let slash = rel.indexOf("/"); slash >= 0; slash = rel.indexOf("/", slash + 1)) {
      const st = lstatSync(fsPath(`${root}/${rel.slice(0, slash)}`), { throwIfNoEntry: false });
      if (!st?.isDirectory()) throw new OperationFailedError(`cannot move ${rel} aside: ${rel.slice(0, slash)} is no longer a folder`, { path: rel });
    }
    const src = `${root}/${rel}`;
    if (!lstatSync(fsPath(src), { throwIfNoEntry: false })) continue;
    const dest = freeDestination(path.join(base, rel));
    try {
      mkdirSync(fsPath(path.dirname(dest)), { recursive: true, mode: PRIVATE_DIR_MODE });
      try {
        renameSync(fsPath(src), fsPath(dest));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
        copyTree(src, dest);
        rmSync(fsPath(src), { recursive: true });
      }
    } catch (error) {
      throw describeFsError(error, src);
    }
    touched.add(path.dirname(src));
    touched.add(path.dirname(dest));
    moved.push({ path: rel, to: dest });
  }
  // Durable before the rollback goes on: a crash must not bring an obstacle back into the way, nor lose one.
  await flushDirectories([...touched, path.dirname(base)]);
  return moved;
}

/** Moved obstacles listed in the history row (the count is always complete). */
const LISTED_IN_HISTORY = 1_000;

export function movedObstaclesDetails(moved: readonly MovedObstacle[]): { movedObstacles?: MovedObstacle[]; movedObstaclesCount?: number } {
  if (moved.length === 0) return {};
  return { movedObstacles: moved.slice(0, LISTED_IN_HISTORY), movedObstaclesCount: moved.length };
}
