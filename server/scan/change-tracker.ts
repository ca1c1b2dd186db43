/**
 * Knowing what changed without walking the tree. In a long-running server, a
 * file-system watcher (@parcel/watcher: inotify on Linux) records which paths of
 * a component changed since its last scan; the next scan then re-reads only
 * those paths and reuses the rest of the last scan.
 *
 * The watcher is an optimisation, never a source of truth:
 *   - before trusting what it reported, a fence makes sure every event up to now
 *     was delivered: the root's timestamps are set to what they already are, which
 *     the kernel reports like any change, in order; until that event arrives
 *     (at most FENCE_TIMEOUT_MS), nothing reported so far can be complete;
 *   - a watcher error (a removed root, no inotify watches left), a fence that
 *     times out, a changed .gitignore, a change of the component's rules or too
 *     many changes at once: the next scan walks the whole tree, as without a
 *     watcher, and the watch starts over (a new subscription watches every folder
 *     as the tree is now);
 *   - a folder with subfolders that appeared, vanished or was replaced (a moved
 *     folder, `mkdir -p a/b/c`): the watcher watches a new folder only once it has
 *     seen it created, so subfolders made before that are not watched, and the
 *     subfolders of a moved folder are still reported under their old paths. Such
 *     a change walks and starts the watch over too;
 *   - nothing is tracked until the first full walk of a component in this process.
 * Only the server enables it (enableChangeTracking); a CLI process always walks.
 */
import { lstatSync, statSync, utimesSync } from "node:fs";
import path from "node:path";
import type { ScannedEntry } from "../checkpoints/manifest-types";
import { comparePaths, scanComponent, type ScanOptions } from "./walk";
import { fsPath } from "../byte-paths";

const FENCE_TIMEOUT_MS = 1_000;
/** Beyond this many changed paths (or a tenth of the tree), one walk is cheaper than many small ones. */
const MAX_INCREMENTAL_PATHS = 2_000;

type Subscription = { unsubscribe(): Promise<void> };
type WatcherModule = {
  subscribe(dir: string, callback: (error: Error | null, events: { path: string; type: string }[]) => void): Promise<Subscription>;
};

interface Tracked {
  /** Root and rules the last scan was made with: any difference means a full walk. */
  key: string;
  subscription: Subscription | null;
  healthy: boolean;
  /** The last full scan, sorted by path; null until there is one to build on. */
  last: ScannedEntry[] | null;
  /** Root-relative paths changed since `last` was taken. */
  dirty: Set<string>;
  fenceWaiters: (() => void)[];
}

export interface TrackerStats {
  fullWalks: number;
  incremental: number;
  /** Watches started over (with a walk) because an incremental scan could not be trusted. */
  rewatches: number;
}

class ChangeTracker {
  private readonly tracked = new Map<string, Tracked>();
  readonly stats: TrackerStats = { fullWalks: 0, incremental: 0, rewatches: 0 };

  constructor(
    private readonly watcher: WatcherModule,
    private readonly onProblem: (message: string) => void,
  ) {}

  /** The scan of the whole component, incrementally when the watcher allows it. */
  async scanAll(componentId: string, root: string, options: ScanOptions): Promise<ScannedEntry[]> {
    const key = JSON.stringify([root, options.include ?? null, options.exclude ?? null, options.extraExcludes ?? null]);
    let state = this.tracked.get(componentId);
    if (state && state.key !== key) {
      await this.forget(componentId);
      state = undefined;
    }
    if (!state) {
      state = { key, subscription: null, healthy: false, last: null, dirty: new Set(), fenceWaiters: [] };
      this.tracked.set(componentId, state);
      await this.subscribe(state, root);
    }
    if (state.healthy && state.last && (await this.fence(state, root))) {
      const changed = state.dirty;
      state.dirty = new Set();
      const incremental = this.applyChanges(state.last, changed, root, options);
      if (incremental) {
        this.stats.incremental++;
        state.last = incremental;
        return incremental;
      }
      // Whatever made this scan walk may also have left folders unwatched (see the header): start the watch over.
      this.stats.rewatches++;
      await this.resubscribe(state, root);
    }
    // A full walk; events from now on apply to it.
    state.dirty = new Set();
    const full = scanComponent(root, { ...options, scope: { kind: "all" } });
    this.stats.fullWalks++;
    state.last = state.healthy ? full : null;
    return full;
  }

  private async subscribe(state: Tracked, root: string): Promise<void> {
    try {
      state.subscription = await this.watcher.subscribe(root, (error, events) => {
        if (error) {
          state.healthy = false;
          state.last = null;
          this.onProblem(`file watcher on ${root} failed (${error.message}); scans walk the whole tree until it is restarted`);
          return;
        }
        for (const event of events) {
          const rel = path.relative(root, event.path).split(path.sep).join("/");
          if (rel === "") {
            for (const wake of state.fenceWaiters.splice(0)) wake();
          } else if (!rel.startsWith("..")) {
            state.dirty.add(rel);
          }
        }
      });
      state.healthy = true;
    } catch (error) {
      state.healthy = false;
      this.onProblem(`cannot watch ${root} (${error instanceof Error ? error.message : String(error)}); scans walk the whole tree`);
    }
  }

  /** A new subscription in place of the old one: it watches every folder as the tree is now. */
  private async resubscribe(state: Tracked, root: string): Promise<void> {
    const old = state.subscription;
    state.subscription = null;
    state.healthy = false;
    state.last = null;
    await old?.unsubscribe().catch(() => undefined);
    await this.subscribe(state, root);
  }

  /** Resolves true once every change made before the call has been reported; false (and untrusted) on timeout. */
  private async fence(state: Tracked, root: string): Promise<boolean> {
    let stat;
    try {
      stat = statSync(root);
    } catch {
      return false;
    }
    const arrived = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), FENCE_TIMEOUT_MS);
      state.fenceWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    try {
      // The same times again: only the root's ctime moves (the root itself is never in a checkpoint).
      utimesSync(root, stat.atime, stat.mtime);
    } catch {
      state.fenceWaiters.length = 0;
      return false;
    }
    const ok = await arrived;
    if (!ok) {
      state.healthy = false;
      state.last = null;
      this.onProblem(`file watcher on ${root} did not report in time; scans walk the whole tree`);
    }
    return ok;
  }

  /**
   * The last scan with `changed` applied; null when a full walk is needed (and the
   * watch must start over: see the header). Each changed path is scanned again as a
   * scope (its subtree, with the ignore rules of its folders); the folders above it
   * are stat'ed again (their mtimes moved).
   */
  private applyChanges(last: ScannedEntry[], changed: ReadonlySet<string>, root: string, options: ScanOptions): ScannedEntry[] | null {
    if (changed.size === 0 && !last.some((e) => e.nlink !== undefined)) return last;
    if (changed.size > Math.min(MAX_INCREMENTAL_PATHS, Math.max(100, last.length / 10))) return null;
    for (const rel of changed) if (rel === ".gitignore" || rel.endsWith("/.gitignore")) return null;
    // The watcher reports names as UTF-8 text: a name that is not UTF-8 arrives as U+FFFD, naming nothing on disk.
    for (const rel of changed) if (rel.includes("\ufffd")) return null;
    // A file with several names changes through each of them, and the watcher reports only the
    // name written (or none, for a name outside the root): such files are looked at again every time.
    const changedSet = new Set(changed);
    for (const entry of last) if (entry.nlink !== undefined) changedSet.add(entry.path);
    /** Is `p` or one of its folders among the changed paths? (Walks up p: cost per entry is its depth.) */
    const covered = (p: string) => {
      for (let at = p; ; at = at.slice(0, at.lastIndexOf("/"))) {
        if (changedSet.has(at)) return true;
        if (!at.includes("/")) return false;
      }
    };
    const paths = [...changedSet].filter((p) => !p.includes("/") || !covered(p.slice(0, p.lastIndexOf("/")))).sort(comparePaths);
    const parents = new Set<string>();
    for (const p of paths) for (let dir = path.posix.dirname(p); dir !== "."; dir = path.posix.dirname(dir)) parents.add(dir);
    const kept: ScannedEntry[] = [];
    const replaced: ScannedEntry[] = [];
    for (const entry of last) {
      if (covered(entry.path)) {
        replaced.push(entry);
        continue;
      }
      if (parents.has(entry.path)) {
        const fresh = restatDir(root, entry);
        if (!fresh) return null;
        kept.push(fresh);
      } else kept.push(entry);
    }
    const rescanned = scanComponent(root, { ...options, scope: { kind: "paths", paths } });
    if (movesFoldersWithSubfolders(changedSet, replaced) || movesFoldersWithSubfolders(changedSet, rescanned)) return null;
    // A new name of a file already here (`ln a b` reports only b) also changes the old name's link count.
    const linked = new Set(rescanned.filter((e) => e.nlink !== undefined).map((e) => e.ino));
    const otherNames = linked.size === 0 ? [] : kept.filter((e) => e.kind === "file" && linked.has(e.ino)).map((e) => e.path);
    if (otherNames.length === 0) return [...kept, ...rescanned].sort((a, b) => comparePaths(a.path, b.path));
    const again = new Set(otherNames);
    const restatted = scanComponent(root, { ...options, scope: { kind: "paths", paths: otherNames } });
    return [...kept.filter((e) => !again.has(e.path)), ...rescanned, ...restatted].sort((a, b) => comparePaths(a.path, b.path));
  }

  async forget(componentId: string): Promise<void> {
    const state = this.tracked.get(componentId);
    this.tracked.delete(componentId);
    await state?.subscription?.unsubscribe().catch(() => undefined);
  }

  async stop(): Promise<void> {
    for (const id of [...this.tracked.keys()]) await this.forget(id);
  }
}

/**
 * Did a watcher event name a folder that has a subfolder (among `entries`, the
 * folder's subtree before or after the change)? An event on the folder itself means
 * it was created, removed, moved or replaced (or its mode or times set): the watcher
 * cannot be trusted to watch its subfolders by their current paths.
 */
function movesFoldersWithSubfolders(changed: ReadonlySet<string>, entries: readonly ScannedEntry[]): boolean {
  for (const entry of entries) {
    if (entry.kind !== "dir") continue;
    const parent = path.posix.dirname(entry.path);
    if (parent !== "." && changed.has(parent)) return true;
  }
  return false;
}

/** A folder of the last scan stat'ed again; null when it is no longer a folder (then walk). */
function restatDir(root: string, entry: ScannedEntry): ScannedEntry | null {
  try {
    const st = lstatSync(fsPath(`${root}/${entry.path}`));
    if (!st.isDirectory()) return null;
    return { ...entry, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino };
  } catch {
    return null;
  }
}

const SLOT = Symbol.for("safetynet.changeTracker");
type Slot = { [SLOT]?: ChangeTracker };

/** Turns change tracking on for this process (the server); loads the watcher. False when it cannot be loaded. */
export async function enableChangeTracking(onProblem: (message: string) => void): Promise<boolean> {
  const slot = globalThis as Slot;
  if (slot[SLOT]) return true;
  try {
    const watcher = (await import("@parcel/watcher")) as unknown as WatcherModule & { default?: WatcherModule };
    slot[SLOT] = new ChangeTracker(watcher.default ?? watcher, onProblem);
    return true;
  } catch (error) {
    onProblem(`file watching is unavailable (${error instanceof Error ? error.message : String(error)}); scans walk the whole tree`);
    return false;
  }
}

export function changeTracker(): ChangeTracker | null {
  return (globalThis as Slot)[SLOT] ?? null;
}

export async function disableChangeTracking(): Promise<void> {
  const slot = globalThis as Slot;
  const tracker = slot[SLOT];
  delete slot[SLOT];
  await tracker?.stop();
}
