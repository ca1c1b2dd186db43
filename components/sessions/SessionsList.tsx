"use client";

import Link from "next/link";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { RollbackBlockedNote, RollbackDialog } from "@/components/RollbackDialog";
import { EmptyState } from "@/components/feedback/EmptyState";
import { LoadingBlock } from "@/components/feedback/LoadingBlock";
import { ProblemNotice } from "@/components/feedback/ProblemNotice";
import { Button } from "@/components/ui/Button";
import { CheckpointIdLink } from "@/components/ui/CopyButton";
import { Time } from "@/components/ui/Time";
import { describeProblem } from "@/lib/trpc/api-problem";
import { nextPage, sessionsInput } from "@/lib/trpc/list-inputs";
import { formatCount } from "@/lib/format";
import { roleAllows, type SessionItem, type ViewerRole } from "@/lib/trpc/types";
import { livePolling } from "@/lib/trpc/live-polling";

function rollbackBlocked(session: SessionItem, role: ViewerRole): string | null {
  if (!roleAllows(role, "agent")) return `Rolling back needs the agent role or higher; your token has ${role}`;
  if (!session.rollbackTo) return `The session's first checkpoint (${session.firstCheckpointId}) has expired: nothing holds the state before it any more`;
  return null;
}

function ChangeCounts({ session }: { session: SessionItem }) {
  const { added, modified, deleted } = session.changes;
  return (
    <span className="tabular-nums" data-testid="session-changes" title="Files added, modified and deleted, net, from the session's first checkpoint to the state after its last step">
      <span className="text-ok">+{formatCount(added)}</span> <span className="text-warn">~{formatCount(modified)}</span> <span className="text-bad">-{formatCount(deleted)}</span>
    </span>
  );
}

function SessionCard({ session, role }: { session: SessionItem; role: ViewerRole }) {
  const blocked = rollbackBlocked(session, role);
  return (
    <article data-testid="session" data-task={session.task} aria-labelledby={`session-${session.firstCheckpointId}`} className="rounded-lg border border-border bg-surface p-4">
      <div className="flex flex-wrap items-start justify-between gap-x-4 gap-y-2">
        <div className="min-w-0 space-y-1">
          <h3 id={`session-${session.firstCheckpointId}`} className="break-all text-sm font-semibold">
            <span className="sr-only">Session </span>
            <span className="font-mono">{session.task}</span>
          </h3>
          <p className="text-xs text-muted">
            <Time iso={session.startedAt} /> – <Time iso={session.lastAt} mode="absolute" />
          </p>
        </div>
        <RollbackDialog
          target={{ id: session.rollbackTo ?? session.firstCheckpointId, component: session.component, createdAt: session.startedAt, reason: `the state before session ${session.task} began` }}
          disabledReason={blocked}
          trigger={{ label: "Roll back this session…", className: "px-3 py-1.5 text-xs" }}
        />
      </div>
      <dl className="mt-3 flex flex-wrap gap-x-5 gap-y-1 text-xs text-muted">
        <div>
          <dt className="inline">agent </dt>
          <dd className="inline font-medium text-foreground">{session.agent ?? "—"}</dd>
        </div>
        <div>
          <dt className="inline">steps </dt>
          <dd className="inline font-medium tabular-nums text-foreground" data-testid="session-steps">
            {formatCount(session.steps)}
          </dd>
        </div>
        <div>
          <dt className="inline">changed </dt>
          <dd className="inline">
            <ChangeCounts session={session} />
            {session.closedBy ? null : <span title="No checkpoint was taken after its last step yet, so that step's changes are not counted"> so far</span>}
          </dd>
        </div>
        <div className="inline-flex items-center gap-1">
          <dt className="inline">before it </dt>
          <dd className="inline-flex items-center gap-1">
            <CheckpointIdLink id={session.firstCheckpointId} />
          </dd>
        </div>
      </dl>
      <RollbackBlockedNote reason={blocked} role={role} />
    </article>
  );
}

/**
 * A component's sessions (its checkpoints grouped by the task they name),
 * latest activity first, each with Roll back this session: the usual plan and
 * confirmation, to the session's first checkpoint (the state before its first step).
 */
export function SessionsList({ component, role, pageSize, allHref }: { component: string; role: ViewerRole; pageSize: number; allHref?: string }) {
  const trpc = useTRPC();
  const sessions = useInfiniteQuery(trpc.session.list.infiniteQueryOptions(sessionsInput(component, pageSize), { ...nextPage, ...livePolling }));
  if (!sessions.data) {
    return sessions.isError ? (
      <ProblemNotice problem={describeProblem(sessions.error)} onRetry={() => void sessions.refetch()} />
    ) : (
      <LoadingBlock label="Loading the sessions" rows={2} />
    );
  }
  const items = sessions.data.pages.flatMap((page) => page.items);
  if (items.length === 0) {
    return (
      <EmptyState title="No sessions yet">
        Checkpoints join a session when they name a task: an agent hook passes its session id, or from a terminal{" "}
        <code className="font-mono">npx safetynet checkpoint create {component} --agent my-agent --task TASK-42</code>.
      </EmptyState>
    );
  }
  return (
    <div className="space-y-3">
      <ol aria-label={`Sessions of ${component}`} className="space-y-3">
        {items.map((session) => (
          <li key={`${session.task}\u0000${session.firstCheckpointId}`}>
            <SessionCard session={session} role={role} />
          </li>
        ))}
      </ol>
      <div className="flex flex-wrap items-center gap-3 text-sm text-muted">
        {allHref ? (
          sessions.hasNextPage ? (
            <Link href={allHref} className="text-accent hover:underline">
              All sessions of {component}
            </Link>
          ) : null
        ) : sessions.hasNextPage ? (
          <Button onClick={() => void sessions.fetchNextPage()} disabled={sessions.isFetchingNextPage}>
            {sessions.isFetchingNextPage ? "Loading…" : "Load older"}
          </Button>
        ) : (
          <span>The first session of this component.</span>
        )}
        {sessions.isFetchNextPageError ? <span className="text-bad">Loading more failed: {sessions.error?.message}</span> : null}
      </div>
    </div>
  );
}
