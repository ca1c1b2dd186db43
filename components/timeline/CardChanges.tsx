"use client";

import Link from "next/link";
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { InlineProblem } from "@/components/feedback/InlineProblem";
import { compareHref } from "@/lib/compare-target";
import { formatCount, formatMode } from "@/lib/format";
import { describeProblem } from "@/lib/trpc/api-problem";
import type { TimelineCheckpoint } from "@/lib/trpc/types";
import { displayPath } from "@/server/byte-paths";

/** Paths listed on a card when it is expanded; the compare page has them all. */
const LISTED = 10;

const KIND_LOOK: Record<string, { sign: string; colour: string; word: string }> = {
  added: { sign: "+", colour: "text-ok", word: "added" },
  modified: { sign: "~", colour: "text-warn", word: "modified" },
  deleted: { sign: "−", colour: "text-bad", word: "deleted" },
  mode: { sign: "~", colour: "text-info", word: "mode" },
  type: { sign: "~", colour: "text-info", word: "type" },
};

function countsText(changes: { added: number; modified: number; deleted: number }): string {
  return `${formatCount(changes.added)} added, ${formatCount(changes.modified)} modified, ${formatCount(changes.deleted)} deleted`;
}

function diffstatLabel(changes: { added: number; modified: number; deleted: number }): string {
  return `${countsText(changes)} since the previous checkpoint`;
}

/**
 * What a checkpoint changed against the previous one, from its change records:
 * `+added ~modified −deleted`, the first paths on expand (fetched only then), and
 * the compare page for the rest.
 */
export function CardChanges({ checkpoint }: { checkpoint: Pick<TimelineCheckpoint, "id" | "changes" | "changesAgainst" | "files"> }) {
  const [open, setOpen] = useState(false);
  const { changes } = checkpoint;
  if (!changes) {
    return (
      <p className="text-xs text-muted" data-testid="card-diffstat" aria-label={`First checkpoint: nothing earlier to compare with; it holds ${formatCount(checkpoint.files)} files`}>
        <span className="font-medium text-foreground">first checkpoint</span> · all {formatCount(checkpoint.files)} file{checkpoint.files === 1 ? "" : "s"} new
      </p>
    );
  }
  const total = changes.added + changes.modified + changes.deleted;
  const stat = (
    <span className="inline-flex gap-2 font-mono tabular-nums" aria-hidden="true">
      <span className="text-ok">+{formatCount(changes.added)}</span>
      <span className="text-warn">~{formatCount(changes.modified)}</span>
      <span className="text-bad">−{formatCount(changes.deleted)}</span>
    </span>
  );
  if (total === 0) {
    return (
      <p className="text-xs text-muted" data-testid="card-diffstat" aria-label={diffstatLabel(changes)}>
        {stat} <span className="ml-1">no file changed since the previous checkpoint</span>
      </p>
    );
  }
  return (
    <details className="text-xs" data-testid="card-changes" onToggle={(event) => setOpen(event.currentTarget.open)}>
      {/* Named by its own text (no aria-label): what is read out then starts with what is shown. */}
      <summary className="cursor-pointer select-none text-muted" data-testid="card-diffstat">
        <span className="sr-only">{countsText(changes)} </span>
        {stat} <span className="ml-1">since the previous checkpoint</span>
        <span className="sr-only">; show the changed paths</span>
      </summary>
      {open ? <ChangedPaths id={checkpoint.id} total={total} /> : null}
    </details>
  );
}

function ChangedPaths({ id, total }: { id: string; total: number }) {
  const trpc = useTRPC();
  const page = useQuery(trpc.checkpoint.changes.queryOptions({ id, limit: LISTED }));
  if (page.isPending) return <p className="mt-1 text-muted">Loading the changed paths…</p>;
  if (page.isError) return <InlineProblem problem={describeProblem(page.error)} className="mt-1" />;
  const more = total - page.data.items.length;
  return (
    <div className="mt-1.5 space-y-1">
      <ul className="space-y-0.5 font-mono" aria-label="Changed paths" data-testid="card-changed-paths">
        {page.data.items.map((item) => {
          const look = KIND_LOOK[item.change] ?? { sign: "~", colour: "text-muted", word: item.change };
          return (
            <li key={item.path} className="flex min-w-0 items-baseline gap-2" data-change={item.change}>
              <span aria-hidden="true" className={`w-3 shrink-0 ${look.colour}`}>
                {look.sign}
              </span>
              <span className="min-w-0 break-all">{displayPath(item.path)}</span>
              <span className="shrink-0 font-sans text-muted">
                {look.word}
                {item.oldMode !== null && item.newMode !== null && item.oldMode !== item.newMode ? ` ${formatMode(item.oldMode)} → ${formatMode(item.newMode)}` : ""}
              </span>
            </li>
          );
        })}
      </ul>
      {more > 0 ? (
        <Link href={compareHref(id, "previous")} className="text-accent underline" data-testid="card-changes-more">
          {formatCount(more)} more in the compare view
        </Link>
      ) : null}
    </div>
  );
}
