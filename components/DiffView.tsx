"use client";

import type { ReactNode } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { UnifiedPatch } from "@/components/UnifiedPatch";
import { FileHistoryLink } from "@/components/file-history/FileHistoryLink";
import { Button } from "@/components/ui/Button";
import { Pill } from "@/components/ui/Pill";
import { describeProblem } from "@/lib/trpc/api-problem";
import { formatBytes, formatCount, formatMode } from "@/lib/format";
import type { CheckpointDiff, DiffEntry } from "@/lib/trpc/types";
import { displayPath } from "@/server/byte-paths";

function Section({ title, count, children }: { title: string; count: number; children: ReactNode }) {
  if (count === 0) return null;
  return (
    <section className="space-y-2">
      <h3 className="text-sm font-semibold">
        {title} <span className="font-normal text-muted">({formatCount(count)})</span>
      </h3>
      {children}
    </section>
  );
}

function PathList({ component, entries, tone, describe }: { component: string; entries: DiffEntry[]; tone: "ok" | "bad" | "warn"; describe: (e: DiffEntry) => ReactNode }) {
  const sign = tone === "ok" ? "+" : tone === "bad" ? "−" : "~";
  const colour = tone === "ok" ? "text-ok" : tone === "bad" ? "text-bad" : "text-warn";
  return (
    <ul className="divide-y divide-border rounded-md border border-border bg-surface text-sm">
      {entries.map((e) => (
        <li key={e.path} className="flex flex-wrap items-baseline justify-between gap-2 px-3 py-1.5">
          <span className="min-w-0 break-all font-mono text-xs">
            <span aria-hidden="true" className={`mr-2 ${colour}`}>
              {sign}
            </span>
            {displayPath(e.path)}
          </span>
          <span className="flex items-baseline gap-2 text-xs text-muted">
            {describe(e)}
            <FileHistoryLink component={component} path={e.path} />
          </span>
        </li>
      ))}
    </ul>
  );
}

/** Patches shown expanded; the rest start collapsed so a large diff stays navigable. */
const OPEN_PATCHES = 20;

function ModifiedFile({ component, entry, open }: { component: string; entry: DiffEntry; open: boolean }) {
  return (
    <details open={open} className="overflow-hidden rounded-md border border-border bg-surface" data-testid="diff-file">
      <summary className="flex cursor-pointer flex-wrap items-baseline justify-between gap-2 bg-background px-3 py-2">
        <span className="break-all font-mono text-xs font-medium">{displayPath(entry.path)}</span>
        <span className="flex items-baseline gap-2 text-xs text-muted">
          {entry.before ? formatBytes(entry.before.size) : "—"} in checkpoint → {entry.after ? formatBytes(entry.after.size) : "—"} live
          <FileHistoryLink component={component} path={entry.path} />
        </span>
      </summary>
      {typeof entry.patch === "string" ? (
        <UnifiedPatch patch={entry.patch} />
      ) : (
        <p className="border-t border-border px-3 py-2 text-xs text-muted">Binary, a symlink, or larger than 1 MiB: no text diff shown.</p>
      )}
    </details>
  );
}

/** What changed in the live workspace since the checkpoint (checkpoint.diff with text patches). */
export function DiffView({ checkpointId }: { checkpointId: string }) {
  const trpc = useTRPC();
  // A diff scans the live workspace: fetch it when the page opens and on request, not on every focus.
  const diff = useQuery(trpc.checkpoint.diff.queryOptions({ id: checkpointId, textDiff: true }, { staleTime: 0, refetchOnWindowFocus: false }));
  return (
    <section aria-labelledby="diff-heading" className="space-y-4" aria-busy={diff.isFetching}>
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h2 id="diff-heading" className="text-lg font-semibold">
            Diff against live
          </h2>
          <p className="text-sm text-muted">
            <span className="text-bad">−</span> is in the checkpoint, <span className="text-ok">+</span> is in the workspace now. A rollback
            turns + back into −.
          </p>
        </div>
        <Button onClick={() => void diff.refetch()} disabled={diff.isFetching}>
          {diff.isFetching ? "Comparing…" : "Compare again"}
        </Button>
      </div>
      {diff.isPending ? (
        <LoadingBlock label="Comparing the checkpoint with the live workspace" rows={3} />
      ) : diff.isError ? (
        <ProblemNotice problem={describeProblem(diff.error)} onRetry={() => void diff.refetch()} />
      ) : (
        <DiffBody diff={diff.data} />
      )}
    </section>
  );
}

function DiffBody({ diff }: { diff: CheckpointDiff }) {
  const changed = diff.added.length + diff.modified.length + diff.deleted.length + diff.modeChanged.length + diff.typeChanged.length + diff.linkChanged.length + diff.mtimeChanged.length;
  return (
    <div className="space-y-5">
      <div className="flex flex-wrap gap-2" aria-label="Summary of changes">
        <Pill tone={diff.modified.length ? "warn" : "neutral"}>{formatCount(diff.modified.length)} modified</Pill>
        <Pill tone={diff.added.length ? "ok" : "neutral"}>{formatCount(diff.added.length)} added</Pill>
        <Pill tone={diff.deleted.length ? "bad" : "neutral"}>{formatCount(diff.deleted.length)} deleted</Pill>
        {diff.modeChanged.length ? <Pill tone="info">{formatCount(diff.modeChanged.length)} mode changed</Pill> : null}
        {diff.typeChanged.length ? <Pill tone="info">{formatCount(diff.typeChanged.length)} type changed</Pill> : null}
        {diff.linkChanged.length ? <Pill tone="info">{formatCount(diff.linkChanged.length)} hard links changed</Pill> : null}
        {diff.mtimeChanged.length ? <Pill tone="info">{formatCount(diff.mtimeChanged.length)} only touched</Pill> : null}
        {diff.unstable.length ? <Pill tone="warn">{formatCount(diff.unstable.length)} not compared (unstable)</Pill> : null}
        <Pill>{formatCount(diff.unchanged)} unchanged</Pill>
      </div>
      {changed === 0 && diff.unstable.length === 0 ? (
        <p className="rounded-md border border-ok/30 bg-ok/10 px-4 py-3 text-sm">The live workspace matches this checkpoint. A rollback would change nothing.</p>
      ) : null}
      <Section title="Modified" count={diff.modified.length}>
        <div className="space-y-3">
          {diff.modified.map((entry, index) => (
            <ModifiedFile key={entry.path} component={diff.component} entry={entry} open={index < OPEN_PATCHES} />
          ))}
        </div>
      </Section>
      <Section title="Added since the checkpoint (a rollback deletes these)" count={diff.added.length}>
        <PathList component={diff.component} entries={diff.added} tone="ok" describe={(e) => (e.after ? `${e.after.kind} · ${formatBytes(e.after.size)}` : "")} />
      </Section>
      <Section title="Deleted since the checkpoint (a rollback restores these)" count={diff.deleted.length}>
        <PathList component={diff.component} entries={diff.deleted} tone="bad" describe={(e) => (e.before ? `${e.before.kind} · ${formatBytes(e.before.size)}` : "")} />
      </Section>
      <Section title="Mode changed" count={diff.modeChanged.length}>
        <PathList
          component={diff.component}
          entries={diff.modeChanged}
          tone="warn"
          describe={(e) => `${e.before ? formatMode(e.before.mode) : "?"} → ${e.after ? formatMode(e.after.mode) : "?"}`}
        />
      </Section>
      <Section title="Type changed" count={diff.typeChanged.length}>
        <PathList component={diff.component} entries={diff.typeChanged} tone="warn" describe={(e) => `${e.before?.kind ?? "?"} → ${e.after?.kind ?? "?"}`} />
      </Section>
      <Section title="Hard links changed (same content; a rollback puts the checkpoint's links back)" count={diff.linkChanged.length}>
        <PathList
          component={diff.component}
          entries={diff.linkChanged}
          tone="warn"
          describe={(e) => `${e.before?.hardlinkTo !== undefined ? `was another name of ${displayPath(e.before.hardlinkTo)}` : "was a file of its own"} → ${e.after?.hardlinkTo !== undefined ? `another name of ${displayPath(e.after.hardlinkTo)}` : "a file of its own"}`}
        />
      </Section>
      <Section title="Only the modification time changed (a rollback puts the old time back)" count={diff.mtimeChanged.length}>
        <PathList component={diff.component} entries={diff.mtimeChanged} tone="warn" describe={() => "same content and mode"} />
      </Section>
      <Section title="Kept changing while the checkpoint was taken (not compared; a rollback leaves these alone)" count={diff.unstable.length}>
        <PathList component={diff.component} entries={diff.unstable.map((p) => ({ path: p, kind: "unstable" }))} tone="warn" describe={() => "the checkpoint holds no content for it"} />
      </Section>
    </div>
  );
}
