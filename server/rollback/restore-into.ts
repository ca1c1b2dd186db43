/**
 * Restore to another place: materializes a checkpoint into an empty directory
 * (a fresh checkout, a side-by-side comparison, disaster recovery), leaving the
 * component's own root alone. Every file is copied out of the store and verified
 * against its sha256 as it is copied; on any failure everything this call wrote
 * is removed again, so the target ends up either complete or as empty as it was.
 *
 * Not a rollback: no plan, no safety checkpoint, no component lock (the component
 * root is never read or written). The tree appears progressively while it is
 * written; it is complete when the call returns.
 */
import { chmodSync, linkSync, lstatSync, lutimesSync, mkdirSync, readdirSync, realpathSync, rmSync, statfsSync, symlinkSync, utimesSync } from "node:fs";
import path from "node:path";
import type { Core, Actor } from "../core";
import { describeFsError, InvalidInputError, OperationFailedError, SafetyNetError } from "../errors";
import { recordEvent } from "../audit/history";
import { isInside, normalizeRelativePath } from "../scan/paths";
import { contentBytesOnDisk, readManifest } from "../checkpoints/manifest";
import type { ManifestEntry } from "../checkpoints/manifest-types";
import { findCheckpointRow } from "../checkpoints/queries";
import { mapConcurrent } from "../concurrency";
import { flushFiles } from "../store/sync-fs";
import { fsPath } from "../byte-paths";
import { ensureManifestLocal } from "../checkpoints/tree-fetch";
import { utimesSeconds } from "../file-times";

/** Files copied at once: enough to keep the disk and libuv's thread pool busy. */
const RESTORE_CONCURRENCY = 16;

export interface RestoreIntoOptions {
  onProgress?: (done: number, total: number) => void;
  /** Files materialized in parallel (default 16). */
  concurrency?: number;
  /** Recorded in history as who did it (default "system"). */
  actor?: Actor;
}

export interface RestoreIntoResult {
  checkpointId: string;
  component: string;
  /** Absolute path of the directory restored into. */
  target: string;
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  durationMs: number;
  manifestSha256: string;
  /** Files the checkpoint holds no content for (they kept changing while it was taken): not written. */
  unstable: string[];
}

function depth(p: string): number {
  let n = 0;
  for (let i = 0; i < p.length; i++) if (p.charCodeAt(i) === 47) n++;
  return n;
}

/**
 * Checks the manifest before anything is written: canonical relative paths (no
 * `..`, no absolute paths, no NUL), no duplicates, and no entry below a file or a
 * symlink (nothing may be written through a link). Returns the directories to
 * create: the dir entries plus any parent a partial-scope manifest leaves implicit.
 */
function checkEntries(entries: readonly ManifestEntry[]): { implicitDirs: string[] } {
  const kinds = new Map<string, ManifestEntry["kind"]>();
  for (const entry of entries) {
    if (entry.path === "" || normalizeRelativePath(entry.path) !== entry.path) {
      throw new InvalidInputError(`refusing unsafe path in manifest: ${JSON.stringify(entry.path)}`, { path: entry.path });
    }
    if (kinds.has(entry.path)) throw new InvalidInputError(`manifest lists ${entry.path} twice`, { path: entry.path });
    if (entry.kind === "file" && !entry.sha256 && !entry.unstable) throw new InvalidInputError(`manifest entry ${entry.path} is a file without a sha256`, { path: entry.path });
    if (entry.kind === "symlink" && entry.linkTarget === undefined) throw new InvalidInputError(`manifest entry ${entry.path} is a symlink without a target`, { path: entry.path });
    kinds.set(entry.path, entry.kind);
  }
  const byPath = new Map(entries.map((e) => [e.path, e]));
  for (const entry of entries) {
    if (entry.hardlinkTo === undefined) continue;
    const first = byPath.get(entry.hardlinkTo);
    // Another name of a file written from the store, with the same content: anything else is not a hard link.
    if (entry.kind !== "file" || first?.kind !== "file" || first.hardlinkTo !== undefined || first.unstable || first.sha256 !== entry.sha256) {
      throw new InvalidInputError(`manifest entry ${entry.path} is a hard link to ${entry.hardlinkTo}, which is not a file of the same content in the checkpoint`, { path: entry.path });
    }
  }
  const implicit = new Set<string>();
  // A folder checked once was checked with all its parents: siblings stop there.
  const checked = new Set<string>();
  for (const entry of entries) {
    for (let dir = path.posix.dirname(entry.path); dir !== "." && !checked.has(dir); dir = path.posix.dirname(dir)) {
      checked.add(dir);
      const kind = kinds.get(dir);
      if (kind === undefined) implicit.add(dir);
      else if (kind !== "dir") throw new InvalidInputError(`manifest entry ${entry.path} lies below ${dir}, which is a ${kind}`, { path: entry.path });
    }
  }
  return { implicitDirs: [...implicit] };
}

/**
 * Resolves the target and makes sure it is (or can become) an empty directory
 * outside the data directory and inside the allowed workspace roots. Returns its
 * absolute path and whether this call has to create it.
 */
function prepareTarget(core: Core, targetDir: string): { target: string; create: boolean } {
  if (typeof targetDir !== "string" || targetDir.length === 0 || targetDir.includes("\0")) {
    throw new InvalidInputError(`target must be a non-empty path without NUL bytes: ${JSON.stringify(targetDir)}`, { field: "target" });
  }
  const target = path.resolve(targetDir);
  const st = lstatSync(target, { throwIfNoEntry: false });
  if (st && !st.isDirectory()) throw new InvalidInputError(`restore target ${target} exists and is not a directory`, { field: "target", target });
  if (st && readdirSync(target).length > 0) throw new InvalidInputError(`restore target ${target} is not empty; restore into an empty or new directory`, { field: "target", target });
  const parent = path.dirname(target);
  // The parent must exist: a typo should not silently create a tree of directories.
  const parentSt = lstatSync(parent, { throwIfNoEntry: false });
  if (!parentSt?.isDirectory()) throw new InvalidInputError(`the parent of the restore target does not exist or is not a directory: ${parent}`, { field: "target", target });
  const realTarget = st ? realpathSync(target) : path.join(realpathSync(parent), path.basename(target));
  const realData = realpathOrSelf(core.config.dataDir);
  if (isInside(realData, realTarget) || isInside(realTarget, realData)) {
    throw new InvalidInputError(`restore target ${target} overlaps the Safety Net data directory ${core.config.dataDir}`, { field: "target", target });
  }
  const allowed = core.config.allowedRoots.map(realpathOrSelf);
  if (!allowed.some((root) => isInside(root, realTarget))) {
    throw new InvalidInputError(`restore target ${target} is outside the allowed roots (${core.config.allowedRoots.join(path.delimiter) || "none"})`, {
      field: "target",
      target,
      allowedRoots: core.config.allowedRoots,
    });
  }
  return { target: realTarget, create: !st };
}

function realpathOrSelf(p: string): string {
  try {
    return realpathSync(path.resolve(p));
  } catch {
    return path.resolve(p);
  }
}

/**
 * Refuses (nothing written) a restore that cannot fit on the file system of
 * `dir`: every file's real bytes in whole blocks (a sparse file's data, not its
 * apparent size), and a block for each folder and symlink.
 */
function assertRestoreFits(dir: string, entries: readonly ManifestEntry[]): void {
  let stats;
  try {
    stats = statfsSync(dir);
  } catch (error) {
    throw describeFsError(error, dir);
  }
  const block = stats.bsize;
  let neededBytes = 0;
  for (const entry of entries) {
    if (entry.kind !== "file") neededBytes += block;
    else if (!entry.unstable && entry.hardlinkTo === undefined) neededBytes += Math.ceil(contentBytesOnDisk(entry) / block) * block;
  }
  const availableBytes = stats.bavail * block;
  if (neededBytes > availableBytes) {
    throw new OperationFailedError(`not enough free space in ${dir} to restore this checkpoint: it needs about ${neededBytes} bytes, ${availableBytes} are available; nothing was written`, {
      target: dir,
      neededBytes,
      availableBytes,
      errno: "ENOSPC",
    });
  }
}

/**
 * Removes what a failed restore wrote: the top-level names it created under
 * `target` (or `target` itself when this call created it). Anything else that
 * appeared in the target meanwhile is left alone.
 */
function undoPartialRestore(target: string, created: boolean, topLevel: ReadonlySet<string>, createdDirs: readonly string[]): void {
  // Directories get their final (possibly read-only) modes only at the very end; make them writable again.
  for (const dir of createdDirs) {
    try {
      chmodSync(fsPath(dir), 0o700);
    } catch {
      // Already gone or never made: nothing to unlock.
    }
  }
  const victims = created ? [target] : [...topLevel].map((name) => path.join(target, name));
  for (const victim of victims) {
    try {
      rmSync(fsPath(victim), { recursive: true, force: true });
    } catch {
      // Best effort: the original error is what the caller needs to see.
    }
  }
}

/**
 * Materializes every entry of checkpoint `checkpointId` into `targetDir`, which
 * must be an empty directory or not exist yet (its parent must exist); it must lie
 * inside the allowed workspace roots and outside the data directory. Restores file
 * contents (verified against their sha256 while copied), modes, mtimes, empty
 * directories and symlinks (as recorded, never followed). Throws IntegrityError
 * when a stored object is missing or corrupt, InvalidInputError for a bad target
 * or an unsafe manifest, NotFoundError for an unknown checkpoint; in every failure
 * case nothing this call wrote is left behind.
 */
export async function restoreCheckpointInto(core: Core, checkpointId: string, targetDir: string, options: RestoreIntoOptions = {}): Promise<RestoreIntoResult> {
  const startedAt = core.now();
  const t0 = performance.now();
  const actor = options.actor ?? "system";
  const row = await findCheckpointRow(core, checkpointId);
  const base = { kind: "checkpoint.restore", component: row.component.name, checkpointId: row.id, actor, startedAt, checksum: row.manifestSha };
  let target = path.resolve(String(targetDir));
  try {
    if (row.status !== "active") throw new InvalidInputError(`checkpoint ${row.id} is ${row.status} and cannot be restored`, { checkpointId: row.id });
    await ensureManifestLocal(core.store, row.manifestSha);
    const manifest = readManifest(core.store, row.manifestSha);
    const { implicitDirs } = checkEntries(manifest.entries);
    let prepared: { target: string; create: boolean };
    try {
      prepared = prepareTarget(core, targetDir);
    } catch (error) {
      throw error instanceof SafetyNetError ? error : describeFsError(error, target);
    }
    target = prepared.target;
    assertRestoreFits(prepared.create ? path.dirname(target) : target, manifest.entries);
    const counts = await writeTree(core, target, prepared.create, manifest.entries, implicitDirs, options);
    const durationMs = Math.round(performance.now() - t0);
    await recordEvent(core, {
      ...base,
      outcome: "succeeded",
      durationMs,
      files: counts.files,
      bytes: counts.bytes,
      details: { target, dirs: counts.dirs, symlinks: counts.symlinks, ...(manifest.entries.some((e) => e.unstable) ? { unstable: manifest.entries.filter((e) => e.unstable).map((e) => e.path).slice(0, 100) } : {}) },
    });
    const unstable = manifest.entries.filter((e) => e.unstable).map((e) => e.path);
    return { checkpointId: row.id, component: row.component.name, target, ...counts, durationMs, manifestSha256: row.manifestSha, unstable };
  } catch (error) {
    await recordEvent(core, {
      ...base,
      outcome: "failed",
      durationMs: performance.now() - t0,
      error: error instanceof Error ? error.message : String(error),
      details: { target, errorCode: error instanceof SafetyNetError ? error.code : "FAILED" },
    }).catch(() => undefined);
    throw error;
  }
}

/** Writes the tree: directories (shallowest first), files (in parallel), symlinks, then directory modes and mtimes (deepest first). */
async function writeTree(
  core: Core,
  target: string,
  create: boolean,
  entries: readonly ManifestEntry[],
  implicitDirs: readonly string[],
  options: RestoreIntoOptions,
): Promise<{ files: number; dirs: number; symlinks: number; bytes: number }> {
  const abs = (rel: string) => target + "/" + rel;
  const dirEntries = entries.filter((e) => e.kind === "dir");
  const files = entries.filter((e) => e.kind === "file" && !e.unstable && e.hardlinkTo === undefined);
  const hardLinks = entries.filter((e) => e.kind === "file" && e.hardlinkTo !== undefined);
  const links = entries.filter((e) => e.kind === "symlink");
  const createdDirs: string[] = [];
  // Top-level names this call created: a failure removes exactly these (never what someone else put there).
  const createdTop = new Set<string>();
  const made = (rel: string) => {
    if (depth(rel) === 0) createdTop.add(rel);
  };
  let bytes = 0;
  let done = 0;
  const total = entries.length - (entries.filter((e) => e.kind === "file").length - files.length);
  const step = () => options.onProgress?.(++done, total);

  // Outside the try: if this fails, nothing was written and there is nothing to undo.
  if (create) {
    try {
      mkdirSync(fsPath(target));
    } catch (error) {
      throw describeFsError(error, target);
    }
  }
  try {
    // 1. Directories, parents first. Manifest dirs are created owner-only-writable so read-only ones can
    //    still be filled (their modes come last); implicit parents of a partial-scope checkpoint, whose
    //    modes the checkpoint does not know, get the default mode (umask applies).
    const implicit = new Set(implicitDirs);
    const allDirs = [...dirEntries.map((e) => e.path), ...implicitDirs].sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : 1));
    for (const rel of allDirs) {
      const p = abs(rel);
      try {
        if (implicit.has(rel)) mkdirSync(fsPath(p));
        else mkdirSync(fsPath(p), { mode: 0o700 });
      } catch (error) {
        throw describeFsError(error, p);
      }
      createdDirs.push(p);
      made(rel);
    }
    for (let i = 0; i < dirEntries.length; i++) step();

    // 2. Files. materialize() creates each with O_EXCL | O_NOFOLLOW, checks the bytes against the sha256 and sets the mode and mtime.
    // Written without a flush each; all are flushed together below, before the restore reports success.
    await mapConcurrent(files, Math.max(1, options.concurrency ?? RESTORE_CONCURRENCY), async (entry) => {
      const p = abs(entry.path);
      await core.store.materialize(entry.sha256 as string, p, entry.mode, { durable: false, mtimeMs: entry.mtimeMs, sparse: entry.sparse !== undefined });
      made(entry.path);
      bytes += contentBytesOnDisk(entry);
      step();
    });

    // 2b. Other names of files written above (hard links).
    for (const entry of hardLinks) {
      const p = abs(entry.path);
      try {
        linkSync(fsPath(abs(entry.hardlinkTo as string)), fsPath(p));
      } catch (error) {
        throw describeFsError(error, p);
      }
      made(entry.path);
      step();
    }

    // 3. Symlinks last, so no file above could have been written through one.
    for (const entry of links) {
      const p = abs(entry.path);
      try {
        symlinkSync(fsPath(entry.linkTarget as string), fsPath(p));
        made(entry.path);
        lutimesSync(fsPath(p), utimesSeconds(entry.mtimeMs), utimesSeconds(entry.mtimeMs));
      } catch (error) {
        throw describeFsError(error, p);
      }
      step();
    }

    // 4. Directory modes and mtimes, deepest first (writing children moved the parents' mtimes).
    for (const entry of [...dirEntries].sort((a, b) => depth(b.path) - depth(a.path))) {
      const p = abs(entry.path);
      try {
        chmodSync(fsPath(p), entry.mode);
        utimesSync(fsPath(p), utimesSeconds(entry.mtimeMs), utimesSeconds(entry.mtimeMs));
      } catch (error) {
        throw describeFsError(error, p);
      }
    }
    // 5. One flush for everything written above (a file-system sync, or one fdatasync per file where that is unavailable).
    await flushFiles(target, files.map((entry) => abs(entry.path)));
  } catch (error) {
    undoPartialRestore(target, create, createdTop, createdDirs);
    if (error instanceof SafetyNetError) throw error;
    throw new OperationFailedError(`restore into ${target} failed: ${error instanceof Error ? error.message : String(error)}`, { target }, { cause: error });
  }
  return { files: files.length + hardLinks.length, dirs: dirEntries.length, symlinks: links.length, bytes };
}
