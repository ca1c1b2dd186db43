/**
 * Free-space preflight: a rollback that cannot fit on the workspace's file system
 * is refused before the first byte changes. Running out of space half-way would
 * leave the tree half old, half new, with a journal whose recovery would run out
 * of space again.
 */
import { statfsSync } from "node:fs";
import { describeFsError, InsufficientStorageError } from "../errors";
import type { EntryLookup } from "../checkpoints/manifest-types";
import { contentBytesOnDisk } from "../checkpoints/manifest";
import type { RollbackPlanBody } from "./plan";

export interface SpaceEstimate {
  neededBytes: number;
  availableBytes: number;
}

/**
 * Bytes the plan needs at its peak, in whole blocks: deletions run first and free
 * their files; then each file is written beside the one it replaces and renamed
 * over it, so the growth of every rewrite counts, plus the largest file that
 * exists twice for a moment; new directories and symlinks take a block each.
 * Real bytes throughout: a sparse file takes (and frees) its data, not its
 * apparent size. `liveByPath` needs to know only the plan's paths as they are now.
 */
export function estimateRollbackSpace(plan: RollbackPlanBody, liveByPath: EntryLookup, blockSize: number): number {
  const blocks = (bytes: number) => Math.ceil(bytes / blockSize) * blockSize;
  let freed = 0;
  for (const item of plan.delete) {
    const entry = liveByPath.get(item.path);
    if (entry?.kind === "file") freed += blocks(contentBytesOnDisk(entry));
  }
  let growth = 0;
  let largestOverlap = 0;
  for (const item of plan.restore) {
    if (item.kind !== "file") {
      if (item.action === "recreate" || item.action === "replace") growth += blockSize;
      continue;
    }
    if (item.action === "mode" || item.action === "mtime") continue;
    const old = liveByPath.get(item.path);
    const oldBytes = item.action === "write" && old?.kind === "file" ? blocks(contentBytesOnDisk(old)) : 0;
    const newBytes = blocks(contentBytesOnDisk(item));
    growth += Math.max(0, newBytes - oldBytes);
    largestOverlap = Math.max(largestOverlap, Math.min(newBytes, oldBytes));
  }
  return Math.max(0, growth + largestOverlap - freed);
}

/**
 * Throws InsufficientStorageError (NO_SPACE) with the figures when the plan cannot fit on
 * the file system holding `root`. `outcome` ends the message: what the refusal means to
 * the caller (a rollback: nothing was changed; a recovery says itself that the rollback is pending).
 */
export function assertRollbackFits(root: string, plan: RollbackPlanBody, live: EntryLookup, outcome?: string): SpaceEstimate {
  let stats;
  try {
    stats = statfsSync(root);
  } catch (error) {
    throw describeFsError(error, root);
  }
  const neededBytes = estimateRollbackSpace(plan, live, stats.bsize);
  const availableBytes = stats.bavail * stats.bsize;
  if (neededBytes > availableBytes) {
    throw new InsufficientStorageError(
      `not enough free space in ${root} for this rollback: it needs about ${neededBytes} bytes more, ${availableBytes} are available${outcome ? `; ${outcome}` : ""}`,
      { root, neededBytes, availableBytes, errno: "ENOSPC" },
    );
  }
  return { neededBytes, availableBytes };
}
