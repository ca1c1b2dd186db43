/**
 * Batched durability for many new objects (a first checkpoint of 10,000 files).
 * Flushing each object with its own fdatasync costs about a millisecond of disk
 * wait per file; a batch writes every new object to tmp/ without flushing, then
 * makes them all durable at once (one syncfs of the store's file system, or
 * parallel fdatasyncs where that is unavailable) and only THEN renames them into
 * objects/. So objects/ never holds a file whose content might not be on disk,
 * and a crash mid-batch leaves only tmp files, which cleanTmp removes.
 */
import { removeQuietly } from "./atomic-write";
import { flushFiles } from "./sync-fs";

interface StoreForBatch {
  has(sha256: string): boolean;
  placeDurableTmp(sha256: string, tmp: string): Promise<boolean>;
}

export class WriteBatch {
  /** Staged objects by sha256: tmp path of the not-yet-flushed copy. */
  private readonly staged = new Map<string, string>();
  private settled = false;

  constructor(
    private readonly store: StoreForBatch,
    private readonly tmpDir: string,
    private readonly writeTmp: (tmp: string, data: Buffer) => Promise<void>,
    private readonly newTmpPath: () => string,
  ) {}

  get size(): number {
    return this.staged.size;
  }

  /** Stages new content for `sha256`; false when the store or this batch already has it. */
  async stage(sha256: string, source: { tmp: string } | { data: Buffer }): Promise<boolean> {
    if (this.settled) throw new Error("write batch already committed or aborted");
    if (this.staged.has(sha256) || this.store.has(sha256)) {
      if ("tmp" in source) await removeQuietly(source.tmp);
      return false;
    }
    let tmp: string;
    if ("tmp" in source) tmp = source.tmp;
    else {
      tmp = this.newTmpPath();
      this.staged.set(sha256, tmp);
      try {
        await this.writeTmp(tmp, source.data);
      } catch (error) {
        this.staged.delete(sha256);
        throw error;
      }
      return true;
    }
    this.staged.set(sha256, tmp);
    return true;
  }

  /** Flushes every staged object to disk, then renames them into place. */
  async commit(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    const staged = [...this.staged];
    try {
      await flushFiles(this.tmpDir, staged.map(([, tmp]) => tmp));
      for (const [sha256, tmp] of staged) await this.store.placeDurableTmp(sha256, tmp);
    } catch (error) {
      await Promise.all(staged.map(([, tmp]) => removeQuietly(tmp)));
      throw error;
    } finally {
      this.staged.clear();
    }
  }

  /** Drops every staged object (the operation failed before committing). */
  async abort(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await Promise.all([...this.staged.values()].map((tmp) => removeQuietly(tmp)));
    this.staged.clear();
  }
}
