/**
 * Knowing what changed without walking the tree. In a long-running server,
 * Watchman (server/scan/watchman.ts) keeps a view of each component root; a
 * whole-component scan asks it what changed since the clock of the last scan and
 * re-reads only those paths, reusing the rest of the last scan.
 *
 * Watchman is the one change source, and its silence means something: a synced
 * "since" query lists every path changed before it was asked, or says it cannot
 * (a fresh instance: the daemon or the watch started anew; a recrawl after the
 * kernel dropped events). Whenever it cannot vouch for its answer, or does not
 * answer in time, the scan walks the whole tree, as without it:
 *   - no Watchman installed, a daemon that cannot be reached or does not answer
 *     within the time limit (then it is left alone for a while: scans walk at once);
 *   - a fresh instance, a warning (a recrawl), a changed name that is not UTF-8;
 *   - a root on a network or FUSE file system (changes made elsewhere raise no event);
 *   - a changed `.gitignore`, a change of the component's rules (root, include,
 *     exclude, extra excludes), or more changes than one walk costs;
 *   - the first scan of a component in this process.
 * Watchman reports each changed entry by its own path, including everything in
 * a folder that was moved, moved in or made with its subfolders (it crawls such
 * a folder), so a reported folder that is still the same folder (same inode) is
 * only stat'ed again; a new or replaced one is walked.
 *
 * `changesSince` is the same answer for other callers that keep their own view
 * of a tree (see its comment). Only the server enables this
 * (enableChangeTracking); a CLI process always walks.
 */
import { createHash } from "node:crypto";
import { lstatSync, statfsSync, type Stats } from "node:fs";
import path from "node:path";
import type { ScannedEntry } from "../checkpoints/manifest-types";
import { comparePaths, scanComponent, type ScanOptions } from "./walk";
import { BUILTIN_EXCLUDES, createIgnoreRules, ROOT_ONLY_EXCLUDE } from "./ignore-rules";
import { trackedChangesSince, trackedFilesOf } from "./git-tracked";
import { normalizeRelativePath } from "./paths";
import { fsPath } from "../byte-paths";
import { Watchman, WatchmanError, type WatchmanExpression, type WatchmanOptions } from "./watchman";

/** Beyond this many changed paths (or a tenth of the tree), one walk is cheaper than many small scans. */
export const MAX_INCREMENTAL_PATHS = 2_000;
/** `changesSince` answers "fresh" beyond this many paths unless the caller says otherwise. */
const DEFAULT_MAX_PATHS = 10_000;
/** After Watchman could not be reached or did not answer, scans walk without asking it for this long. */
/** How long stopping waits on a daemon that did not answer a moment ago, per root whose watch is in doubt. */
const IN_DOUBT_UNWATCH_MS = 1_000;
const BACKOFF_MS = 30_000;
const TOKEN_PREFIX = "wm2";

export interface TrackerLog {
  info(message: string): void;
  warn(message: string): void;
}

/**
 * What changed under a component root since a token, as `changesSince` answers:
 *   - `fresh: true`: no list can be vouched for (first call, another rule set, the
 *     daemon restarted, a recrawl, a `.gitignore` changed, too many changes, no
 *     Watchman answer): walk, and keep `token` for next time;
 *   - `fresh: false`: `paths` are the root-relative paths (sorted; files, folders and
 *     symlinks, existing or gone) that may differ from what they were when `token`
 *     was handed out; every other non-ignored path is as it was. A folder is listed
 *     when its own entries or attributes changed; what changed inside it is listed
 *     by its own path. Paths inside ignored folders (built-in names, the extra
 *     excludes, `.gitignore`d folders) and ignored entries that exist are left out.
 * The token is opaque (a Watchman clock plus a digest of the root and rules it
 * was made for); an empty token never vouches for anything.
 */
export type Changes = { fresh: true; token: string; why: string } | { fresh: false; token: string; paths: string[] };

export interface TrackerStats {
  /** Scans that walked the whole tree (first scans included). */
  fullWalks: number;
  /** Scans that re-read only what Watchman reported. */
  incremental: number;
  /** Walks of a component already scanned in this process (Watchman could not vouch for the changes, or there were too many). */
  unvouched: number;
}

interface Tracked {
  /** Root and rules `last` was made with: any difference means a walk. */
  key: string;
  root: string;
  /** The token `last` is valid at; "" when none was had (then the next scan walks). */
  token: string;
  /** The last scan, sorted by path. */
  last: ScannedEntry[];
}

interface RootWatch {
  /** Components (or other callers) using this root. */
  users: Set<string>;
  watched: boolean;
}

export class ChangeTracker {
  private readonly tracked = new Map<string, Tracked>();
  private readonly roots = new Map<string, RootWatch>();
  private pausedUntil = 0;
  private failing = false;
  readonly stats: TrackerStats = { fullWalks: 0, incremental: 0, unvouched: 0 };

  constructor(
    readonly watchman: Watchman,
    private readonly log: TrackerLog,
    private readonly now: () => number = Date.now,
  ) {}

  /** The scan of the whole component (exactly what a walk returns, sorted), re-reading only what changed when Watchman vouches for it. */
  async scanAll(componentId: string, root: string, options: ScanOptions): Promise<ScannedEntry[]> {
    const key = rulesKey(root, options);
    let state = this.tracked.get(componentId);
    if (state && state.key !== key) {
      this.tracked.delete(componentId);
      if (state.root !== root) await this.release(componentId, state.root);
      state = undefined;
    }
    const changes = await this.changesSince(componentId, root, options, state && state.token !== "" ? state.token : null, { maxPaths: Number.MAX_SAFE_INTEGER });
    const current = this.tracked.get(componentId);
    if (!changes.fresh && current && current.key === key) {
      const next = applyChanges(current.last, changes.paths, root, options);
      if (next) {
        this.stats.incremental++;
        current.last = next;
        current.token = changes.token;
        return next;
      }
    }
    if (state) this.stats.unvouched++;
    // The token was taken before the walk: whatever changes during it is reported next time.
    let full: ScannedEntry[];
    try {
      full = scanComponent(root, { ...options, scope: { kind: "all" } });
    } catch (error) {
      this.tracked.delete(componentId);
      throw error;
    }
    this.stats.fullWalks++;
    this.tracked.set(componentId, { key, root, token: changes.token, last: full });
    return full;
  }

  /**
   * Which root-relative paths of the component changed since `token` (null: never
   * asked), or that no list can be vouched for: see `Changes`. The caller keeps the
   * returned token with the view of the tree it builds from this answer: after a
   * fresh answer, from a walk made after this call; after a list, from its previous
   * view with the listed paths read again after this call. `maxPaths` (default
   * 10,000): more changed paths than this answer fresh.
   */
  async changesSince(componentId: string, root: string, options: ScanOptions, token: string | null, limits: { maxPaths?: number } = {}): Promise<Changes> {
    const digest = rulesDigest(rulesKey(root, options));
    // What git tracks decides what a .gitignore leaves out: read now, so the next answer can tell what started or stopped being tracked.
    const trackedNow = trackedFilesOf(root).tag;
    const fresh = (clock: string, why: string): Changes => ({ fresh: true, token: clock === "" ? "" : encodeToken(digest, trackedNow, clock), why });
    if (this.now() < this.pausedUntil) return fresh("", "Watchman did not answer a moment ago");
    const unwatchable = unwatchableFileSystem(root);
    if (unwatchable) return fresh("", unwatchable);
    const since = token === null ? null : decodeToken(token, digest);
    try {
      await this.ensureWatched(componentId, root);
      if (since === null) {
        const clock = await this.watchman.clock(root);
        this.recovered();
        return fresh(clock, token === null ? "first call" : "another root or other rules");
      }
      const answer = await this.watchman.since(root, since.clock, watchmanFilter(options));
      this.recovered();
      if (!answer.vouched) {
        this.log.info(`Watchman cannot vouch for the changes under ${root} (${answer.why}): this scan walks the tree`);
        return fresh(answer.clock, answer.why);
      }
      let paths = this.relevantPaths(root, options, answer.changes);
      if (paths === null) return fresh(answer.clock, "a .gitignore changed");
      if (since.tracked !== trackedNow) {
        // A file that started or stopped being tracked (git add -f, git rm --cached) may come into a scan or leave it unchanged on disk.
        const retracked = trackedChangesSince(root, since.tracked);
        if (retracked === null) return fresh(answer.clock, "git's index changed, and what it tracked before is no longer known");
        if (retracked.paths.length > 0) paths = [...new Set([...paths, ...retracked.paths])].sort(comparePaths);
      }
      if (paths.length > (limits.maxPaths ?? DEFAULT_MAX_PATHS)) return fresh(answer.clock, `${paths.length} paths changed`);
      return { fresh: false, token: encodeToken(digest, trackedNow, answer.clock), paths };
    } catch (error) {
      return fresh(await this.afterFailure(root, error), `Watchman failed: ${messageOf(error)}`);
    }
  }

  /** Forgets a component (removed, or its root changed): its root is no longer watched when nothing else uses it. */
  async forget(componentId: string): Promise<void> {
    const state = this.tracked.get(componentId);
    this.tracked.delete(componentId);
    for (const [root, watch] of [...this.roots]) if (watch.users.has(componentId) || state?.root === root) await this.release(componentId, root);
  }

  /**
   * Stops watching every root this tracker watched and closes the connection. A
   * root whose watch is in doubt (a command failed since: a daemon restarted
   * from its saved state watches it again) is unwatched too, unless the daemon
   * did not answer a moment ago (every command would wait out its time limit).
   */
  async stop(): Promise<void> {
    const paused = this.now() < this.pausedUntil;
    const watched = this.watchedRoots();
    const inDoubt = [...this.roots.keys()].filter((root) => !watched.includes(root));
    const roots = paused ? watched : [...this.roots.keys()];
    this.roots.clear();
    this.tracked.clear();
    for (const root of roots) {
      await this.watchman.unwatch(root).catch((error: unknown) => this.log.warn(`Watchman kept watching ${root}: ${messageOf(error)}`));
    }
    this.watchman.close();
    // A daemon that did not answer a moment ago is not waited on; but one restarted meanwhile reloads the watches its
    // state file lists, so the roots in doubt are still removed from a daemon that runs now (never starting one), briefly.
    if (paused && inDoubt.length > 0) this.watchman.unwatchSync(inDoubt, { timeoutMs: IN_DOUBT_UNWATCH_MS });
  }

  /** `stop` for a process that is exiting: unwatches synchronously (never starting a daemon for it), nothing else can run any more. */
  stopSync(): void {
    const roots = [...this.roots.keys()];
    this.roots.clear();
    this.tracked.clear();
    this.watchman.close();
    this.watchman.unwatchSync(roots);
  }

  /** The roots this tracker watches (what `stop` will unwatch). */
  watchedRoots(): string[] {
    return [...this.roots.entries()].filter(([, w]) => w.watched).map(([root]) => root);
  }

  private async ensureWatched(user: string, root: string): Promise<void> {
    let watch = this.roots.get(root);
    if (!watch) {
      watch = { users: new Set(), watched: false };
      this.roots.set(root, watch);
    }
    watch.users.add(user);
    if (watch.watched) return;
    await this.watchman.watch(root);
    watch.watched = true;
  }

  private async release(user: string, root: string): Promise<void> {
    const watch = this.roots.get(root);
    if (!watch) return;
    watch.users.delete(user);
    if (watch.users.size > 0) return;
    this.roots.delete(root);
    if (watch.watched) await this.watchman.unwatch(root).catch(() => undefined);
  }

  /**
   * After a failed command: a root the daemon does not know (it restarted without
   * its state, or another client removed the watch) is watched again and its clock
   * returned, so the walk that follows is a base for the next answer; a daemon that
   * does not answer is left alone for BACKOFF_MS. Returns the clock, or "".
   */
  private async afterFailure(root: string, error: unknown): Promise<string> {
    const watch = this.roots.get(root);
    if (watch) watch.watched = false;
    if (error instanceof WatchmanError && /not watched|unable to resolve root/.test(error.message)) {
      try {
        await this.watchman.watch(root);
        if (watch) watch.watched = true;
        const clock = await this.watchman.clock(root);
        this.log.info(`Watchman was not watching ${root} any more; it watches it again, and the next scan walks the tree`);
        return clock;
      } catch (again) {
        error = again;
      }
    }
    // A daemon that cannot be reached or does not answer is not asked again for a while: every scan would wait for it.
    if (!(error instanceof WatchmanError && error.answered)) this.pausedUntil = this.now() + BACKOFF_MS;
    if (!this.failing) this.log.warn(`Watchman failed (${messageOf(error)}); scans walk the whole tree until it answers again`);
    this.failing = true;
    return "";
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.log.info("Watchman answers again: scans re-read only what changed");
  }

  /** The reported paths a scan must look at again; null when a .gitignore changed (then everything must be looked at). */
  private relevantPaths(root: string, options: ScanOptions, changes: readonly { name: string; exists: boolean; type: string }[]): string[] | null {
    if (changes.length === 0) return [];
    const rules = createIgnoreRules(root, options);
    const out = new Set<string>();
    for (const change of changes) {
      const rel = change.name;
      const slash = rel.lastIndexOf("/");
      if (slash >= 0 && rules.isIgnoredDir(rel.slice(0, slash))) continue;
      if (rel.slice(slash + 1) === ".gitignore") return null;
      // An ignored entry that exists is in no scan, but making or removing it moved its folder's mtime.
      if (change.exists && (change.type === "d" ? rules.isIgnoredDir(rel) : rules.isIgnoredFile(rel))) {
        if (slash >= 0) out.add(rel.slice(0, slash));
        continue;
      }
      out.add(rel);
    }
    return [...out].sort(comparePaths);
  }
}

/** The root and rules a scan was made with. */
function rulesKey(root: string, options: ScanOptions): string {
  return JSON.stringify([root, options.include ?? null, options.exclude ?? null, options.extraExcludes ?? null]);
}

function rulesDigest(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 16);
}

function encodeToken(digest: string, tracked: string, clock: string): string {
  return `${TOKEN_PREFIX}:${digest}:${tracked}:${clock}`;
}

/** The clock and the tracked-files tag in `token` when it was made for these rules; null otherwise. */
function decodeToken(token: string, digest: string): { clock: string; tracked: string } | null {
  const prefix = `${TOKEN_PREFIX}:${digest}:`;
  if (!token.startsWith(prefix)) return null;
  const colon = token.indexOf(":", prefix.length);
  if (colon < 0 || colon === token.length - 1) return null;
  return { tracked: token.slice(prefix.length, colon), clock: token.slice(colon + 1) };
}

/**
 * What Watchman leaves out of its answers: everything inside a folder of a
 * built-in excluded name at any depth (node_modules, .git, ...) and inside the
 * extra excludes (the data directory), so that an install or the store's own
 * writes never flood the answer. What is inside `.gitignore`d folders is left out
 * afterwards (relevantPaths).
 */
function watchmanFilter(options: ScanOptions): WatchmanExpression {
  // Only what is inside: the excluded entry itself is still reported, since making or removing it moves its folder's mtime.
  const terms: unknown[] = [];
  for (const name of BUILTIN_EXCLUDES) {
    terms.push(["match", `${name}/**`, "wholename", { includedotfiles: true }]);
    // A nested repository's .git is content: its changes are reported (its lock and temporary files are filtered afterwards).
    if (name !== ROOT_ONLY_EXCLUDE) terms.push(["match", `**/${name}/**`, "wholename", { includedotfiles: true }]);
  }
  for (const extra of options.extraExcludes ?? []) {
    const rel = normalizeRelativePath(extra);
    if (rel !== "") terms.push(["dirname", rel]);
  }
  return ["not", ["anyof", ...terms]];
}

/**
 * File systems whose changes inotify (Watchman's source on Linux) does not see
 * when they are made elsewhere: network and FUSE file systems (sshfs, virtiofs).
 * By statfs magic number.
 */
const UNWATCHABLE_FS: ReadonlyMap<number, string> = new Map([
  [0x6969, "NFS"],
  [0x517b, "SMB"],
  [0xff534d42, "CIFS"],
  [0xfe534d42, "SMB2"],
  [0x65735546, "FUSE"],
  [0x01021997, "9p"],
  [0x5346414f, "AFS"],
  [0x00c36400, "Ceph"],
  [0x0bd00bd0, "Lustre"],
]);

/** Why `root` cannot be trusted to a watcher, or null when it can. */
function unwatchableFileSystem(root: string): string | null {
  let type: number;
  try {
    type = Number(statfsSync(fsPath(root)).type);
  } catch {
    return "the root cannot be examined";
  }
  const name = UNWATCHABLE_FS.get(type);
  return name ? `the root is on ${name}, whose changes made elsewhere no watcher sees` : null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The lstat of `rel` under `root`; null when it is gone or cannot be examined. */
export function lstatOrNull(root: string, rel: string): Stats | null {
  try {
    return lstatSync(fsPath(`${root}/${rel}`), { throwIfNoEntry: false }) ?? null;
  } catch {
    return null;
  }
}

/** The entry of `sorted` (by comparePaths) at `rel`, by binary search. */
function find(sorted: readonly ScannedEntry[], rel: string): ScannedEntry | undefined {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const entry = sorted[mid] as ScannedEntry;
    const order = comparePaths(entry.path, rel);
    if (order === 0) return entry;
    if (order < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

function dirEntry(rel: string, st: Stats, before?: ScannedEntry): ScannedEntry {
  return { ...before, path: rel, kind: "dir", mode: st.mode & 0o7777, size: 0, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino };
}

/**
 * The last scan with the `reported` paths read again; null when a walk is needed.
 * A reported folder that is still the same folder is only stat'ed again (what
 * changed inside it is reported by its own path); any other reported path is
 * scanned again as a scope (a new folder with its subtree, with the ignore rules
 * of its folders), replacing what the last scan had there. The folders above a
 * rescanned path are stat'ed again (their mtimes moved).
 */
export function applyChanges(last: ScannedEntry[], reported: readonly string[], root: string, options: ScanOptions): ScannedEntry[] | null {
  const hasLinks = last.some((e) => e.nlink !== undefined);
  if (reported.length === 0 && !hasLinks) return last;
  if (reported.length > Math.min(MAX_INCREMENTAL_PATHS, Math.max(100, last.length / 10))) return null;
  const changed = new Set(reported);
  // A file with several names changes through each of them, and Watchman reports only the
  // name written (or none, for a name outside the root): such files are looked at again every time.
  for (const entry of last) if (entry.nlink !== undefined) changed.add(entry.path);
  const rescan = new Set<string>();
  const restat = new Map<string, ScannedEntry>();
  for (const rel of changed) {
    const before = find(last, rel);
    if (before?.kind === "dir") {
      const st = lstatOrNull(root, rel);
      if (st?.isDirectory() && st.ino === before.ino) {
        restat.set(rel, dirEntry(rel, st, before));
        continue;
      }
    }
    rescan.add(rel);
  }
  /** Is `p` or one of its folders rescanned? */
  const covered = (p: string) => {
    for (let at = p; ; at = at.slice(0, at.lastIndexOf("/"))) {
      if (rescan.has(at)) return true;
      if (!at.includes("/")) return false;
    }
  };
  const scopes = [...rescan].filter((p) => !p.includes("/") || !covered(p.slice(0, p.lastIndexOf("/")))).sort(comparePaths);
  const parents = new Set<string>();
  for (const p of scopes) for (let dir = path.posix.dirname(p); dir !== "."; dir = path.posix.dirname(dir)) parents.add(dir);
  const kept: ScannedEntry[] = [];
  for (const entry of last) {
    if (rescan.size > 0 && covered(entry.path)) continue;
    const again = restat.get(entry.path);
    if (again) kept.push(again);
    else if (parents.has(entry.path)) {
      const st = lstatOrNull(root, entry.path);
      if (!st?.isDirectory()) return null;
      kept.push(dirEntry(entry.path, st, entry));
    } else kept.push(entry);
  }
  const rescanned = scopes.length === 0 ? [] : scanComponent(root, { ...options, scope: { kind: "paths", paths: scopes } });
  // A new name of a file already here (`ln a b`) also changes the old name's link count.
  const linked = new Set(rescanned.filter((e) => e.nlink !== undefined).map((e) => e.ino));
  const otherNames = linked.size === 0 ? [] : kept.filter((e) => e.kind === "file" && linked.has(e.ino)).map((e) => e.path);
  let merged: ScannedEntry[];
  if (otherNames.length === 0) merged = [...kept, ...rescanned];
  else {
    const again = new Set(otherNames);
    const restatted = scanComponent(root, { ...options, scope: { kind: "paths", paths: otherNames } });
    merged = [...kept.filter((e) => !again.has(e.path)), ...rescanned, ...restatted];
  }
  merged.sort((a, b) => comparePaths(a.path, b.path));
  return includesEverything(options) ? merged : withIncludedFolders(merged, root, options);
}

/** Whether the include globs take everything (the default): then every non-ignored folder is in a scan. */
export function includesEverything(options: ScanOptions): boolean {
  const include = options.include && options.include.length > 0 ? options.include : ["**"];
  return include.some((g) => g === "**" || g === "**/*");
}

/**
 * With include globs, a folder is in a scan when it matches them itself or holds
 * an entry that is: after a change, folders that now hold nothing included go,
 * and the folders of newly included entries come (null when one is not a folder).
 */
function withIncludedFolders(entries: ScannedEntry[], root: string, options: ScanOptions): ScannedEntry[] | null {
  const rules = createIgnoreRules(root, options);
  const needed = new Set<string>();
  for (const entry of entries) {
    if (entry.kind === "dir" && !rules.dirMatchesInclude(entry.path)) continue;
    if (entry.kind === "dir") needed.add(entry.path);
    for (let dir = path.posix.dirname(entry.path); dir !== "."; dir = path.posix.dirname(dir)) needed.add(dir);
  }
  const out = entries.filter((e) => e.kind !== "dir" || needed.has(e.path));
  const present = new Set(out.filter((e) => e.kind === "dir").map((e) => e.path));
  let added = false;
  for (const dir of needed) {
    if (present.has(dir)) continue;
    const st = lstatOrNull(root, dir);
    if (!st?.isDirectory()) return null;
    out.push(dirEntry(dir, st));
    added = true;
  }
  if (added) out.sort((a, b) => comparePaths(a.path, b.path));
  return out;
}

const SLOT = Symbol.for("safetynet.changeTracker");
type Slot = { [SLOT]?: ChangeTracker };

export interface EnableOptions extends WatchmanOptions {
  log: TrackerLog;
}

/**
 * Turns change tracking on for this process (the server): connects to Watchman
 * (starting its daemon when it is not running). False, with one info line in the
 * log, when Watchman is not installed: scans then walk, as they always can.
 */
export async function enableChangeTracking(options: EnableOptions): Promise<boolean> {
  const slot = globalThis as Slot;
  if (slot[SLOT]) return true;
  let watchman: Watchman | null;
  try {
    watchman = await Watchman.open(options);
  } catch (error) {
    options.log.warn(`Watchman cannot be used (${messageOf(error)}); scans walk the whole tree`);
    return false;
  }
  if (!watchman) {
    options.log.info(`Watchman is not installed (no ${options.binary ?? "watchman"} ${options.binary?.includes("/") ? "file" : "on PATH"}); scans walk the whole tree`);
    return false;
  }
  const tracker = new ChangeTracker(watchman, options.log);
  slot[SLOT] = tracker;
  try {
    const version = await watchman.version();
    options.log.info(`Watchman ${version} (${watchman.binary}) tracks changes: scans re-read only what changed`);
  } catch (error) {
    // Not fatal: every scan asks again (and walks meanwhile).
    options.log.warn(`Watchman (${watchman.binary}) did not answer (${messageOf(error)}); scans walk the whole tree until it does`);
  }
  return true;
}

export function changeTracker(): ChangeTracker | null {
  return (globalThis as Slot)[SLOT] ?? null;
}

/** Turns change tracking off: unwatches what it watched and closes the connection. */
export async function disableChangeTracking(): Promise<void> {
  const slot = globalThis as Slot;
  const tracker = slot[SLOT];
  delete slot[SLOT];
  await tracker?.stop();
}
