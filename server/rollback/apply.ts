/**
 * Applies a verified rollback plan to the workspace: deletions first (deepest
 * first), then directories, files, symlinks and metadata. Every file is written
 * to a temp file in its own directory and renamed into place; modes, mtimes and
 * symlinks are restored. Idempotent, so recovery can simply run it again.
 * Before it returns, what it wrote and the directories it changed are durable
 * (the journal may be removed).
 */
import { chmodSync, linkSync, lstatSync, mkdirSync, renameSync, rmdirSync, symlinkSync, unlinkSync, utimesSync, lutimesSync } from "node:fs";
import { createHash } from "node:crypto";
import path from "node:path";
import type { ObjectStore } from "../store/object-store";
import { flushDirectories, flushFiles } from "../store/sync-fs";
import type { EntryLookup } from "../checkpoints/manifest-types";
import { contentBytesOnDisk } from "../checkpoints/manifest";
import { describeFsError, InvalidInputError, OperationFailedError, SafetyNetError } from "../errors";
import { normalizeRelativePath } from "../scan/paths";
import { fsPath, nameBytes } from "../byte-paths";
import type { DeleteItem, RestoreItem } from "./plan";
import { utimesSeconds } from "../file-times";

export interface ApplyOptions {
  onProgress?: (done: number, total: number) => void;
  /**
   * Names this rollback's temp files (`.<name>.sn-<tag>` beside each restored file),
   * so a recovery can find and remove the ones a crash left behind.
   */
  tempTag?: string;
  /**
   * More paths whose folders get their metadata (mode, mtime) put back at the end:
   * a recovery passes what the interrupted run had already changed, so folders it
   * touched before it died are settled too.
   */
  settleFoldersOf?: readonly { path: string }[];
}

interface PlanPaths {
  restore: readonly RestoreItem[];
  delete: readonly DeleteItem[];
}

const NAME_MAX = 255;

function depth(p: string): number {
  let n = 0;
  for (let i = 0; i < p.length; i++) if (p.charCodeAt(i) === 47) n++;
  return n;
}

function tagOf(options: ApplyOptions): string {
  return createHash("sha256")
    .update(options.tempTag ?? `${process.pid}-${Date.now()}-${Math.random()}`)
    .digest("hex")
    .slice(0, 12);
}

/** The temp sibling a restored file or link is written to before it is renamed into place. */
function tempSibling(absPath: string, tag: string): string {
  const base = path.basename(absPath);
  let name = `.${base}.sn-${tag}`;
  if (nameBytes(name).length > NAME_MAX) name = `.sn-${createHash("sha256").update(base).digest("hex").slice(0, 16)}-${tag}`;
  return path.join(path.dirname(absPath), name);
}

/** Whether `name` is the temp sibling a rollback (any tag) writes before renaming it to `base`: how a failure naming it is traced to the file. */
export function isTempSiblingName(name: string, base: string): boolean {
  const tag = /[0-9a-f]{12}$/.exec(name)?.[0];
  return tag !== undefined && path.basename(tempSibling("/" + base, tag)) === name;
}

function removeIfPresent(absPath: string): void {
  let st;
  try {
    st = lstatSync(fsPath(absPath));
  } catch {
    return;
  }
  if (st.isDirectory()) rmdirSync(fsPath(absPath));
  else unlinkSync(fsPath(absPath));
}

/** Root-relative path -> absolute, re-checked: nothing is ever written outside the root. */
function resolver(root: string): (rel: string) => string {
  return (rel) => {
    if (normalizeRelativePath(rel) !== rel || rel === "") throw new InvalidInputError(`refusing unsafe path in plan: ${JSON.stringify(rel)}`, { path: rel });
    return root + "/" + rel;
  };
}

/**
 * Is every ancestor of `rel` a real directory (not a symlink, not a file)? When not, `rel`
 * cannot exist inside the root any more: a recovery replaying deletions after a crash may find
 * a parent already restored as a file or as a symlink, and must never delete through it.
 */
function parentsAreRealDirs(root: string, rel: string): boolean {
  for (let slash = rel.indexOf("/"); slash >= 0; slash = rel.indexOf("/", slash + 1)) {
    const st = lstatSync(fsPath(root + "/" + rel.slice(0, slash)), { throwIfNoEntry: false });
    if (!st || !st.isDirectory()) return false;
  }
  return true;
}

/** Removes the temp files an interrupted run of this plan (same tempTag) left beside the paths it restores. */
export function removeTempSiblings(root: string, plan: PlanPaths, options: ApplyOptions): void {
  const tag = tagOf(options);
  const abs = resolver(root);
  for (const item of plan.restore) {
    if (item.kind === "dir" || !parentsAreRealDirs(root, item.path)) continue;
    const tmp = tempSibling(abs(item.path), tag);
    const st = lstatSync(fsPath(tmp), { throwIfNoEntry: false });
    if (st && !st.isDirectory()) unlinkSync(fsPath(tmp));
  }
}

export async function applyRollbackPlan(
  store: ObjectStore,
  root: string,
  target: EntryLookup,
  plan: PlanPaths,
  options: ApplyOptions = {},
): Promise<{ restored: number; deleted: number; bytes: number }> {
  const total = plan.restore.length + plan.delete.length;
  const tag = tagOf(options);
  const abs = resolver(root);
  let done = 0;
  let bytes = 0;
  const verifiedDirs = new Set<string>();
  const assertRealParent = (rel: string) => {
    const parts = rel.split("/");
    let current = "";
    for (let i = 0; i < parts.length - 1; i++) {
      current = current ? `${current}/${parts[i]}` : (parts[i] as string);
      if (verifiedDirs.has(current)) continue;
      const st = lstatSync(fsPath(root + "/" + current), { throwIfNoEntry: false });
      if (st && !st.isDirectory()) throw new InvalidInputError(`refusing to write through ${current}: it is not a directory (symlink or file)`, { path: current });
      if (st) verifiedDirs.add(current);
    }
  };
  const parentExists = (rel: string) => {
    const slash = rel.lastIndexOf("/");
    return slash < 0 || verifiedDirs.has(rel.slice(0, slash)) || lstatSync(fsPath(root + "/" + rel.slice(0, slash)), { throwIfNoEntry: false }) !== undefined;
  };
  const step = () => options.onProgress?.(++done, total);
  /** Root-relative directories whose entries or metadata changed: flushed (and their metadata restored) at the end. */
  const touchedDirs = new Set<string>([""]);
  /** Files written without a flush each; flushed together at the end. */
  const written: string[] = [];
  const markParents = (rel: string) => {
    let dir = path.posix.dirname(rel);
    while (dir !== "." && !touchedDirs.has(dir)) {
      touchedDirs.add(dir);
      dir = path.posix.dirname(dir);
    }
  };

  for (const item of options.settleFoldersOf ?? []) {
    // The path itself when it is a folder of the checkpoint (step 3 skips anything else), and its parents.
    touchedDirs.add(item.path);
    markParents(item.path);
  }

  // 1. Deletions: files and links first, then directories deepest first. A directory that still
  //    holds ignored or out-of-scope files is left in place: those are never touched.
  const deletions = [...plan.delete].sort((a, b) => depth(b.path) - depth(a.path));
  for (const item of deletions) {
    const p = abs(item.path);
    try {
      if (!parentsAreRealDirs(root, item.path)) {
        // Already gone from the root: nothing to delete, and nothing to follow.
      } else if (item.kind === "dir") rmdirSync(fsPath(p));
      else unlinkSync(fsPath(p));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTEMPTY" && code !== "EEXIST") throw describeFsError(error, p);
    }
    markParents(item.path);
    step();
  }

  // 2. Restores, shallowest first so parents exist before children; hard links after every file they name.
  const restores = [...plan.restore].sort((a, b) => depth(a.path) - depth(b.path) || (a.path < b.path ? -1 : 1));
  /** Names whose mode or mtime change is made by linking them again to their first name (see below). */
  const relinked = new Set<string>();
  for (const item of restores) {
    if (item.action === "link") continue;
    const entry = target.get(item.path);
    if (!entry) throw new OperationFailedError(`plan names ${item.path}, which the checkpoint does not hold`, { path: item.path });
    const p = abs(item.path);
    assertRealParent(item.path);
    let action = item.action;
    if ((action === "mode" || action === "mtime") && entry.kind === "file") {
      // A chmod or utimes in place changes every other name of the file too, and some may lie outside the
      // rollback (out of scope, ignored). A name the checkpoint holds as a hard link is linked again to its
      // first name once that one is settled; a file with other names is written anew.
      if (entry.hardlinkTo !== undefined) {
        relinked.add(item.path);
        continue;
      }
      if (entry.sha256 !== undefined && (lstatSync(fsPath(p), { throwIfNoEntry: false })?.nlink ?? 1) > 1) action = "write";
    }
    try {
      if (item.action === "replace") {
        const st = lstatSync(fsPath(p), { throwIfNoEntry: false });
        if (st && (st.isDirectory() ? entry.kind !== "dir" : true)) removeIfPresent(p);
      }
      if (entry.kind !== "dir" && !parentExists(item.path)) {
        // A partial checkpoint does not hold its paths' parent folders: put back the ones that went away.
        mkdirSync(fsPath(path.dirname(p)), { recursive: true });
      }
      if (entry.kind === "dir") {
        mkdirSync(fsPath(p), { recursive: true, mode: entry.mode });
        chmodSync(fsPath(p), entry.mode);
      } else if (entry.kind === "symlink") {
        const tmp = tempSibling(p, tag);
        removeIfPresent(tmp);
        symlinkSync(fsPath(entry.linkTarget ?? ""), fsPath(tmp));
        renameSync(fsPath(tmp), fsPath(p));
        lutimesSync(fsPath(p), utimesSeconds(entry.mtimeMs), utimesSeconds(entry.mtimeMs));
      } else if (action === "mode") {
        chmodSync(fsPath(p), entry.mode);
      } else if (action !== "mtime") {
        const tmp = tempSibling(p, tag);
        removeIfPresent(tmp);
        await store.materialize(entry.sha256 as string, tmp, entry.mode, { durable: false, sparse: entry.sparse !== undefined });
        renameSync(fsPath(tmp), fsPath(p));
        written.push(p);
        bytes += contentBytesOnDisk(entry);
      }
      if (entry.kind === "file") utimesSync(fsPath(p), utimesSeconds(entry.mtimeMs), utimesSeconds(entry.mtimeMs));
    } catch (error) {
      throw error instanceof SafetyNetError ? error : describeFsError(error, p);
    }
    markParents(item.path);
    if (entry.kind === "dir") touchedDirs.add(item.path);
    step();
  }

  // 2b. Hard links: another name of the file the checkpoint says this one is, made in a temp sibling
  //     and renamed over whatever is at the path.
  for (const item of restores) {
    if (item.action !== "link" && !relinked.has(item.path)) continue;
    const entry = target.get(item.path);
    if (entry?.hardlinkTo === undefined) throw new OperationFailedError(`plan links ${item.path}, which the checkpoint does not hold as a hard link`, { path: item.path });
    const p = abs(item.path);
    const first = abs(entry.hardlinkTo);
    assertRealParent(item.path);
    assertRealParent(entry.hardlinkTo);
    try {
      const firstStat = lstatSync(fsPath(first));
      if (!firstStat.isFile()) throw new OperationFailedError(`cannot link ${item.path} to ${entry.hardlinkTo}: that is not a file`, { path: item.path, hardlinkTo: entry.hardlinkTo });
      const st = lstatSync(fsPath(p), { throwIfNoEntry: false });
      if (!(st?.isFile() && st.ino === firstStat.ino && st.dev === firstStat.dev)) {
        if (st?.isDirectory()) rmdirSync(fsPath(p));
        if (!parentExists(item.path)) mkdirSync(fsPath(path.dirname(p)), { recursive: true });
        const tmp = tempSibling(p, tag);
        removeIfPresent(tmp);
        linkSync(fsPath(first), fsPath(tmp));
        renameSync(fsPath(tmp), fsPath(p));
      }
    } catch (error) {
      throw error instanceof SafetyNetError ? error : describeFsError(error, p);
    }
    markParents(item.path);
    step();
  }

  // 3. Directory metadata last (writing children moved their mtimes), deepest first.
  const dirs = [...touchedDirs].sort((a, b) => depth(b) - depth(a));
  for (const dir of dirs) {
    const entry = target.get(dir);
    if (!entry || entry.kind !== "dir") continue;
    const p = abs(dir);
    try {
      chmodSync(fsPath(p), entry.mode);
      utimesSync(fsPath(p), utimesSeconds(entry.mtimeMs), utimesSeconds(entry.mtimeMs));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw describeFsError(error, p);
    }
  }
  // 4. Make it durable: file contents first, then the directory entries that point at them.
  await flushFiles(root, written);
  await flushDirectories(dirs.map((dir) => (dir === "" ? root : root + "/" + dir)));
  return { restored: plan.restore.length, deleted: plan.delete.length, bytes };
}
