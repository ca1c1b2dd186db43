/**
 * Durability for many files at once. One syncfs(2) of the file system costs about
 * what flushing its dirty data costs; one fdatasync per file costs a disk round
 * trip each (≈ 1 ms here), which dominates a checkpoint or restore of 10,000 files.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import { mapConcurrent } from "../concurrency";
import { diesWithParent } from "../process/child-lifetime.mjs";
import { closeFd, fdatasyncFd, fstatFd, fsyncFd, openFd } from "./raw-fd";

const FLUSH_CONCURRENCY = 16;

/**
 * syncfs(2) of the file system holding `dir`, through coreutils' `sync -f` (Node
 * has no binding). Asynchronous: a long flush must not stall the event loop (the
 * server keeps answering). False when unavailable.
 */
export function syncFileSystem(dir: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sync = diesWithParent("sync", ["--file-system", dir]);
    execFile(sync.file, sync.args, { timeout: 120_000 }, (error) => resolve(!error));
  });
}

/** Below this many files, one fdatasync each is cheaper than flushing the whole file system. */
const FILE_SYSTEM_SYNC_MIN_FILES = 64;

/**
 * Opening a path by name that someone may have swapped since it was written: never
 * follow a symlink, never block on a FIFO (O_NONBLOCK), and flush only a regular file.
 */
const SAFE_OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

async function flushOne(file: string): Promise<void> {
  let fd: number;
  try {
    fd = await openFd(file, SAFE_OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Gone or replaced by a symlink since it was written: there is nothing of ours left to flush.
    if (code === "ENOENT" || code === "ELOOP") return;
    throw error;
  }
  try {
    if ((await fstatFd(fd)).isFile()) await fdatasyncFd(fd);
  } finally {
    await closeFd(fd).catch(() => undefined);
  }
}

/** Flushes `files` under `dir` (written without fdatasync): one file-system sync for many, else one fdatasync each. */
export async function flushFiles(dir: string, files: readonly string[]): Promise<void> {
  if (files.length === 0) return;
  if (files.length >= FILE_SYSTEM_SYNC_MIN_FILES && (await syncFileSystem(dir))) return;
  await mapConcurrent(files, FLUSH_CONCURRENCY, flushOne);
}

/**
 * Flushes and closes files still open from their writes (a small batch), several
 * at a time. Every descriptor is closed, whatever fails (then the first error is
 * thrown): the caller must not close any of them again.
 */
export async function flushOpenFiles(fds: readonly number[]): Promise<void> {
  const closed = new Set<number>();
  const close = async (fd: number) => {
    if (closed.has(fd)) return;
    closed.add(fd);
    await closeFd(fd).catch(() => undefined);
  };
  try {
    await mapConcurrent(fds, FLUSH_CONCURRENCY, async (fd) => {
      try {
        await fdatasyncFd(fd);
      } finally {
        await close(fd);
      }
    });
  } finally {
    await Promise.all(fds.map(close));
  }
}

/** A folder by name, never anything else: O_DIRECTORY refuses a file, a FIFO or a device without opening it for reading. */
const DIRECTORY_OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW;

/** fsyncs directories whose entries changed (renames, removals), so those changes survive a crash. */
export async function flushDirectories(dirs: Iterable<string>): Promise<void> {
  await mapConcurrent([...dirs], FLUSH_CONCURRENCY, async (dir) => {
    let fd: number;
    try {
      fd = await openFd(dir, DIRECTORY_OPEN_FLAGS);
    } catch (error) {
      // Gone, or no longer a folder: there is no directory entry of ours left to make durable.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP") return;
      throw error;
    }
    try {
      await fsyncFd(fd);
    } catch (error) {
      // Some file systems cannot fsync a directory; the data is not at risk because of it.
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "EINVAL" && code !== "ENOTSUP" && code !== "EBADF") throw error;
    } finally {
      await closeFd(fd).catch(() => undefined);
    }
  });
}
