/**
 * A routed job as its caller may read it (instance.job): state, where it ran,
 * and its outcome. Only the caller who asked (or an admin) sees it: the result
 * of a plan holds a confirm token.
 */
import type { Core } from "../core";
import { NotFoundError } from "../errors";
import { readJob, type JobError, type JobState } from "./jobs";

export interface RoutedJobView {
  id: string;
  operation: string;
  component: string | null;
  state: JobState;
  instanceId: string;
  requestedBy: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  result: unknown;
  error: JobError | null;
}

export async function readRoutedJob(core: Core, id: string, caller: { actor: string; admin: boolean }): Promise<RoutedJobView> {
  const job = await readJob(core, id);
  // Someone else's job is as unknown as a job that does not exist.
  if (!job || (job.actor !== caller.actor && !caller.admin)) throw new NotFoundError(`no job ${id} of yours`, { jobId: id });
  return {
    id: job.id,
    operation: job.operation,
    component: job.component,
    state: job.state,
    instanceId: job.instanceId,
    requestedBy: job.requestedBy,
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    result: job.result,
    error: job.error,
  };
}
