"use client";

import Link from "next/link";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { InlineProblem } from "@/components/feedback/InlineProblem";
import { Button } from "@/components/ui/Button";
import { Time } from "@/components/ui/Time";
import { compareHref } from "@/lib/compare-target";
import { describeProblem } from "@/lib/trpc/api-problem";
import { nextPage } from "@/lib/trpc/list-inputs";

const PAGE = 50;
/** Matches shown at once; the filter narrows them. */
const SHOWN = 30;

/** Another checkpoint of the component to compare with: the latest ones, filtered by id, reason, actor, agent or task as you type. */
export function ComparePicker({ checkpointId, component, picked }: { checkpointId: string; component: string; picked: string | null }) {
  const trpc = useTRPC();
  const [filter, setFilter] = useState("");
  const list = useInfiniteQuery(trpc.checkpoint.list.infiniteQueryOptions({ component, limit: PAGE }, nextPage));
  const needle = filter.trim().toLowerCase();
  const items = (list.data?.pages.flatMap((p) => p.items) ?? []).filter((c) => c.id !== checkpointId && c.status !== "deleted");
  const matches = needle
    ? items.filter((c) => {
        const meta = c.callerMeta;
        return [c.id, c.reason, c.actor, meta.agent, meta.task].some((v) => typeof v === "string" && v.toLowerCase().includes(needle));
      })
    : items;
  return (
    <div className="space-y-2" data-testid="compare-picker">
      <label className="block text-xs text-muted" htmlFor="compare-filter">
        Filter by id, reason, actor, agent or task
      </label>
      <input
        id="compare-filter"
        type="search"
        value={filter}
        onChange={(event) => setFilter(event.target.value)}
        placeholder="cp_… or words of the reason"
        className="w-full max-w-md rounded-md border border-border bg-background px-3 py-1.5 font-mono text-xs"
      />
      {list.isError ? <InlineProblem problem={describeProblem(list.error)} /> : null}
      {list.isPending ? <p className="text-xs text-muted">Loading the component&apos;s checkpoints…</p> : null}
      <ul aria-label="Checkpoints to compare with" className="max-h-64 divide-y divide-border overflow-y-auto rounded-md border border-border bg-surface text-sm">
        {matches.slice(0, SHOWN).map((c) => (
          <li key={c.id}>
            <Link
              href={compareHref(checkpointId, { checkpointId: c.id })}
              aria-current={c.id === picked ? "true" : undefined}
              className={`flex flex-wrap items-baseline justify-between gap-2 px-3 py-1.5 hover:bg-background ${c.id === picked ? "bg-accent/10" : ""}`}
              data-testid="compare-pick"
              data-checkpoint-id={c.id}
            >
              <span className="font-mono text-xs">{c.id}</span>
              <span className="min-w-0 truncate text-xs text-muted">
                <Time iso={c.createdAt} /> · {c.reason ?? "no reason"}
              </span>
            </Link>
          </li>
        ))}
        {!list.isPending && matches.length === 0 ? <li className="px-3 py-2 text-xs text-muted">No other checkpoint matches{list.hasNextPage ? " among those loaded" : ""}.</li> : null}
      </ul>
      {matches.length > SHOWN ? <p className="text-xs text-muted">{matches.length - SHOWN} more match: type more of the id or reason.</p> : null}
      {list.hasNextPage ? (
        <Button className="px-3 py-1.5 text-xs" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          {list.isFetchingNextPage ? "Loading…" : "Load older checkpoints"}
        </Button>
      ) : null}
    </div>
  );
}
