import type { Metadata } from "next";
import { FileHistoryView } from "@/components/file-history/FileHistoryView";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { EmptyState } from "@/components/feedback/EmptyState";
import { fileHistoryHref, pathOfQuery } from "@/lib/file-history-href";
import { fileHistoryInput, FILE_HISTORY_PAGE_SIZE, nextPage } from "@/lib/trpc/list-inputs";
import { HydrateClient, getQueryClient, requireViewer, trpc } from "@/lib/trpc/server";
import { displayPath } from "@/server/byte-paths";
import { componentNameOfSegment } from "@/lib/component-route";
import { ComponentBreadcrumb } from "@/components/ComponentBreadcrumb";

export const dynamic = "force-dynamic";

type Params = Promise<{ name: string }>;
type SearchParams = Promise<Record<string, string | string[] | undefined>>;


export async function generateMetadata({ params, searchParams }: { params: Params; searchParams: SearchParams }): Promise<Metadata> {
  const path = pathOfQuery(await searchParams);
  return { title: `${path ? `History of ${displayPath(path)}` : "File history"} · ${componentNameOfSegment((await params).name)} · Safety Net` };
}

/** Every checkpoint that changed one path of a component, its content at each version, a diff of any two, and Restore this version. */
export default async function FileHistoryPage({ params, searchParams }: { params: Params; searchParams: SearchParams }) {
  const name = componentNameOfSegment((await params).name);
  const path = pathOfQuery(await searchParams);
  const componentHref = `/components/${encodeURIComponent(name)}`;
  const viewer = await requireViewer(path ? fileHistoryHref(name, path) : `${componentHref}/files`);
  if (viewer.problem) return <ProblemNotice problem={viewer.problem} className="mx-auto max-w-xl" />;
  if (path) await getQueryClient().prefetchInfiniteQuery(trpc.file.history.infiniteQueryOptions(fileHistoryInput(name, path), nextPage));
  return (
    <HydrateClient>
      <div className="space-y-6">
        <div className="space-y-1">
          <ComponentBreadcrumb component={name}>files</ComponentBreadcrumb>
          <h1 className="break-all text-xl font-semibold">
            History of <span className="font-mono">{path ? displayPath(path) : "…"}</span>
          </h1>
          <p className="max-w-3xl text-sm text-muted">
            Every checkpoint that changed this path, newest first. Pick a version to see its content, tick two to compare them, and restore any version: only this
            path is changed, through the usual plan, confirmation and safety checkpoint.
          </p>
        </div>
        {path ? (
          <FileHistoryView component={name} path={path} role={viewer.data.role} pageSize={FILE_HISTORY_PAGE_SIZE} />
        ) : (
          <EmptyState title="Which file?">
            <form method="get" className="mb-3 flex flex-wrap items-center justify-center gap-2" aria-label="Open a file's history">
              <label htmlFor="history-path" className="sr-only">
                Path relative to the component root
              </label>
              <input id="history-path" name="path" required placeholder="src/app.ts" className="w-64 rounded-md border border-border bg-background px-3 py-1.5 font-mono text-xs" />
              <button type="submit" className="rounded-md border border-border px-3 py-1.5 text-xs">
                Show its history
              </button>
            </form>
            Open a file&apos;s history from its History link in a checkpoint&apos;s diff or entries, or add <code className="font-mono">?path=src/app.ts</code> to this
            address. From a terminal: <code className="font-mono">npx safetynet log {name} &lt;path&gt;</code>.
          </EmptyState>
        )}
      </div>
    </HydrateClient>
  );
}
