"use client";

import { useState } from "react";
import { CheckpointCard } from "@/components/CheckpointCard";
import { CompactCheckpointRow } from "@/components/timeline/CompactCheckpointRow";
import { Time } from "@/components/ui/Time";
import { formatCount } from "@/lib/format";
import type { ViewerRole } from "@/lib/trpc/types";
import type { CheckpointItem } from "./quiet-runs";

/** "N checkpoints with no changes, <oldest>–<newest>" as one line, expanded to their cards on demand. */
export function QuietRun({ items, role, compact = false }: { items: CheckpointItem[]; role: ViewerRole; compact?: boolean }) {
  const [open, setOpen] = useState(false);
  const newest = items[0]?.checkpoint;
  const oldest = items[items.length - 1]?.checkpoint;
  if (!newest || !oldest) return null;
  const listId = `quiet-${oldest.id}`;
  return (
    <div data-testid="quiet-run" data-count={items.length} className="space-y-3">
      <button
        type="button"
        aria-expanded={open}
        aria-controls={listId}
        onClick={() => setOpen(!open)}
        className="flex w-full flex-wrap items-baseline gap-x-2 rounded-lg border border-dashed border-border px-4 py-2 text-left text-sm text-muted hover:bg-surface hover:text-foreground"
      >
        <span aria-hidden="true">{open ? "▾" : "▸"}</span>
        <span className="font-medium text-foreground">
          {formatCount(items.length)} checkpoints with no changes
        </span>
        <span className="text-xs">
          <Time iso={oldest.createdAt} mode="absolute" /> – <Time iso={newest.createdAt} mode="absolute" />
        </span>
      </button>
      {open ? (
        <ol id={listId} aria-label={`${items.length} checkpoints with no changes`} className="space-y-3">
          {items.map((item) => (
            <li key={item.checkpoint.id}>
              {compact ? <CompactCheckpointRow checkpoint={item.checkpoint} role={role} matchesLive={false} /> : <CheckpointCard checkpoint={item.checkpoint} role={role} matchesLive={false} />}
            </li>
          ))}
        </ol>
      ) : null}
    </div>
  );
}
