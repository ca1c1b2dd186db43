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
import { describeProblem, retryCanHelp } from "@/lib/trpc/api-problem";
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

/** A row whose stored content is corrupt or missing: listed, never patched. */
function DamagedMark({ entry }: { entry: Pick<DiffEntry, "damaged"> }) {
  if (!entry.damaged) return null;
  return (
    <Pill tone="bad" title="The stored content of this file no longer matches its sha256 (or is gone): it cannot be shown or restored">
      damaged: {entry.damaged}
    </Pill>
  );
}

function PathList({ component, entries, tone, describe }: { component: string; entries: DiffEntry[]; tone: "ok" | "bad" | "warn"; describe: (e: DiffEntry) => ReactNode }) {
  const sign = tone === "ok" ? "+" : tone === "bad" ? "−" : "~";
  const colour = tone === "ok" ? "text-ok" : tone === "bad" ? "text-bad" : "text-warn";
  return (
    <ul className="divide-y divide-border rounded-md border border-border bg-surface text-sm">
      {entries.map((e) => (
        <li key={e.path} className="flex flex-wrap items-baseline justify-between gap-2 px-3 py-1.5" data-testid="diff-row" data-path={e.path} data-damaged={e.damaged}>
          <span className="min-w-0 break-all font-mono text-xs">
            <span aria-hidden="true" className={`mr-2 ${colour}`}>
              {sign}
            </span>
            {displayPath(e.path)}
          </span>
          <span className="flex items-center gap-2 text-xs text-muted">
            <DamagedMark entry={e} />
            {describe(e)}
            <FileHistoryLink component={component} path={e.path} />
          </span>
        </li>
      ))}
    </ul>
  );
}

/** Permission bits that changed along with the content: `0644 → 0755`. */
export function ModeChange({ before, after }: { before?: { mode: number }; after?: { mode: number } }) {
  if (!before || !after || before.mode === after.mode) return null;
  return (
    <span className="font-mono text-info" data-testid="mode-change" title="The permission bits changed too">
      {formatMode(before.mode)} → {formatMode(after.mode)}
    </span>
  );
}

/** How the two sides of a diff are named: a checkpoint and the live workspace, or two checkpoints. */
interface SideNames {
  from: string;
  to: string;
  /** Section titles for added and deleted paths. */
  added: string;
  deleted: string;
}

const LIVE_SIDES: SideNames = {
  from: "in checkpoint",
  to: "live",
  added: "Added since the checkpoint (a rollback deletes these)",
  deleted: "Deleted since the checkpoint (a rollback restores these)",
};

function checkpointSides(from: string, to: string): SideNames {
  return { from: `in ${from}`, to: `in ${to}`, added: `Added (in ${to}, not in ${from})`, deleted: `Deleted (in ${from}, not in ${to})` };
}

/** Patches shown expanded; the rest start collapsed so a large diff stays navigable. */
const OPEN_PATCHES = 20;

/** One modified file: sizes, a mode change, and its patch (or why there is none). */
export function ModifiedFile({ component, entry, open, sides = LIVE_SIDES }: { component?: string; entry: DiffEntry; open: boolean; sides?: SideNames }) {
  return (
    <details open={open} className="overflow-hidden rounded-md border border-border bg-surface" data-testid="diff-file" data-path={entry.path} data-damaged={entry.damaged}>
      <summary className="flex cursor-pointer flex-wrap items-baseline justify-between gap-2 bg-background px-3 py-2">
        <span className="break-all font-mono text-xs font-medium">{displayPath(entry.path)}</span>
        <span className="flex flex-wrap items-center gap-2 text-xs text-muted">
          <DamagedMark entry={entry} />
          <ModeChange before={entry.before} after={entry.after} />
          <span>
            {entry.before ? formatBytes(entry.before.size) : "—"} {sides.from} → {entry.after ? formatBytes(entry.after.size) : "—"} {sides.to}
          </span>
        </span>
      </summary>
      {/* Outside the summary: a link inside it would be a control inside a control. */}
      {component ? (
        <p className="border-t border-border px-3 py-1 text-right text-xs">
          <FileHistoryLink component={component} path={entry.path} />
        </p>
      ) : null}
      {typeof entry.patch === "string" ? (
        <UnifiedPatch patch={entry.patch} />
      ) : entry.damaged ? (
        <p className="border-t border-border px-3 py-2 text-xs text-bad">The stored content is {entry.damaged}: no text diff can be shown for this file.</p>
      ) : (
        <p className="border-t border-border px-3 py-2 text-xs text-muted">Binary, a symlink, or larger than 1 MiB: no text diff shown.</p>
      )}
    </details>
  );
}

/**
 * What changed from a checkpoint to the live workspace (checkpoint.diff with text
 * patches), or, with `against`, from one checkpoint to another (read from the store).
 */
export function DiffView({ checkpointId, against, heading, actions }: { checkpointId: string; against?: string; heading?: ReactNode; actions?: ReactNode }) {
  const trpc = useTRPC();
  // A diff scans the live workspace: fetch it when the page opens and on request, not on every focus.
  const diff = useQuery(trpc.checkpoint.diff.queryOptions({ id: checkpointId, against, textDiff: true }, { staleTime: 0, refetchOnWindowFocus: false }));
  const sides = against === undefined ? LIVE_SIDES : checkpointSides(checkpointId, against);
  return (
    <section aria-labelledby="diff-heading" className="space-y-4" aria-busy={diff.isFetching} data-testid="diff-view">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h2 id="diff-heading" className="text-lg font-semibold">
            {heading ?? (against === undefined ? "Diff against live" : `Diff from ${checkpointId} to ${against}`)}
          </h2>
          {against === undefined ? (
            <p className="text-sm text-muted">
              <span className="text-bad">−</span> is in the checkpoint, <span className="text-ok">+</span> is in the workspace now. A rollback turns + back
              into −.
            </p>
          ) : (
            <p className="text-sm text-muted">
              <span className="text-bad">−</span> is in <span className="font-mono">{checkpointId}</span>, <span className="text-ok">+</span> is in{" "}
              <span className="font-mono">{against}</span>. Read from the store only: the workspace is not looked at.
            </p>
          )}
          {actions}
        </div>
        {/* Two checkpoints never change, and a refusal for damage stays: comparing again helps only against the live workspace. */}
        {against === undefined && !(diff.isError && !retryCanHelp(describeProblem(diff.error))) ? (
          <Button onClick={() => void diff.refetch()} disabled={diff.isFetching}>
            {diff.isFetching ? "Comparing…" : "Compare again"}
          </Button>
        ) : null}
      </div>
      {diff.isPending ? (
        <LoadingBlock label={against === undefined ? "Comparing the checkpoint with the live workspace" : "Comparing the two checkpoints"} rows={3} />
      ) : diff.isError ? (
        <ProblemNotice problem={describeProblem(diff.error)} onRetry={() => void diff.refetch()} />
      ) : (
        <DiffBody diff={diff.data} sides={sides} />
      )}
    </section>
  );
}

/** Damaged stored files of the compared checkpoints: the rest of the diff is complete without them. */
function DamagedFiles({ diff }: { diff: CheckpointDiff }) {
  if (diff.damaged.length === 0) return null;
  return (
    <section aria-labelledby="diff-damaged" className="space-y-2 rounded-md border border-bad/40 bg-bad/10 px-3 py-2" data-testid="diff-damaged">
      <h3 id="diff-damaged" className="text-sm font-semibold text-bad">
        Damaged in the store ({formatCount(diff.damaged.length)})
      </h3>
      <p className="text-xs text-muted">
        The stored content of these files is corrupt or missing. Every other file is compared as usual; rows of damaged files are marked and have no text diff.
      </p>
      <ul className="space-y-0.5 font-mono text-xs">
        {diff.damaged.map((d) => (
          <li key={`${d.checkpointId}:${d.path ?? ""}:${d.sha256}`} className="break-all">
            <span className="font-semibold text-bad">{d.state}</span> {d.path === null ? "(the manifest itself)" : displayPath(d.path)}
            {diff.against !== null ? <span className="font-sans text-muted"> in {d.checkpointId}</span> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}

function DiffBody({ diff, sides }: { diff: CheckpointDiff; sides: SideNames }) {
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
      <DamagedFiles diff={diff} />
      {changed === 0 && diff.unstable.length === 0 ? (
        <p className="rounded-md border border-ok/30 bg-ok/10 px-4 py-3 text-sm" data-testid="diff-identical">
          {diff.against === null ? "The live workspace matches this checkpoint. A rollback would change nothing." : "The two checkpoints hold the same files."}
        </p>
      ) : null}
      <Section title="Modified" count={diff.modified.length}>
        <div className="space-y-3">
          {diff.modified.map((entry, index) => (
            <ModifiedFile key={entry.path} component={diff.component} entry={entry} open={index < OPEN_PATCHES} sides={sides} />
          ))}
        </div>
      </Section>
      <Section title={sides.added} count={diff.added.length}>
        <PathList component={diff.component} entries={diff.added} tone="ok" describe={(e) => (e.after ? `${e.after.kind} · ${formatBytes(e.after.size)}` : "")} />
      </Section>
      <Section title={sides.deleted} count={diff.deleted.length}>
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
