import type { Metadata } from "next";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { SessionsList } from "@/components/sessions/SessionsList";
import { nextPage, sessionsInput, SESSIONS_PAGE_SIZE } from "@/lib/trpc/list-inputs";
import { HydrateClient, load, requireViewer, trpc } from "@/lib/trpc/server";
import { componentNameOfSegment } from "@/lib/component-route";
import { ComponentBreadcrumb } from "@/components/ComponentBreadcrumb";

export const dynamic = "force-dynamic";

type Params = Promise<{ name: string }>;


export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { name } = await params;
  return { title: `Sessions of ${componentNameOfSegment(name)} · Safety Net` };
}

/** Every session of a component (its checkpoints grouped by task), latest first, each with Roll back this session. */
export default async function ComponentSessionsPage({ params }: { params: Params }) {
  const name = componentNameOfSegment((await params).name);
  const componentHref = `/components/${encodeURIComponent(name)}`;
  const viewer = await requireViewer(`${componentHref}/sessions`);
  if (viewer.problem) return <ProblemNotice problem={viewer.problem} className="mx-auto max-w-xl" />;
  const sessions = await load((qc) => qc.fetchInfiniteQuery(trpc.session.list.infiniteQueryOptions(sessionsInput(name, SESSIONS_PAGE_SIZE), nextPage)));
  if (sessions.problem) return <ProblemNotice problem={sessions.problem} className="mx-auto max-w-xl" />;
  return (
    <HydrateClient>
      <div className="space-y-6">
        <div className="space-y-1">
          <ComponentBreadcrumb component={name} />
          <h1 className="text-xl font-semibold">Sessions of {name}</h1>
          <p className="max-w-3xl text-sm text-muted">
            Checkpoints grouped by the task they name (an agent hook&apos;s session id, or <code className="font-mono">--task</code>). An agent hook takes a checkpoint
            before each step, so a session&apos;s first checkpoint holds the component as it was before the session: rolling back to it undoes the whole session. The
            counts are net files added, modified and deleted from that checkpoint to the state after the last step.
          </p>
        </div>
        <SessionsList component={name} role={viewer.data.role} pageSize={SESSIONS_PAGE_SIZE} />
      </div>
    </HydrateClient>
  );
}
