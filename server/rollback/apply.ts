/**
 * Applies a verified rollback plan to the workspace: deletions first (deepest
 * first), then directories, files, symlinks and metadata. Every file is written
 * to a temp file in its own directory and renamed into place; modes, mtimes and
 * symlinks are restored. Idempotent, so recovery can simply run it again.
 */
import { chmodSync, lstatSync, mkdirSync, renameSync, rmdirSync, symlinkSync, unlinkSync, utimesSync, lutimesSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import type { ObjectStore } from "../store/object-store";
import { flushFiles } from "../store/sync-fs";
import type { ManifestEntry } from "../checkpoints/manifest-types";
import { describeFsError, InvalidInputError, OperationFailedError } from "../errors";
import { normalizeRelativePath } from "../scan/paths";
import type { DeleteItem, RestoreItem } from "./plan";

export interface ApplyOptions {
  onProgress?: (done: number, total: number) => void;
  /** Test hook: simulate a crash after this many workspace writes (throws; or SIGKILLs with SAFETYNET_TEST_CRASH_AFTER_WRITES). */
  abortAfterWrites?: number;
}

export class SimulatedCrash extends Error {}

function depth(p: string): number {
  let n = 0;
  for (let i = 0; i < p.length; i++) if (p.charCodeAt(i) === 47) n++;
  return n;
}

function tempSibling(absPath: string): string {
  return path.join(path.dirname(absPath), `.${path.basename(absPath)}.safetynet-${randomBytes(6).toString("hex")}`);
}

function removeIfPresent(absPath: string): void {
  let st;
  try {
    st = lstatSync(absPath);
  } catch {
    return;
  }
  if (st.isDirectory()) rmdirSync(absPath);
  else unlinkSync(absPath);
}

export async function applyRollbackPlan(
  store: ObjectStore,
  root: string,
  target: ReadonlyMap<string, ManifestEntry>,
  plan: { restore: readonly RestoreItem[]; delete: readonly DeleteItem[] },
  options: ApplyOptions = {},
): Promise<{ restored: number; deleted: number; bytes: number }> {
  const crashAfter = options.abortAfterWrites ?? (process.env.SAFETYNET_TEST_CRASH_AFTER_WRITES ? Number(process.env.SAFETYNET_TEST_CRASH_AFTER_WRITES) : undefined);
  const total = plan.restore.length + plan.delete.length;
  let done = 0;
  let writes = 0;
  let bytes = 0;
  const abs = (rel: string) => {
    // Paths come from a verified manifest, but are re-checked: nothing is written outside the root (invariant 6).
    if (normalizeRelativePath(rel) !== rel || rel === "") throw new InvalidInputError(`refusing unsafe path in plan: ${JSON.stringify(rel)}`, { path: rel });
    return root + "/" + rel;
  };
  const verifiedDirs = new Set<string>();
  const assertRealParent = (rel: string) => {
    const parts = rel.split("/");
    let current = "";
    for (let i = 0; i < parts.length - 1; i++) {
      current = current ? `${current}/${parts[i]}` : (parts[i] as string);
      if (verifiedDirs.has(current)) continue;
      const st = lstatSync(root + "/" + current, { throwIfNoEntry: false });
      if (st && !st.isDirectory()) throw new InvalidInputError(`refusing to write through ${current}: it is not a directory (symlink or file)`, { path: current });
      if (st) verifiedDirs.add(current);
    }
  };
  /**
   * Is every ancestor of `rel` a real directory (not a symlink, not a file)? When not, `rel`
   * cannot exist inside the root any more: a recovery replaying deletions after a crash may find
   * a parent already restored as a file or as a symlink, and must never delete through it.
   */
  const parentsAreRealDirs = (rel: string) => {
    for (let slash = rel.indexOf("/"); slash >= 0; slash = rel.indexOf("/", slash + 1)) {
      const st = lstatSync(root + "/" + rel.slice(0, slash), { throwIfNoEntry: false });
      if (!st || !st.isDirectory()) return false;
    }
    return true;
  };
  const step = () => {
    options.onProgress?.(++done, total);
  };
  const countWrite = () => {
    writes++;
    if (crashAfter !== undefined && writes >= crashAfter) {
      if (process.env.SAFETYNET_TEST_CRASH_AFTER_WRITES) process.kill(process.pid, "SIGKILL");
      throw new SimulatedCrash(`simulated crash after ${writes} writes`);
    }
  };
  const touchedDirs = new Set<string>();
  /** Files written without a flush each; flushed together at the end. */
  const written: string[] = [];
  const markParents = (rel: string) => {
    let dir = path.posix.dirname(rel);
    while (dir !== "." && !touchedDirs.has(dir)) {
      touchedDirs.add(dir);
      dir = path.posix.dirname(dir);
    }
  };

  {
    // 1. Deletions: files and links first, then directories deepest first. A directory that still
    //    holds ignored or out-of-scope files is left in place: those are never touched (invariant 3).
    const deletions = [...plan.delete].sort((a, b) => depth(b.path) - depth(a.path));
    for (const item of deletions) {
      const p = abs(item.path);
      try {
        if (!parentsAreRealDirs(item.path)) {
          // Already gone from the root: nothing to delete, and nothing to follow.
        } else if (item.kind === "dir") rmdirSync(p);
        else unlinkSync(p);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== "ENOENT" && code !== "ENOTEMPTY" && code !== "EEXIST") throw describeFsError(error, p);
      }
      markParents(item.path);
      countWrite();
      step();
    }

    // 2. Restores, shallowest first so parents exist before children.
    const restores = [...plan.restore].sort((a, b) => depth(a.path) - depth(b.path) || (a.path < b.path ? -1 : 1));
    for (const item of restores) {
      const entry = target.get(item.path);
      if (!entry) throw new OperationFailedError(`plan names ${item.path}, which the checkpoint does not hold`, { path: item.path });
      const p = abs(item.path);
      assertRealParent(item.path);
      try {
        if (item.action === "replace") {
          const st = lstatSync(p, { throwIfNoEntry: false });
          if (st && (st.isDirectory() ? entry.kind !== "dir" : true)) removeIfPresent(p);
        }
        if (entry.kind === "dir") {
          mkdirSync(p, { recursive: true, mode: entry.mode });
          chmodSync(p, entry.mode);
        } else if (entry.kind === "symlink") {
          const tmp = tempSibling(p);
          symlinkSync(entry.linkTarget ?? "", tmp);
          renameSync(tmp, p);
          lutimesSync(p, entry.mtimeMs / 1000, entry.mtimeMs / 1000);
        } else if (item.action === "mode") {
          chmodSync(p, entry.mode);
        } else if (item.action !== "mtime") {
          const tmp = tempSibling(p);
          await store.materialize(entry.sha256 as string, tmp, entry.mode, { durable: false });
          renameSync(tmp, p);
          written.push(p);
          bytes += entry.size;
        }
        if (entry.kind === "file") utimesSync(p, entry.mtimeMs / 1000, entry.mtimeMs / 1000);
      } catch (error) {
        if (error instanceof SimulatedCrash || (error as { code?: string }).code === "INTEGRITY") throw error;
        throw error instanceof InvalidInputError ? error : describeFsError(error, p);
      }
      markParents(item.path);
      if (entry.kind === "dir") touchedDirs.add(item.path);
      countWrite();
      step();
    }

    // 3. Directory metadata last (writing children moved their mtimes), deepest first.
    const dirs = [...touchedDirs].sort((a, b) => depth(b) - depth(a));
    for (const dir of dirs) {
      const entry = target.get(dir);
      if (!entry || entry.kind !== "dir") continue;
      const p = abs(dir);
      try {
        chmodSync(p, entry.mode);
        utimesSync(p, entry.mtimeMs / 1000, entry.mtimeMs / 1000);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw describeFsError(error, p);
      }
    }
    // 4. Flush what was written, together (a crash before this point is covered by the journal:
    //    recovery writes every restored file again).
    await flushFiles(root, written);
  }
  const restored = plan.restore.length;
  return { restored, deleted: plan.delete.length, bytes };
}
