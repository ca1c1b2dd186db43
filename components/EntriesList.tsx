"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { ReasonPill } from "@/components/ReasonPill";
import { FileHistoryLink } from "@/components/file-history/FileHistoryLink";
import { Button } from "@/components/ui/Button";
import { describeProblem } from "@/lib/trpc/api-problem";
import { ENTRIES_PAGE_SIZE, nextPage } from "@/lib/trpc/list-inputs";
import { formatBytes, formatCount, formatMode, shortSha } from "@/lib/format";
import { displayPath } from "@/server/byte-paths";

/** The manifest's entries by path, a page at a time, optionally under a path prefix; each links to its path's history in `component`. */
export function EntriesList({ checkpointId, component }: { checkpointId: string; component: string }) {
  const trpc = useTRPC();
  const [prefix, setPrefix] = useState("");
  const input = prefix ? { id: checkpointId, prefix, limit: ENTRIES_PAGE_SIZE } : { id: checkpointId, limit: ENTRIES_PAGE_SIZE };
  const entries = useInfiniteQuery(trpc.checkpoint.entries.infiniteQueryOptions(input, nextPage));

  function applyPrefix(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setPrefix(String(new FormData(event.currentTarget).get("prefix") ?? "").trim());
  }

  const items = entries.data?.pages.flatMap((page) => page.items) ?? [];
  const total = entries.data?.pages[0]?.total;
  return (
    <section aria-labelledby="entries-heading" className="space-y-3">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <h2 id="entries-heading" className="text-lg font-semibold">
          Entries {total !== undefined ? <span className="text-sm font-normal text-muted">({formatCount(total)} in the manifest)</span> : null}
        </h2>
        <form onSubmit={applyPrefix} className="flex items-center gap-2" role="search" aria-label="Filter entries by path">
          <label htmlFor="entries-prefix" className="sr-only">
            Path prefix
          </label>
          <input
            id="entries-prefix"
            name="prefix"
            defaultValue={prefix}
            placeholder="path prefix, e.g. src/"
            className="w-48 rounded-md border border-border bg-background px-3 py-1.5 font-mono text-xs"
          />
          <Button type="submit" className="px-3 py-1.5 text-xs">
            Filter
          </Button>
        </form>
      </div>
      {!entries.data ? (
        entries.isError ? (
          <ProblemNotice problem={describeProblem(entries.error)} onRetry={() => void entries.refetch()} />
        ) : (
          <LoadingBlock label="Loading entries" rows={3} />
        )
      ) : items.length === 0 ? (
        <p className="rounded-md border border-dashed border-border px-4 py-6 text-center text-sm text-muted">
          {prefix ? `No entries under “${prefix}”.` : "This checkpoint has no entries."}
        </p>
      ) : (
        <>
        <ul aria-label="Entries" className="divide-y divide-border rounded-lg border border-border bg-surface text-xs md:hidden">
          {items.map((entry) => (
            <li key={entry.path} className="space-y-1 px-3 py-2">
              <p className="break-all font-mono">
                {displayPath(entry.path)}
                {entry.linkTarget ? <span className="text-muted"> → {entry.linkTarget}</span> : null}
              </p>
              <p className="flex flex-wrap items-center gap-x-3 gap-y-1 text-muted">
                <span>{entry.kind}</span>
                <span className="font-mono">{formatMode(entry.mode)}</span>
                {entry.kind === "file" ? <span>{formatBytes(entry.size)}</span> : null}
                {entry.sha256 ? <span className="font-mono">{shortSha(entry.sha256)}</span> : entry.unstable ? <span title="it kept changing while the checkpoint was taken: no content">unstable</span> : null}
                <ReasonPill reason={entry.reason} />
                <FileHistoryLink component={component} path={entry.path} />
              </p>
            </li>
          ))}
        </ul>
        <div className="hidden overflow-x-auto rounded-lg border border-border bg-surface md:block">
          <table className="w-full text-left text-xs">
            <thead className="border-b border-border uppercase tracking-wide text-muted">
              <tr>
                <th scope="col" className="px-3 py-2 font-medium">
                  Path
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  Kind
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  Mode
                </th>
                <th scope="col" className="px-3 py-2 text-right font-medium">
                  Size
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  sha256
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  Reason
                </th>
                <th scope="col" className="px-3 py-2 font-medium">
                  <span className="sr-only">History</span>
                </th>
              </tr>
            </thead>
            <tbody className="divide-y divide-border">
              {items.map((entry) => (
                <tr key={entry.path}>
                  <td className="break-all px-3 py-1.5 font-mono">
                    {displayPath(entry.path)}
                    {entry.linkTarget ? <span className="text-muted"> → {entry.linkTarget}</span> : null}
                  </td>
                  <td className="px-3 py-1.5 text-muted">{entry.kind}</td>
                  <td className="px-3 py-1.5 font-mono text-muted">{formatMode(entry.mode)}</td>
                  <td className="px-3 py-1.5 text-right tabular-nums">{entry.kind === "file" ? formatBytes(entry.size) : "—"}</td>
                  <td className="px-3 py-1.5 font-mono text-muted" title={entry.sha256}>
                    {entry.sha256 ? shortSha(entry.sha256) : entry.unstable ? "unstable (kept changing: no content)" : "—"}
                  </td>
                  <td className="px-3 py-1.5">
                    <ReasonPill reason={entry.reason} />
                  </td>
                  <td className="px-3 py-1.5">
                    <FileHistoryLink component={component} path={entry.path} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        </>
      )}
      {entries.hasNextPage ? (
        <Button onClick={() => void entries.fetchNextPage()} disabled={entries.isFetchingNextPage}>
          {entries.isFetchingNextPage ? "Loading…" : `Load more (${formatCount(items.length)} of ${formatCount(total ?? 0)} shown)`}
        </Button>
      ) : null}
    </section>
  );
}
