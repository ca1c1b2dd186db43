/**
 * Runs of checkpoints that changed nothing: an agent hook takes a checkpoint
 * before every step, and most steps (reads, searches, tests) change no file. A
 * run of two or more such checkpoints in a row becomes one line on the timeline.
 */
import type { TimelineItem } from "@/lib/trpc/types";

export type CheckpointItem = Extract<TimelineItem, { type: "checkpoint" }>;

/** One line of a day on the timeline: an item, or a run of quiet checkpoints (newest first). */
export type TimelineRow = { type: "item"; item: TimelineItem } | { type: "quiet"; items: CheckpointItem[] };

/** Shortest run shown as one line: a single quiet checkpoint stays a card. */
const MIN_RUN = 2;

/** Recorded against an earlier checkpoint and no file added, modified or deleted; the one matching the live workspace always stays visible. */
function isQuiet(item: TimelineItem, liveId: string | null): item is CheckpointItem {
  if (item.type !== "checkpoint") return false;
  const changes = item.checkpoint.changes;
  return changes !== null && changes.added === 0 && changes.modified === 0 && changes.deleted === 0 && item.checkpoint.id !== liveId;
}

export function collapseQuietRuns(items: TimelineItem[], liveId: string | null): TimelineRow[] {
  const rows: TimelineRow[] = [];
  let run: CheckpointItem[] = [];
  const flush = () => {
    if (run.length >= MIN_RUN) rows.push({ type: "quiet", items: run });
    else for (const item of run) rows.push({ type: "item", item });
    run = [];
  };
  for (const item of items) {
    if (isQuiet(item, liveId)) run.push(item);
    else {
      flush();
      rows.push({ type: "item", item });
    }
  }
  flush();
  return rows;
}
