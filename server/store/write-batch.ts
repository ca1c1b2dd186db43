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
  has(sha256: string, size?: number): boolean;
  placeDurableTmp(sha256: string, tmp: string, compressed: boolean, size?: number): Promise<boolean>;
}

/** A not-yet-flushed copy in tmp/, the form it holds (object-codec.ts) and, when known, the content's size. */
interface StagedCopy {
  tmp: string;
  compressed: boolean;
  size?: number;
}

export class WriteBatch {
  /** Staged objects by sha256. */
  private readonly staged = new Map<string, StagedCopy>();
  private settled = false;

  constructor(
    private readonly store: StoreForBatch,
    private readonly tmpDir: string,
    /** Writes content to a new tmp file, in the form the store keeps it in; resolves with whether that is compressed. */
    private readonly writeTmp: (tmp: string, data: Buffer, compressible: boolean) => Promise<boolean>,
    private readonly newTmpPath: () => string,
  ) {}

  get size(): number {
    return this.staged.size;
  }

  /**
   * Stages new content for `sha256`; false when the store or this batch already has it.
   * `data` is stored compressed where that pays, unless `compressible` is false.
   */
  async stage(sha256: string, source: StagedCopy | { data: Buffer; compressible?: boolean }): Promise<boolean> {
    if (this.settled) throw new Error("write batch already committed or aborted");
    if (this.staged.has(sha256) || this.store.has(sha256, "data" in source ? source.data.length : source.size)) {
      if ("tmp" in source) await removeQuietly(source.tmp);
      return false;
    }
    if ("tmp" in source) {
      this.staged.set(sha256, source);
      return true;
    }
    // Staged before the write, so a second put of the same content meanwhile finds it; the form is known once written.
    const copy: StagedCopy = { tmp: this.newTmpPath(), compressed: false, size: source.data.length };
    this.staged.set(sha256, copy);
    try {
      copy.compressed = await this.writeTmp(copy.tmp, source.data, source.compressible !== false);
    } catch (error) {
      this.staged.delete(sha256);
      throw error;
    }
    return true;
  }

  /** Flushes every staged object to disk, then renames them into place. */
  async commit(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    const staged = [...this.staged];
    try {
      await flushFiles(this.tmpDir, staged.map(([, copy]) => copy.tmp));
      for (const [sha256, copy] of staged) await this.store.placeDurableTmp(sha256, copy.tmp, copy.compressed, copy.size);
    } catch (error) {
      await Promise.all(staged.map(([, copy]) => removeQuietly(copy.tmp)));
      throw error;
    } finally {
      this.staged.clear();
    }
  }

  /** Drops every staged object (the operation failed before committing). */
  async abort(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await Promise.all([...this.staged.values()].map((copy) => removeQuietly(copy.tmp)));
    this.staged.clear();
  }
}
