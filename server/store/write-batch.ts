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
import { closeFdQuietly } from "./raw-fd";
import { flushFiles, flushOpenFiles } from "./sync-fs";

/**
 * A batch of up to this many objects keeps each file open from its write to its
 * flush and flushes them one by one, several at a time: the tree objects of a
 * checkpoint after a small change (about 120 for 50 files of the bench's 10,000)
 * are flushed in 18-25 ms that way here, while a file-system sync costs a process
 * start and everything else dirty on the disk (55 ms in the server). A larger
 * batch (a first checkpoint) closes its files and flushes the file system once.
 */
const OPEN_FLUSH_MAX_FILES = 256;

interface StoreForBatch {
  has(sha256: string, size?: number): boolean;
  placeDurableTmp(sha256: string, tmp: string, compressed: boolean, size?: number): Promise<boolean>;
}

/** A not-yet-flushed copy in tmp/, the form it holds (object-codec.ts) and, when known, the content's size. */
interface StagedCopy {
  tmp: string;
  compressed: boolean;
  size?: number;
  /** Still open from its write, for the flush (a small batch). */
  fd?: number;
}

export class WriteBatch {
  /** Staged objects by sha256. */
  private readonly staged = new Map<string, StagedCopy>();
  private settled = false;

  constructor(
    private readonly store: StoreForBatch,
    private readonly tmpDir: string,
    /**
     * Writes content to a new tmp file, in the form the store keeps it in; resolves with whether that is
     * compressed and, with `keepOpen`, the file's descriptor, left open and not flushed.
     */
    private readonly writeTmp: (tmp: string, data: Buffer, compressible: boolean, keepOpen: boolean) => Promise<{ compressed: boolean; fd?: number }>,
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
      // While the batch is small, each file stays open for its flush (no reopening it); a large batch closes
      // them and flushes the file system at once instead.
      const written = await this.writeTmp(copy.tmp, source.data, source.compressible !== false, this.staged.size <= OPEN_FLUSH_MAX_FILES);
      copy.compressed = written.compressed;
      copy.fd = written.fd;
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
      const open = staged.map(([, copy]) => copy.fd).filter((fd): fd is number => fd !== undefined);
      if (open.length === staged.length) {
        // Handed over: flushOpenFiles closes every one of them, whatever fails.
        for (const [, copy] of staged) copy.fd = undefined;
        await flushOpenFiles(open);
      } else {
        await this.closeOpen();
        await flushFiles(this.tmpDir, staged.map(([, copy]) => copy.tmp));
      }
      for (const [sha256, copy] of staged) await this.store.placeDurableTmp(sha256, copy.tmp, copy.compressed, copy.size);
    } catch (error) {
      await this.closeOpen();
      await Promise.all(staged.map(([, copy]) => removeQuietly(copy.tmp)));
      throw error;
    } finally {
      this.staged.clear();
    }
  }

  /** Closes the descriptors still open from the writes. */
  private async closeOpen(): Promise<void> {
    await Promise.all(
      [...this.staged.values()].map(async (copy) => {
        if (copy.fd === undefined) return;
        const fd = copy.fd;
        copy.fd = undefined;
        await closeFdQuietly(fd);
      }),
    );
  }

  /** Drops every staged object (the operation failed before committing). */
  async abort(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    await this.closeOpen();
    await Promise.all([...this.staged.values()].map((copy) => removeQuietly(copy.tmp)));
    this.staged.clear();
  }
}
