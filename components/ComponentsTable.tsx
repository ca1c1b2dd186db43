"use client";

import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { ComponentStatusPill, RolledBackNote } from "@/components/ComponentStatusPill";
import { EmptyState } from "@/components/feedback/EmptyState";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { GettingStarted } from "@/components/GettingStarted";
import { failedRollbacksHref } from "@/components/HistoryFilters";
import { Pill } from "@/components/ui/Pill";
import { Time } from "@/components/ui/Time";
import { describeProblem } from "@/lib/trpc/api-problem";
import { formatCount } from "@/lib/format";
import type { ComponentListItem, ViewerRole } from "@/lib/trpc/types";
import { ComponentDrift } from "@/components/ComponentDrift";
import { livePolling } from "@/lib/trpc/live-polling";
import { ServedBy } from "@/components/instances/ServedBy";

/** A component some of whose active checkpoints a check found damaged: say it before anyone relies on them, and link to them. */
function DamageFlag({ component }: { component: ComponentListItem }) {
  if (component.damagedCheckpoints === 0) return null;
  const n = component.damagedCheckpoints;
  return (
    <Link href={`/components/${encodeURIComponent(component.name)}?damaged=1`} className="hover:opacity-80" data-testid="damage-link">
      <Pill tone="bad" title="Verification, a rollback plan or an export found corrupt or missing stored objects; Roll back is disabled on those checkpoints. Open them.">
        <span data-testid="damage-flag">
          {formatCount(n)} damaged checkpoint{n === 1 ? "" : "s"}
        </span>
      </Pill>
    </Link>
  );
}

/** Failed rollbacks: those that ran and failed apart from those refused before any change, each linking to them in the history. */
function RollbackAlarms({ component }: { component: ComponentListItem }) {
  const { failed, refused } = component.rollbackAlarms;
  if (failed === 0 && refused === 0) return null;
  return (
    <span className="flex flex-wrap items-center gap-1.5 text-xs">
      {failed > 0 ? (
        <Link href={failedRollbacksHref("ran", component.name)} className="text-bad hover:underline" data-testid="failed-link" title="Rollbacks that ran and failed">
          {formatCount(failed)} rollback{failed === 1 ? "" : "s"} failed
        </Link>
      ) : null}
      {refused > 0 ? (
        <Link
          href={failedRollbacksHref("refused", component.name)}
          className="text-warn hover:underline"
          data-testid="refused-link"
          title="Rollbacks refused before any change: damaged stored data, a stale confirmation, files in the way, a busy component, too little space"
        >
          {formatCount(refused)} refused
        </Link>
      ) : null}
    </span>
  );
}

function ComponentLink({ name }: { name: string }) {
  return (
    <Link href={`/components/${encodeURIComponent(name)}`} className="font-medium text-accent hover:underline">
      {name}
    </Link>
  );
}

/** Every component in scope: root, status, health, checkpoint count, newest checkpoint; cards on a phone. The CLI walkthrough when there are none. */
export function ComponentsTable({ role }: { role: ViewerRole }) {
  const trpc = useTRPC();
  const components = useQuery(trpc.component.list.queryOptions(undefined, livePolling));
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
    <>
      <ul aria-label="Components" className="space-y-3 md:hidden" data-testid="component-cards">
        {items.map((component) => (
          <li key={component.id} className="space-y-2 rounded-lg border border-border bg-surface p-4" data-testid="component-card">
            <div className="flex flex-wrap items-center justify-between gap-2">
              <ComponentLink name={component.name} />
              <span className="flex flex-wrap items-center gap-1.5">
                <ComponentStatusPill metadata={component.metadata} />
                <DamageFlag component={component} />
              </span>
            </div>
            <RolledBackNote metadata={component.metadata} compact />
            <RollbackAlarms component={component} />
            <p className="break-all font-mono text-xs text-muted">{component.root}</p>
            <ServedBy servedBy={component.servedBy} />
            <p className="text-xs text-muted">
              {formatCount(component.checkpoints)} checkpoint{component.checkpoints === 1 ? "" : "s"} · last{" "}
              {component.lastCheckpointAt ? <Time iso={component.lastCheckpointAt} mode="relative" /> : "none yet"}
            </p>
            <ComponentDrift name={component.name} role={role} />
          </li>
        ))}
      </ul>
      <div className="hidden overflow-x-auto rounded-lg border border-border bg-surface md:block">
        <table className="w-full text-left text-sm">
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
              <th scope="col" className="px-4 py-3 font-medium">
                Since then
              </th>
            </tr>
          </thead>
          <tbody className="divide-y divide-border">
            {items.map((component) => (
              <tr key={component.id} className="align-top hover:bg-background/60">
                <th scope="row" className="px-4 py-3 font-medium">
                  <ComponentLink name={component.name} />
                </th>
                <td className="max-w-[22rem] px-4 py-3">
                  <p className="truncate font-mono text-xs text-muted" title={component.root}>
                    {component.root}
                  </p>
                  <ServedBy servedBy={component.servedBy} />
                </td>
                <td className="px-4 py-3">
                  <div className="flex flex-wrap items-center gap-1.5">
                    <ComponentStatusPill metadata={component.metadata} />
                    <DamageFlag component={component} />
                  </div>
                  <RolledBackNote metadata={component.metadata} compact />
                  <RollbackAlarms component={component} />
                </td>
                <td className="px-4 py-3 text-right tabular-nums">{formatCount(component.checkpoints)}</td>
                <td className="px-4 py-3 text-muted">
                  {component.lastCheckpointAt ? <Time iso={component.lastCheckpointAt} mode="relative" /> : "none yet"}
                </td>
                <td className="min-w-[14rem] px-4 py-3">
                  <ComponentDrift name={component.name} role={role} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
