"use client";

/**
 * How far a component's workspace has moved since its last checkpoint (files
 * added, modified, deleted; the first paths on hover and when expanded), polled
 * while the page is open, with Checkpoint now for roles that may take one.
 */
import Link from "next/link";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { Button } from "@/components/ui/Button";
import { describeProblem } from "@/lib/trpc/api-problem";
import { driftPolling } from "@/lib/trpc/live-polling";
import { formatCount } from "@/lib/format";
import { roleAllows, type ViewerRole } from "@/lib/trpc/types";
import { displayPath } from "@/server/byte-paths";

export function ComponentDrift({ name, role }: { name: string; role: ViewerRole }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const drift = useQuery(trpc.component.drift.queryOptions({ name }, { staleTime: 0, ...driftPolling }));
  const create = useMutation(
    trpc.checkpoint.create.mutationOptions({
      onSettled: () =>
        Promise.all([
          queryClient.invalidateQueries(trpc.component.pathFilter()),
          queryClient.invalidateQueries(trpc.history.pathFilter()),
          queryClient.invalidateQueries(trpc.stats.pathFilter()),
        ]),
    }),
  );
  if (drift.isPending) return <p className="text-xs text-muted">Comparing with the last checkpoint…</p>;
  if (drift.isError) return <p className="text-xs text-muted">Drift unknown: {describeProblem(drift.error).message}</p>;
  const d = drift.data;
  const changed = d.added + d.modified + d.deleted;
  const mayCheckpoint = roleAllows(role, "agent");
  return (
    <div className="space-y-1 text-xs" data-testid="drift" data-changed={changed} data-checkpoint-id={d.checkpointId ?? ""}>
      {d.checkpointId === null ? (
        <p className="text-muted">No checkpoint of the whole component yet.</p>
      ) : d.unreadable ? (
        <p className="text-bad">
          The last checkpoint (
          <Link href={`/checkpoints/${d.checkpointId}`} className="font-mono hover:underline">
            {d.checkpointId}
          </Link>
          ) cannot be read: drift unknown.
        </p>
      ) : changed === 0 ? (
        <p className="text-muted" data-testid="drift-text">
          No changes since the last checkpoint
        </p>
      ) : (
        <details>
          <summary className="cursor-pointer" data-testid="drift-text" title={d.paths.map((p) => `${p.change} ${displayPath(p.path)}`).join("\n")}>
            <strong className="text-warn">
              {formatCount(changed)} file{changed === 1 ? "" : "s"} changed
            </strong>{" "}
            since the last checkpoint <span className="text-muted">({[d.added ? `${formatCount(d.added)} added` : "", d.modified ? `${formatCount(d.modified)} modified` : "", d.deleted ? `${formatCount(d.deleted)} deleted` : ""].filter(Boolean).join(" · ")})</span>
          </summary>
          <ul className="mt-1 max-h-32 overflow-y-auto font-mono leading-5">
            {d.paths.map((p) => (
              <li key={p.path} className="break-all">
                <span className={p.change === "deleted" ? "text-bad" : p.change === "added" ? "text-ok" : "text-warn"}>{p.change}</span> {displayPath(p.path)}
              </li>
            ))}
            {changed > d.paths.length ? <li className="font-sans text-muted">… and {formatCount(changed - d.paths.length)} more</li> : null}
          </ul>
        </details>
      )}
      {mayCheckpoint && (changed > 0 || d.checkpointId === null) ? (
        <Button
          className="px-2.5 py-1 text-xs"
          onClick={() => create.mutate({ component: name, reason: "checkpoint from the dashboard (drift)" })}
          disabled={create.isPending}
        >
          {create.isPending ? "Checkpointing…" : "Checkpoint now"}
        </Button>
      ) : null}
      {create.isError ? <p className="text-bad">Checkpoint failed: {describeProblem(create.error).message}</p> : null}
    </div>
  );
}
