"use client";

import { useInfiniteQuery } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { RollbackDialog } from "@/components/RollbackDialog";
import { EmptyState } from "@/components/feedback/EmptyState";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { FileVersionContent } from "@/components/file-history/FileVersionContent";
import { FileVersionsDiff } from "@/components/file-history/FileVersionsDiff";
import { Button } from "@/components/ui/Button";
import { CheckpointIdLink } from "@/components/ui/CopyButton";
import { Pill, type Tone } from "@/components/ui/Pill";
import { Time } from "@/components/ui/Time";
import { describeProblem } from "@/lib/trpc/api-problem";
import { fileHistoryInput, nextPage } from "@/lib/trpc/list-inputs";
import { formatBytes, formatCount, shortSha } from "@/lib/format";
import { roleAllows, type RouterOutputs, type ViewerRole } from "@/lib/trpc/types";
import { displayPath } from "@/server/byte-paths";

type Version = RouterOutputs["file"]["history"]["items"][number];

const CHANGES: Record<Version["change"], { label: string; tone: Tone; explain: string }> = {
  added: { label: "added", tone: "ok", explain: "the path appeared in this checkpoint" },
  modified: { label: "modified", tone: "warn", explain: "its content changed" },
  deleted: { label: "deleted", tone: "bad", explain: "the path was gone in this checkpoint" },
  mode: { label: "mode", tone: "info", explain: "only its permission bits changed" },
  type: { label: "type", tone: "info", explain: "it changed kind (file, folder, link)" },
  present: { label: "first seen", tone: "neutral", explain: "the earliest checkpoint holding it, with nothing before it to compare with" },
};

function restoreBlocked(role: ViewerRole): string | null {
  return roleAllows(role, "agent") ? null : `Restoring needs the agent role or higher; your token has ${role}`;
}

function VersionActions({
  version,
  component,
  path,
  role,
  viewing,
  comparing,
  onView,
  onCompare,
}: {
  version: Version;
  component: string;
  path: string;
  role: ViewerRole;
  viewing: boolean;
  comparing: boolean;
  onView: () => void;
  onCompare: (on: boolean) => void;
}) {
  const deleted = version.change === "deleted";
  return (
    <div className="flex flex-wrap items-center justify-end gap-2">
      <Button className="px-2.5 py-1 text-xs" aria-pressed={viewing} onClick={onView} variant={viewing ? "primary" : "secondary"} data-testid="view-version">
        {viewing ? "Viewing" : "View"}
      </Button>
      <label className="inline-flex cursor-pointer items-center gap-1 text-xs">
        <input type="checkbox" checked={comparing} onChange={(event) => onCompare(event.currentTarget.checked)} data-testid="compare-version" />
        Compare
      </label>
      <RollbackDialog
        target={{ id: version.checkpointId, component, createdAt: version.createdAt, reason: version.reason }}
        paths={[path]}
        disabledReason={restoreBlocked(role)}
        trigger={{ label: deleted ? "Restore this version (delete)…" : "Restore this version…", variant: "secondary", className: "px-2.5 py-1 text-xs" }}
      />
    </div>
  );
}

function VersionFacts({ version }: { version: Version }) {
  const change = CHANGES[version.change];
  return (
    <div className="min-w-0 space-y-1">
      <p className="flex flex-wrap items-center gap-2 text-sm">
        <Pill tone={change.tone} title={change.explain}>
          {change.label}
        </Pill>
        <Time iso={version.createdAt} />
        {version.checkpointKind === "safety" ? (
          <Pill tone="info" title="taken by a rollback just before it changed anything">
            safety
          </Pill>
        ) : null}
      </p>
      <p className="flex flex-wrap items-center gap-x-4 gap-y-1 text-xs text-muted">
        <span>
          by <span className="text-foreground">{version.actor}</span>
        </span>
        <span>
          agent <span className="text-foreground">{version.agent ?? "—"}</span>
        </span>
        <span className="break-all">
          task <span className="font-mono text-foreground">{version.task ?? "—"}</span>
        </span>
        <span className="tabular-nums" data-testid="version-size">
          {version.size !== null ? formatBytes(version.size) : "—"}
        </span>
        <span className="font-mono" title={version.sha256 ?? undefined}>
          {version.sha256 ? shortSha(version.sha256) : version.change === "deleted" ? "deleted" : "—"}
        </span>
        <CheckpointIdLink id={version.checkpointId} />
      </p>
      {version.reason ? <p className="break-words text-xs text-muted">“{version.reason}”</p> : null}
    </div>
  );
}

/**
 * A path's history: every checkpoint that changed it (file.history, a page at a
 * time), one row each. View shows a version's content; ticking two versions
 * compares them (older to newer); Restore this version opens the usual rollback
 * dialog restricted to this path.
 */
export function FileHistoryView({ component, path, role, pageSize }: { component: string; path: string; role: ViewerRole; pageSize: number }) {
  const trpc = useTRPC();
  const history = useInfiniteQuery(trpc.file.history.infiniteQueryOptions(fileHistoryInput(component, path, pageSize), nextPage));
  const [viewing, setViewing] = useState<string | null>(null);
  const [comparing, setComparing] = useState<string[]>([]);
  const panel = useRef<HTMLDivElement>(null);

  // Side by side on a wide screen; on a narrow one the panel comes after the list, so bring it into view.
  function showPanel() {
    if (window.matchMedia("(max-width: 1023px)").matches) requestAnimationFrame(() => panel.current?.scrollIntoView({ block: "start", behavior: "smooth" }));
  }

  if (!history.data) {
    return history.isError ? (
      <ProblemNotice problem={describeProblem(history.error)} onRetry={() => void history.refetch()} />
    ) : (
      <LoadingBlock label="Loading the path's history" rows={3} />
    );
  }
  const versions = history.data.pages.flatMap((page) => page.items);
  if (versions.length === 0) {
    return (
      <EmptyState title={`No checkpoint of ${component} changed ${displayPath(path)}`}>
        A path&apos;s history comes from what each checkpoint changed against the one before it. Take a checkpoint after changing it, or check the spelling of
        the path (it is relative to the component&apos;s root).
      </EmptyState>
    );
  }
  const order = new Map(versions.map((v, i) => [v.checkpointId, i]));
  // Newest first: the larger index is the older version.
  const pair = comparing.length === 2 ? [...comparing].sort((a, b) => (order.get(b) ?? 0) - (order.get(a) ?? 0)) : null;
  const shown = viewing ? versions.find((v) => v.checkpointId === viewing) : undefined;

  function compare(id: string, on: boolean) {
    const next = on ? [...comparing.filter((c) => c !== id), id].slice(-2) : comparing.filter((c) => c !== id);
    setComparing(next);
    if (next.length === 2) showPanel();
  }

  function view(id: string) {
    setViewing(id === viewing ? null : id);
    if (id !== viewing) showPanel();
  }

  return (
    <div className="grid gap-5 lg:grid-cols-[minmax(0,5fr)_minmax(0,6fr)] lg:items-start">
      <div className="space-y-3 lg:max-h-[calc(100vh-8rem)] lg:overflow-y-auto lg:pr-1" data-testid="file-versions">
        <ol aria-label={`Versions of ${displayPath(path)}`} className="divide-y divide-border rounded-lg border border-border bg-surface">
          {versions.map((version) => (
            <li
              key={version.checkpointId}
              className={`flex flex-wrap items-start justify-between gap-3 px-4 py-3 ${version.checkpointId === viewing ? "bg-accent/5" : ""}`}
              data-testid="file-version"
              data-checkpoint={version.checkpointId}
              data-change={version.change}
            >
              <VersionFacts version={version} />
              <VersionActions
                version={version}
                component={component}
                path={path}
                role={role}
                viewing={version.checkpointId === viewing}
                comparing={comparing.includes(version.checkpointId)}
                onView={() => view(version.checkpointId)}
                onCompare={(on) => compare(version.checkpointId, on)}
              />
            </li>
          ))}
        </ol>
        <div className="flex flex-wrap items-center gap-3 text-sm text-muted">
          <span data-testid="versions-shown">
            {formatCount(versions.length)} version{versions.length === 1 ? "" : "s"} shown{history.hasNextPage ? "; older ones follow" : ", back to the first checkpoint holding it"}
          </span>
          {history.hasNextPage ? (
            <Button onClick={() => void history.fetchNextPage()} disabled={history.isFetchingNextPage}>
              {history.isFetchingNextPage ? "Loading…" : "Load more"}
            </Button>
          ) : null}
        </div>
      </div>

      <div ref={panel} className="min-w-0 space-y-5 lg:sticky lg:top-4">
        {pair ? (
          <section aria-labelledby="compare-heading" className="space-y-2">
            <h2 id="compare-heading" className="text-lg font-semibold">
              Compare two versions
            </h2>
            <FileVersionsDiff component={component} path={path} from={pair[0] as string} to={pair[1] as string} />
          </section>
        ) : comparing.length === 1 ? (
          <p className="text-sm text-muted">Tick a second version to compare it with the first.</p>
        ) : null}

        {shown ? (
          <section aria-labelledby="version-heading" className="space-y-2">
            <h2 id="version-heading" className="text-lg font-semibold">
              This path in <span className="font-mono text-base">{shown.checkpointId}</span>
            </h2>
            {shown.change === "deleted" ? (
              <p className="rounded-lg border border-border bg-surface px-3 py-3 text-sm text-muted" data-testid="file-version-deleted">
                Deleted in this checkpoint: it holds no content for the path. Restoring this version deletes the file.
              </p>
            ) : (
              <FileVersionContent checkpointId={shown.checkpointId} path={path} />
            )}
          </section>
        ) : !pair ? (
          <p className="rounded-lg border border-dashed border-border px-4 py-6 text-center text-sm text-muted">
            Pick <strong>View</strong> on a version to see its content, or tick <strong>Compare</strong> on two to see what changed between them.
          </p>
        ) : null}
      </div>
    </div>
  );
}
