"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { EmptyState } from "@/components/feedback/EmptyState";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { Pill, type Tone } from "@/components/ui/Pill";
import { Time } from "@/components/ui/Time";
import { describeProblem } from "@/lib/trpc/api-problem";
import { livePolling } from "@/lib/trpc/live-polling";

const STATE_TONE: Record<string, Tone> = { live: "ok", stale: "bad", stopped: "neutral" };

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** Every server instance on this metadata and its health: live / stale / stopped, heartbeat age, version, roots. */
export function InstancesTable() {
  const trpc = useTRPC();
  const instances = useQuery(trpc.instance.list.queryOptions(undefined, livePolling));
  if (instances.isPending) return <LoadingBlock label="Loading instances" rows={2} />;
  if (instances.isError) return <ProblemNotice problem={describeProblem(instances.error)} onRetry={() => void instances.refetch()} />;
  const { items, staleMs, heartbeatMs } = instances.data;
  if (items.length === 0) return <EmptyState title="No instances registered">A server registers itself when it starts.</EmptyState>;
  return (
    <div className="space-y-2">
      <p className="text-xs text-muted">
        Each instance writes a heartbeat every {seconds(heartbeatMs)}; one not heard from for {seconds(staleMs)} is stale, and the components only it reaches
        answer 503 until it is back.
      </p>
      <div className="overflow-x-auto rounded-lg border border-border bg-surface">
        <table className="w-full text-left text-sm" data-testid="instances-table">
          <caption className="sr-only">Server instances</caption>
          <thead className="border-b border-border text-xs uppercase tracking-wide text-muted">
            <tr>
              <th scope="col" className="px-4 py-3 font-medium">
                Instance
              </th>
              <th scope="col" className="px-4 py-3 font-medium">
                Health
              </th>
              <th scope="col" className="px-4 py-3 font-medium">
                Heartbeat
              </th>
              <th scope="col" className="px-4 py-3 font-medium">
                Version
              </th>
              <th scope="col" className="px-4 py-3 font-medium">
                Roots
              </th>
              <th scope="col" className="px-4 py-3 font-medium">
                Started
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-border">
            {items.map((instance) => (
              <tr key={instance.id} className="align-top" data-testid="instance-row" data-instance-id={instance.id}>
                <th scope="row" className="px-4 py-3 font-medium">
                  <span className="font-mono">{instance.host}</span>
                  <span className="block font-mono text-xs text-muted">{instance.id}</span>
                  {instance.self ? <span className="text-xs text-accent">this instance</span> : null}
                </th>
                <td className="px-4 py-3">
                  <Pill tone={STATE_TONE[instance.state] ?? "neutral"}>
                    <span data-testid="instance-state">{instance.state}</span>
                  </Pill>
                </td>
                <td className="px-4 py-3 tabular-nums text-muted" data-testid="instance-heartbeat-age">
                  {seconds(instance.heartbeatAgeMs)} ago
                </td>
                <td className="px-4 py-3 font-mono text-xs">{instance.version}</td>
                <td className="px-4 py-3">
                  <ul className="space-y-0.5 font-mono text-xs text-muted">
                    {instance.roots.map((root) => (
                      <li key={root} className="break-all">
                        {root}
                      </li>
                    ))}
                  </ul>
                </td>
                <td className="px-4 py-3 text-muted">
                  <Time iso={instance.startedAt} mode="relative" />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
