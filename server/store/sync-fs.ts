/**
 * Durability for many files at once. One syncfs(2) of the file system costs about
 * what flushing its dirty data costs; one fdatasync per file costs a disk round
 * trip each (≈ 1 ms here), which dominates a checkpoint or restore of 10,000 files.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { mapConcurrent } from "../concurrency";
import { fdatasyncFd } from "./raw-fd";

const FLUSH_CONCURRENCY = 16;

/** syncfs(2) of the file system holding `dir`, through coreutils' `sync -f` (Node has no binding). False when unavailable. */
export function syncFileSystem(dir: string): boolean {
  const result = spawnSync("sync", ["--file-system", dir], { stdio: "ignore", timeout: 120_000 });
  return result.status === 0;
}

/** Below this many files, one fdatasync each is cheaper than flushing the whole file system. */
const FILE_SYSTEM_SYNC_MIN_FILES = 64;

/** Flushes `files` under `dir` (written without fdatasync): one file-system sync for many, else one fdatasync each. */
export async function flushFiles(dir: string, files: readonly string[]): Promise<void> {
  if (files.length === 0) return;
  if (files.length >= FILE_SYSTEM_SYNC_MIN_FILES && syncFileSystem(dir)) return;
  await mapConcurrent(files, FLUSH_CONCURRENCY, async (file) => {
    const fd = fs.openSync(file, "r");
    try {
      await fdatasyncFd(fd);
    } finally {
      fs.closeSync(fd);
    }
  });
}
