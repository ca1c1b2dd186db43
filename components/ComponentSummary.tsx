"use client";

import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { ComponentStatusPill, RolledBackNote } from "@/components/ComponentStatusPill";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { MetadataDocument } from "@/components/MetadataDocument";
import { Time } from "@/components/ui/Time";
import { describeProblem } from "@/lib/trpc/api-problem";
import { livePolling } from "@/lib/trpc/live-polling";
import { ServedBy } from "@/components/instances/ServedBy";

function GlobList({ label, globs }: { label: string; globs: string[] }) {
  return (
    <div>
      <dt className="text-xs font-medium uppercase tracking-wide text-muted">{label}</dt>
      <dd className="mt-1 font-mono text-xs">{globs.length === 0 ? <span className="text-muted">—</span> : globs.join(", ")}</dd>
    </div>
  );
}

/** A component's name and root, with its globs, dates and metadata document folded away below (the timeline comes first). */
export function ComponentSummary({ name }: { name: string }) {
  const trpc = useTRPC();
  const component = useQuery(trpc.component.get.queryOptions({ name }, livePolling));
  if (component.isPending) return <LoadingBlock label="Loading component" rows={2} />;
  if (component.isError) return <ProblemNotice problem={describeProblem(component.error)} onRetry={() => void component.refetch()} />;
  const c = component.data;
  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0 space-y-1">
          <p className="text-sm text-muted">
            <Link href="/" className="hover:underline">
              Components
            </Link>{" "}
            /
          </p>
          <h1 className="flex flex-wrap items-center gap-3 text-2xl font-semibold tracking-tight">
            {c.name}
            <ComponentStatusPill metadata={c.metadata} />
          </h1>
          <p className="break-all font-mono text-xs text-muted">{c.root}</p>
          <ServedBy servedBy={c.servedBy} />
          <RolledBackNote metadata={c.metadata} />
        </div>
        <Link href={`/history?component=${encodeURIComponent(c.name)}`} className="text-sm text-accent hover:underline">
          History of {c.name} →
        </Link>
      </div>
      <details className="group rounded-lg border border-border bg-surface" data-testid="component-facts">
        <summary className="flex cursor-pointer list-none items-center gap-2 px-4 py-2.5 text-sm font-semibold [&::-webkit-details-marker]:hidden">
          <span aria-hidden="true" className="text-muted transition-transform group-open:rotate-90">
            ▸
          </span>
          Facts and metadata
          <span className="font-normal text-muted">· include, exclude, registered, updated, metadata document</span>
        </summary>
        <div className="grid gap-4 border-t border-border p-4 md:grid-cols-[1fr_1.4fr]">
          <dl className="space-y-3 rounded-lg border border-border bg-surface p-4">
            <GlobList label="Include" globs={c.include} />
            <GlobList label="Exclude" globs={c.exclude} />
            <div>
              <dt className="text-xs font-medium uppercase tracking-wide text-muted">Registered</dt>
              <dd className="mt-1 text-xs">
                <Time iso={c.createdAt} />
              </dd>
            </div>
            <div>
              <dt className="text-xs font-medium uppercase tracking-wide text-muted">Updated</dt>
              <dd className="mt-1 text-xs">
                <Time iso={c.updatedAt} />
              </dd>
            </div>
          </dl>
          <section aria-labelledby="component-metadata" className="rounded-lg border border-border bg-surface p-4">
            <h2 id="component-metadata" className="mb-3 text-xs font-medium uppercase tracking-wide text-muted">
              Metadata document
            </h2>
            <MetadataDocument document={c.metadata} />
          </section>
        </div>
      </details>
    </div>
  );
}
