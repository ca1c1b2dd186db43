// The CLI bundle's builds, and how a rebuild never breaks a CLI that is running.
//
// The bundle is split into chunks named by content hash, loaded on demand: a
// command started before a rebuild may import a chunk minutes later (after a y/N
// prompt, when a guarded command ends). Rebuilding in place would delete that
// chunk under it (ERR_MODULE_NOT_FOUND). So every build gets its own folder and
// is never changed once it is in use:
//
//   dist/cli                      symlink to the current build, cli-builds/<id>
//   dist/cli-builds/<id>/         main.mjs, chunks/, users/<pid> (one file per process using it)
//   dist/cli-builds/.partial-<pid>-<n>   a build being written (never loaded)
//   dist/cli-builds/.lock         held while a builder switches and prunes
//
// Switching: the new build is complete before `dist/cli` is pointed at it, by
// rename(2) of a fresh symlink over the old one, so a reader sees the old build
// or the new one, never a missing or half-written one. Build ids are assigned
// under the lock in switch order, so the newest id is always the current build.
//
// Using (bin/safetynet.mjs, enterCurrentBuild): resolve `dist/cli` to its build,
// write `users/<pid>` in it, then resolve again. If the link still names the same
// build, the process loads it from its real path (so every chunk it imports later
// comes from that folder, whatever `dist/cli` points at by then) and removes its
// pid file when it exits. If the link moved in between, it drops the pid file and
// starts over with the new build.
//
// Pruning (after each switch, under the lock): read the current build first,
// then remove each build that is not among the newest KEEP_BUILDS and whose
// users/ names no living process. This cannot remove a build a process is about
// to load: that process saw the link name its build *after* writing its pid file,
// and the link never goes back to an older build, so a pruner that saw another
// build as current read the link later, and finds the pid file. A pid file left by
// a process killed outright names a dead pid and is ignored; a reused pid only
// keeps a build longer. A process that cannot write its pid file (a read-only
// install) still runs; the newest KEEP_BUILDS builds are kept whatever their users.
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeSync } from "node:fs";
import path from "node:path";

export const BUILDS_FOLDER = "cli-builds";
export const CURRENT_LINK = "cli";
/** Builds kept whatever their users: the current one and the one before it. */
export const KEEP_BUILDS = 2;
const USERS_FOLDER = "users";
/** A lock file still empty after this long was left by a builder that died before writing its pid. */
const STALE_EMPTY_LOCK_MS = 10_000;

/** Whether a process runs (EPERM: it does, under another user). */
export function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

function resolveBuild(link) {
  try {
    return realpathSync(link);
  } catch {
    return null;
  }
}

/**
 * The folder of the current build, registered as used by this process until it
 * exits (see the top of this file); null when there is no build.
 */
export function enterCurrentBuild(distDir) {
  const link = path.join(distDir, CURRENT_LINK);
  for (;;) {
    const build = resolveBuild(link);
    if (build === null) return null;
    const pidFile = path.join(build, USERS_FOLDER, String(process.pid));
    let registered = false;
    try {
      // Never creates the folder: a build pruned meanwhile must not come back as an empty shell.
      closeSync(openSync(pidFile, "w"));
      registered = true;
    } catch (error) {
      if (error.code === "ENOENT" && !existsSync(path.join(build, "main.mjs"))) continue; // pruned meanwhile
    }
    if (!registered) return build; // a build of the older layout, or a read-only install
    if (resolveBuild(link) === build) {
      process.once("exit", () => {
        try {
          unlinkSync(pidFile);
        } catch {
          // already gone: the build was removed, or the pid file was never ours to keep
        }
      });
      return build;
    }
    try {
      unlinkSync(pidFile);
    } catch {
      // removed with its build
    }
  }
}

/** The pids recorded in a build's users/ that still run. */
export function liveUsers(buildDir) {
  let names;
  try {
    names = readdirSync(path.join(buildDir, USERS_FOLDER));
  } catch {
    return [];
  }
  return names.map(Number).filter(isAlive);
}

/** Finished builds, oldest first (ids sort in switch order). */
export function listBuilds(distDir) {
  const folder = path.join(distDir, BUILDS_FOLDER);
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((name) => /^\d{6}-/.test(name))
    .sort();
}

/** A folder to build into; `finishBuild` makes it the current build. */
export function startBuild(distDir) {
  const folder = path.join(distDir, BUILDS_FOLDER);
  mkdirSync(folder, { recursive: true });
  for (let n = 0; ; n++) {
    const partial = path.join(folder, `.partial-${process.pid}-${n}`);
    if (existsSync(partial)) continue;
    mkdirSync(partial);
    mkdirSync(path.join(partial, USERS_FOLDER));
    return partial;
  }
}

/** Holds dist/cli-builds/.lock while `action` runs; a lock whose holder died is taken over. */
function withLock(distDir, action) {
  const lock = path.join(distDir, BUILDS_FOLDER, ".lock");
  let fd;
  for (;;) {
    try {
      fd = openSync(lock, "wx");
      writeSync(fd, String(process.pid));
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      let holder = NaN;
      let writtenAt = 0;
      try {
        holder = Number(readFileSync(lock, "utf8"));
        writtenAt = statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      // An empty file is a holder between open and write: waited for, unless it stayed empty (its holder died there).
      const abandoned = holder > 0 ? !isAlive(holder) : Date.now() - writtenAt > STALE_EMPTY_LOCK_MS;
      if (abandoned) {
        rmSync(lock, { force: true });
        continue;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
  try {
    return action();
  } finally {
    closeSync(fd);
    rmSync(lock, { force: true });
  }
}

function nextId(distDir) {
  const last = listBuilds(distDir).at(-1);
  const sequence = last ? Number(last.slice(0, 6)) + 1 : 1;
  const stamp = new Date().toISOString().replace(/[-:.]/g, "");
  return `${String(sequence).padStart(6, "0")}-${stamp}`;
}

/**
 * Makes the finished build in `partial` the current one (dist/cli switched by
 * rename), then prunes builds no process needs. Returns the new build's folder
 * and the builds removed.
 */
export function finishBuild(distDir, partial) {
  return withLock(distDir, () => {
    const link = path.join(distDir, CURRENT_LINK);
    const existing = lstatSync(link, { throwIfNoEntry: false });
    if (existing?.isDirectory()) {
      // The older layout built into dist/cli itself: it becomes a build like the others.
      renameSync(link, path.join(distDir, BUILDS_FOLDER, nextId(distDir)));
    } else if (existing && !existing.isSymbolicLink()) {
      throw new Error(`${link} is neither a build link nor a folder; move it away and build again`);
    }
    const id = nextId(distDir);
    const build = path.join(distDir, BUILDS_FOLDER, id);
    renameSync(partial, build);
    const temp = path.join(distDir, `.${CURRENT_LINK}-${process.pid}.tmp`);
    rmSync(temp, { force: true });
    // Relative, so the repository can move; a junction (absolute) where symlinks need privileges.
    if (process.platform === "win32") symlinkSync(build, temp, "junction");
    else symlinkSync(path.join(BUILDS_FOLDER, id), temp);
    renameSync(temp, link);
    return { build, removed: pruneBuilds(distDir) };
  });
}

/** Removes builds outside the newest KEEP_BUILDS that no living process uses, and partial builds whose builder died. */
function pruneBuilds(distDir) {
  const current = resolveBuild(path.join(distDir, CURRENT_LINK));
  const folder = path.join(distDir, BUILDS_FOLDER);
  const builds = listBuilds(distDir);
  const kept = new Set(builds.slice(-KEEP_BUILDS));
  const removed = [];
  for (const id of builds) {
    const build = path.join(folder, id);
    if (kept.has(id) || (current !== null && path.basename(current) === id) || liveUsers(build).length > 0) continue;
    rmSync(build, { recursive: true, force: true });
    removed.push(id);
  }
  for (const name of readdirSync(folder)) {
    const builder = /^\.partial-(\d+)-\d+$/.exec(name);
    if (builder && !isAlive(Number(builder[1]))) rmSync(path.join(folder, name), { recursive: true, force: true });
  }
  return removed;
}
