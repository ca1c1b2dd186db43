"use client";

import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { ComponentStatusPill } from "@/components/ComponentStatusPill";
import { EmptyState } from "@/components/feedback/EmptyState";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { GettingStarted } from "@/components/GettingStarted";
import { Time } from "@/components/ui/Time";
import { describeProblem } from "@/lib/trpc/api-problem";
import { formatCount } from "@/lib/format";

/** Every component in scope: root, status, checkpoint count, newest checkpoint. The CLI walkthrough when there are none. */
export function ComponentsTable() {
  const trpc = useTRPC();
  const components = useQuery(trpc.component.list.queryOptions());
  if (components.isPending) return <LoadingBlock label="Loading components" rows={4} />;
  if (components.isError) return <ProblemNotice problem={describeProblem(components.error)} onRetry={() => void components.refetch()} />;
  const items = components.data.items;
  if (items.length === 0) {
    return (
      <div className="space-y-6">
        <EmptyState title="No components yet">
          Register the directory an agent is about to change as a component, then take a checkpoint. They will show up here with their
          timeline of checkpoints.
        </EmptyState>
        <GettingStarted />
      </div>
    );
  }
  return (
    <div className="overflow-x-auto rounded-lg border border-border bg-surface">
      <table className="w-full min-w-[640px] text-left text-sm">
        <caption className="sr-only">Components</caption>
        <thead className="border-b border-border text-xs uppercase tracking-wide text-muted">
          <tr>
            <th scope="col" className="px-4 py-3 font-medium">
              Component
            </th>
            <th scope="col" className="px-4 py-3 font-medium">
              Root
            </th>
            <th scope="col" className="px-4 py-3 font-medium">
              Status
            </th>
            <th scope="col" className="px-4 py-3 text-right font-medium">
              Checkpoints
            </th>
            <th scope="col" className="px-4 py-3 font-medium">
              Last checkpoint
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-border">
          {items.map((component) => (
            <tr key={component.id} className="hover:bg-background/60">
              <th scope="row" className="px-4 py-3 font-medium">
                <Link href={`/components/${encodeURIComponent(component.name)}`} className="text-accent hover:underline">
                  {component.name}
                </Link>
              </th>
              <td className="max-w-[22rem] truncate px-4 py-3 font-mono text-xs text-muted" title={component.root}>
                {component.root}
              </td>
              <td className="px-4 py-3">
                <ComponentStatusPill metadata={component.metadata} />
              </td>
              <td className="px-4 py-3 text-right tabular-nums">{formatCount(component.checkpoints)}</td>
              <td className="px-4 py-3 text-muted">
                {component.lastCheckpointAt ? <Time iso={component.lastCheckpointAt} mode="relative" /> : "none yet"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
