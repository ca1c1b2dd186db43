/**
 * A whole-component checkpoint without a change tracker (the CLI, a server with
 * Watchman off) walks the tree. This capture walks it folder by folder, reads and
 * stores the files the stat cache cannot vouch for as it goes, and builds each
 * folder's tree object as soon as its files and subfolders are done: what it
 * holds in memory follows the folders being worked on, not the tree. Every
 * FILES_PER_FLUSH files read, the reads pause while what was staged is made
 * durable (a file-system sync under a stream of new writes took minutes here),
 * and only then are the stat cache rows naming it saved; the root record is
 * written by the commit, once every tree is durable.
 *
 * It gives the same tree, byte for byte, as scanning into a list and building the
 * trees from it (live-state.ts, tree-build.ts): folders are walked in path order,
 * so the first name of a hard-linked file is the same one.
 */
import { UnstableFileError } from "../errors";
import type { Core } from "../core";
import { dataPaths } from "../core";
import { assertRootUsableNow } from "../registry/roots";
import { createIgnoreRules, type IgnoreRules } from "../scan/ignore-rules";
import { comparePaths, listFolder, lstatOrUndefined, rootDirectory, scanLeaf, type FolderItem } from "../scan/walk";
import { openStatCache, type StatCache } from "../scan/stat-cache";
import type { WriteBatch } from "../store/write-batch";
import type { StoredSha256 } from "../store/object-store";
import type { SparseInfo } from "../store/sparse-format";
import type { ScannedEntry } from "./manifest-types";
import { emitFolder, type TreeChild, type TreeTotals } from "./tree-format";
import { addChildrenTotals, addTotals, emptyTotals } from "./tree-build";
import { assertStoreHasRoom, scanExcludes, storeBytesNeeded, storedBytesEstimate, storeFreeBytes, type ComponentScanTarget, type LiveState } from "./live-state";

/** How many files are read at once: enough to keep the disk and the thread pool busy. */
const IO_CONCURRENCY = 16;
/** Files read between two flushes of what was staged (objects, trees) and saves of the stat cache. */
const FILES_PER_FLUSH = 16_384;

export interface StreamedCapture {
  /** The tree, stored (but for its root record, which the commit writes). */
  tree: { root: string; totals: TreeTotals };
  /** What was read: `entries` stays empty (the tree holds them). */
  live: LiveState;
}

interface FolderWalk {
  /** Whether the folder has an entry of the checkpoint (decides whether a custom include keeps it). */
  hasEntries: boolean;
  /** Settles once its tree is built: every file below read, every subfolder built. */
  done: Promise<{ sha: string; totals: TreeTotals }>;
}

/** A hard-linked file's names so far: the first with content, in path order, once the earlier ones are read. */
type LinkGroup = Promise<{ path: string; child: TreeChild } | null>;

export interface StreamedCaptureOptions {
  onProgress?: (done: number, total: number) => void;
  /** Files read between two flushes (tests cross several with a small tree). */
  filesPerFlush?: number;
}

export async function captureStreamed(core: Core, component: ComponentScanTarget, options: StreamedCaptureOptions = {}): Promise<StreamedCapture> {
  await assertRootUsableNow(core, component);
  const rootAbs = rootDirectory(component.root);
  const rules = createIgnoreRules(rootAbs, { include: component.include, exclude: component.exclude, extraExcludes: scanExcludes(core, component) });
  const cache = openStatCache(dataPaths(core.config.dataDir).statCache, component.id, core.store.collectionGeneration(), {
    preload: true,
    writable: true,
    onWarning: (message, details) => core.log.warn({ event: "statcache.problem", component: component.name, ...details }, message),
  });
  const capture = new Capture(core, rules, cache, options.onProgress, options.filesPerFlush ?? FILES_PER_FLUSH);
  try {
    return await capture.run(rootAbs);
  } finally {
    cache.close();
  }
}

/** What a read found, for the stat cache once its object is durable. */
interface ReadRecord {
  entry: ScannedEntry;
  sha256: StoredSha256;
  readAtMs: number;
  sparse?: SparseInfo;
}

class Capture {
  private batch: WriteBatch;
  /** Tree objects built since the last flush, by hash. */
  private trees = new Map<string, string>();
  private readonly linkGroups = new Map<string, LinkGroup>();
  private readonly running = new Set<Promise<void>>();
  private readonly waiting: (() => void)[] = [];
  private failure: unknown = null;
  private readonly unstable: string[] = [];
  private bytes = 0;
  private newBytes = 0;
  private reads = 0;
  private readsDone = 0;
  /** Stat cache rows of the reads since the last flush: saved once their objects are durable. */
  private records: ReadRecord[] = [];
  private flushes = 0;
  /** Free bytes of the store's file system at the last flush (null: no statfs here), and what may be written since. */
  private free: number | null;
  private pendingBytes = 0;
  private pendingFiles = 0;

  constructor(
    private readonly core: Core,
    private readonly rules: IgnoreRules,
    private readonly cache: StatCache,
    private readonly onProgress: ((done: number, total: number) => void) | undefined,
    private readonly filesPerFlush: number,
  ) {
    this.batch = core.store.createBatch();
    this.free = storeFreeBytes(core);
  }

  async run(rootAbs: string): Promise<StreamedCapture> {
    try {
      const root = await this.folder(rootAbs, "");
      const built = await (root as FolderWalk).done;
      await this.settle();
      if (this.failure !== null) throw this.failure;
      await this.flush();
      // The rows of files no longer there (every file was looked up).
      this.cache.retainLookedUp();
      this.cache.save(false);
      const live: LiveState = { entries: [], bytes: this.bytes, newBytes: this.newBytes, filesRead: this.reads, unstable: this.unstable.sort(comparePaths) };
      return { tree: { root: built.sha, totals: built.totals }, live };
    } catch (error) {
      await this.settle();
      await this.batch.abort();
      throw this.failure ?? error;
    }
  }

  /**
   * Walks one folder: its leaves are looked up in the stat cache or read, its
   * subfolders walked, in path order (a folder's name sorts as if it ended in "/").
   * Null when it vanished meanwhile.
   */
  private async folder(abs: string, rel: string): Promise<FolderWalk | null> {
    const items = listFolder(this.rules, abs, rel);
    if (!items) return null;
    items.sort(byPathOrder);
    const children: TreeChild[] = [];
    const subtrees: TreeTotals[] = [];
    const waits: Promise<unknown>[] = [];
    for (const item of items) {
      if (this.failure !== null) break;
      if (item.dir) {
        const stat = lstatOrUndefined(item.abs);
        if (!stat?.isDirectory()) continue; // vanished or replaced since the listing
        const sub = await this.folder(item.abs, item.rel);
        if (!sub) continue;
        if (!(this.rules.includesEverything || sub.hasEntries || this.rules.dirMatchesInclude(item.rel))) continue;
        const child: TreeChild = { name: item.name, kind: "dir", mode: stat.mode & 0o7777, mtimeMs: stat.mtimeMs, reason: "primary" };
        children.push(child);
        waits.push(
          sub.done.then((built) => {
            child.tree = built.sha;
            subtrees.push(built.totals);
          }),
        );
        continue;
      }
      const entry = scanLeaf(item.abs, item.rel);
      if (!entry) continue;
      const child: TreeChild = { name: item.name, kind: entry.kind, mode: entry.mode, size: entry.size, mtimeMs: entry.mtimeMs, reason: "primary" };
      children.push(child);
      if (entry.kind === "symlink") {
        child.linkTarget = entry.linkTarget;
        continue;
      }
      await this.file(item, entry, child, waits);
    }
    return { hasEntries: children.length > 0, done: Promise.all(waits).then(() => this.build(children, subtrees)) };
  }

  private async file(item: FolderItem, entry: ScannedEntry, child: TreeChild, waits: Promise<unknown>[]): Promise<void> {
    this.bytes += entry.size;
    const cached = this.cache.lookup(entry);
    let ready: Promise<void>;
    if (cached) {
      child.sha256 = cached;
      const sparse = this.cache.sparseOf(entry.path);
      if (sparse) child.sparse = sparse;
      ready = Promise.resolve();
    } else {
      ready = (await this.start(entry, () => this.read(item.abs, entry, child))).done;
    }
    waits.push(entry.nlink === undefined ? ready : this.linkName(entry, child, ready));
  }

  /** Reads and stages one file; records what was read (the file may have changed since it was listed). */
  private async read(abs: string, entry: ScannedEntry, child: TreeChild): Promise<void> {
    const expected = { size: entry.size, mtimeMs: entry.mtimeMs, ino: entry.ino };
    try {
      const readAtMs = Date.now();
      const stored = await this.core.store.putFile(abs, expected, this.batch);
      if (stored.written) this.newBytes += stored.size;
      const stat = { ...entry, size: stored.stat.size, mtimeMs: stored.stat.mtimeMs, ctimeMs: stored.stat.ctimeMs, ino: stored.stat.ino };
      this.records.push({ entry: stat, sha256: stored.sha256, readAtMs, ...(stored.sparse ? { sparse: stored.sparse } : {}) });
      child.sha256 = stored.sha256;
      if (stored.sparse) child.sparse = stored.sparse;
      child.size = stored.stat.size;
      child.mtimeMs = stored.stat.mtimeMs;
      child.mode = stored.stat.mode & 0o7777;
    } catch (error) {
      if (!(error instanceof UnstableFileError)) throw error;
      // No version of it can be vouched for: record it without content rather than fail the whole capture.
      child.unstable = true;
      this.unstable.push(entry.path);
      this.cache.delete(entry.path);
    }
    this.onProgress?.(++this.readsDone, this.reads);
  }

  /**
   * Marks a later name of a hard-linked file with the first name that has the same
   * content (and sparseness): the content check guards against an inode number
   * reused between the listing and the read.
   */
  private linkName(entry: ScannedEntry, child: TreeChild, ready: Promise<void>): Promise<void> {
    const key = `${entry.dev}:${entry.ino}`;
    const earlier = this.linkGroups.get(key) ?? Promise.resolve(null);
    const group: LinkGroup = Promise.all([earlier, ready]).then(([first]) => {
      if (child.sha256 === undefined) return first;
      if (!first) return { path: entry.path, child };
      if (first.child.sha256 === child.sha256 && (first.child.sparse === undefined) === (child.sparse === undefined)) child.hardlinkTo = first.path;
      return first;
    });
    this.linkGroups.set(key, group);
    return group.then(() => undefined);
  }

  /**
   * Starts a read once fewer than IO_CONCURRENCY run, after checking there is room
   * for it; every FILES_PER_FLUSH reads, first makes what was staged durable.
   * Resolves when the read has started, with a promise of its end that never
   * rejects (the first failure is kept, and stops the walk).
   */
  private async start(entry: ScannedEntry, task: () => Promise<void>): Promise<{ done: Promise<void> }> {
    if (this.reads > 0 && this.reads % this.filesPerFlush === 0) {
      // Every read so far has staged its object in the batch about to be flushed.
      await this.settle();
      if (this.failure === null) await this.flush();
    }
    while (this.running.size >= IO_CONCURRENCY) await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.failure !== null) throw this.failure;
    this.reserve(entry);
    this.reads++;
    const running: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= error;
      })
      .finally(() => {
        this.running.delete(running);
        this.waiting.shift()?.();
      });
    this.running.add(running);
    return { done: running };
  }

  /** Waits for every read started (and the folders they complete). */
  private async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
    // The folders completed by the last reads build their trees in callbacks queued behind them.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /**
   * Makes what was staged (with the trees built so far) durable, then lets the
   * stat cache name it; the next reads go into a new batch.
   */
  private async flush(): Promise<void> {
    const trees = this.trees;
    const records = this.records;
    const batch = this.batch;
    this.trees = new Map();
    this.records = [];
    this.batch = this.core.store.createBatch();
    try {
      for (const [sha, text] of trees) {
        const data = Buffer.from(text, "utf8");
        if (await batch.stage(sha, { data })) this.newBytes += data.length;
      }
      await batch.commit();
    } catch (error) {
      await batch.abort();
      throw error;
    }
    // A file changed within the racy window is not cached (and its stale record is dropped).
    for (const r of records) this.cache.record(r.entry, r.sha256, r.readAtMs, r.sparse);
    this.cache.save(false);
    this.flushes++;
    this.free = storeFreeBytes(this.core);
    this.pendingBytes = 0;
    this.pendingFiles = 0;
  }

  /** Refuses, before reading it, a file that may not fit in what was free at the last flush. */
  private reserve(entry: ScannedEntry): void {
    this.pendingBytes += storedBytesEstimate(entry);
    this.pendingFiles++;
    if (this.free !== null && storeBytesNeeded(this.pendingBytes, this.pendingFiles) > this.free) {
      // Measured again: what was written since the last flush is then counted twice, which errs on the safe side.
      assertStoreHasRoom(this.core, this.pendingBytes, this.pendingFiles, this.flushes > 0);
      this.free = storeFreeBytes(this.core);
      this.pendingBytes = storedBytesEstimate(entry);
      this.pendingFiles = 1;
    }
  }

  /** A folder's tree, once its children are complete: kept for the next flush. */
  private build(children: TreeChild[], subtrees: TreeTotals[]): { sha: string; totals: TreeTotals } {
    const totals = emptyTotals();
    addChildrenTotals(totals, children);
    for (const sub of subtrees) addTotals(totals, sub);
    const sha = emitFolder(children, totals, (hash, text) => {
      if (!this.trees.has(hash) && !this.core.store.has(hash)) this.trees.set(hash, text);
    });
    return { sha, totals };
  }
}

/** Path order within one folder: a folder's name sorts as if followed by "/", as its entries' paths do. */
function byPathOrder(a: FolderItem, b: FolderItem): number {
  const x = a.dir ? `${a.name}/` : a.name;
  const y = b.dir ? `${b.name}/` : b.name;
  return x < y ? -1 : x > y ? 1 : 0;
}
