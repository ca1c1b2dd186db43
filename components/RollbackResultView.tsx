import Link from "next/link";
import { CopyableId } from "@/components/ui/CopyButton";
import { formatBytes, formatCount, formatDuration } from "@/lib/format";
import type { RollbackResult } from "@/lib/trpc/types";

/** A finished rollback: how long it took, what it restored and deleted, and the way back (the safety checkpoint). */
export function RollbackResultView({ result, undoing }: { result: RollbackResult; undoing: boolean }) {
  return (
    <div className="space-y-4" data-testid="rollback-result">
      <div role="status" className="rounded-md border border-ok/40 bg-ok/10 px-4 py-3">
        <p className="font-semibold text-ok">
          {undoing ? "Rollback undone" : "Rolled back"} in {formatDuration(result.durationMs)}
        </p>
        <p className="mt-1 text-sm">
          {formatCount(result.restored)} restored · {formatCount(result.deleted)} deleted · {formatCount(result.unchanged)} unchanged ·{" "}
          {formatBytes(result.bytes)} written
        </p>
        <p className="mt-1 flex flex-wrap items-center gap-2 text-xs text-muted">
          Rollback <CopyableId value={result.rollbackId} label="Copy the rollback id" />
        </p>
      </div>
      {result.safetyCheckpointId ? (
        <p className="text-sm">
          The state before this {undoing ? "undo" : "rollback"} was saved as safety checkpoint{" "}
          <Link href={`/checkpoints/${result.safetyCheckpointId}`} className="font-mono text-xs text-accent underline">
            {result.safetyCheckpointId}
          </Link>
          : <strong>Undo this {undoing ? "undo" : "rollback"}</strong> below plans the way back at once.
        </p>
      ) : null}
      {result.movedObstacles.length > 0 ? (
        <section aria-labelledby="result-moved" className="space-y-1 text-sm" data-testid="result-moved-obstacles">
          <h3 id="result-moved" className="font-semibold">
            Moved aside ({formatCount(result.movedObstacles.length)})
          </h3>
          <ul className="max-h-32 overflow-y-auto font-mono text-xs leading-5">
            {result.movedObstacles.map((o) => (
              <li key={o.path} className="break-all">
                {o.path} → {o.to}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {result.restoredPaths.length + result.deletedPaths.length > 0 ? (
        <details className="rounded-md border border-border text-sm">
          <summary className="cursor-pointer px-3 py-2">Files changed ({formatCount(result.restoredPaths.length + result.deletedPaths.length)})</summary>
          <ul className="max-h-40 overflow-y-auto border-t border-border px-3 py-2 font-mono text-xs leading-5">
            {result.restoredPaths.map((p) => (
              <li key={`r:${p}`}>
                <span className="text-ok">restored</span> {p}
              </li>
            ))}
            {result.deletedPaths.map((p) => (
              <li key={`d:${p}`}>
                <span className="text-bad">deleted</span> {p}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </div>
  );
}
