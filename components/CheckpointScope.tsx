import { ReasonPill, reasonExplanation } from "@/components/ReasonPill";
import { formatCount } from "@/lib/format";
import type { CheckpointDetail } from "@/lib/trpc/types";
import { displayPath } from "@/server/byte-paths";

const MAX_RELATED_ROWS = 200;

/** What the checkpoint covers: its scope, entries per inclusion reason, and the related files discovery added. */
export function CheckpointScope({ checkpoint }: { checkpoint: CheckpointDetail }) {
  const scopePaths = checkpoint.scope.paths ?? [];
  return (
    <section aria-labelledby="scope-heading" className="space-y-3 rounded-lg border border-border bg-surface p-4">
      <h2 id="scope-heading" className="text-sm font-semibold">
        Scope and related files
      </h2>
      <p className="text-sm">
        {checkpoint.scope.kind === "all" ? (
          "The whole component: every file its include and exclude globs select, minus ignored files."
        ) : (
          <>
            Only these {formatCount(scopePaths.length)} path{scopePaths.length === 1 ? "" : "s"} (asked for: <span className="font-mono text-xs">{checkpoint.paths.join(", ")}</span>
            , with their related files below). A rollback to it restores these and leaves every other file of the component as it is:{" "}
            <span className="break-all font-mono text-xs">{scopePaths.join(", ")}</span>
          </>
        )}
      </p>
      <ul aria-label="Entries per reason" className="flex flex-wrap gap-2">
        {Object.entries(checkpoint.reasons).map(([reason, count]) => (
          <li key={reason} className="flex items-center gap-1 text-xs">
            <ReasonPill reason={reason} />
            <span className="tabular-nums text-muted">{formatCount(count)}</span>
          </li>
        ))}
      </ul>
      {checkpoint.related.length > 0 ? (
        <ul className="max-h-64 divide-y divide-border overflow-y-auto rounded-md border border-border text-sm">
          {checkpoint.related.slice(0, MAX_RELATED_ROWS).map((entry) => (
            <li key={entry.path} className="flex flex-wrap items-center justify-between gap-2 px-3 py-1.5">
              <span className="min-w-0 break-all font-mono text-xs">{displayPath(entry.path)}</span>
              <span className="flex items-center gap-2 text-xs text-muted">
                <span className="hidden sm:inline">{reasonExplanation(entry.reason)}</span>
                <ReasonPill reason={entry.reason} />
              </span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="text-xs text-muted">No related files: everything in this checkpoint was asked for directly.</p>
      )}
      {checkpoint.related.length > MAX_RELATED_ROWS ? (
        <p className="text-xs text-muted">… and {formatCount(checkpoint.related.length - MAX_RELATED_ROWS)} more (see the entries below).</p>
      ) : null}
    </section>
  );
}
