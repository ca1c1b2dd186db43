import type { RollbackPlan } from "@/lib/trpc/types";
import { displayPath } from "@/server/byte-paths";

/**
 * Above the plan of a rollback restricted to some paths: that nothing else
 * changes, and when the checkpoint does not hold the path (a version in which it
 * was deleted), that restoring it deletes the file.
 */
export function RestoreOnlyNote({ plan }: { plan: RollbackPlan }) {
  const paths = plan.paths ?? [];
  if (paths.length === 0) return null;
  const deletes = plan.restore.length === 0 && plan.delete.length > 0;
  return (
    <div className={`space-y-1 rounded-md border px-3 py-2 text-sm ${deletes ? "border-bad/40 bg-bad/10" : "border-info/30 bg-info/5"}`} data-testid="restore-only-note">
      {deletes ? (
        <p className="font-semibold" data-testid="restore-deletes">
          This version does not hold {paths.length === 1 ? <span className="break-all font-mono">{displayPath(paths[0] ?? "")}</span> : "these paths"}: it was deleted
          by then, so restoring this version deletes {paths.length === 1 ? "the file" : "them"}.
        </p>
      ) : null}
      <p className="text-muted">
        Only {paths.length === 1 ? "this path" : `these ${paths.length} paths`} {paths.length === 1 ? "is" : "are"} changed; every other file of the component, its
        databases and its metadata stay as they are. The safety checkpoint taken first holds {paths.length === 1 ? "this path" : "these paths"} as they are now, so
        the undo puts back exactly {paths.length === 1 ? "it" : "them"}.
      </p>
    </div>
  );
}
