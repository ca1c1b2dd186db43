/**
 * At start-up, after journal recovery: the jobs an earlier run of this instance
 * was running when it died get the outcome that is now known; and after the
 * metadata store was unreachable, the jobs of this run that ended meanwhile. A routed rollback
 * gets its rollback's recorded outcome (recovered by the journal, or failed, or
 * still pending); any other job is reported as interrupted. None is run again.
 */
import type { Core } from "../core";
import { finishJob, orphanedJobs, type JobError, type JobRecord } from "./jobs";

async function outcomeOf(core: Core, job: JobRecord): Promise<{ result: unknown } | { error: JobError }> {
  const interrupted = (message: string, details: Record<string, unknown> = {}) => ({ error: { code: "FAILED" as const, message, details: { jobId: job.id, interrupted: true, ...details } } });
  if (job.operation !== "rollback.execute" || !job.rollbackId) {
    return interrupted(`the instance running ${job.operation} of component ${job.component ?? "?"} stopped before it finished (job ${job.id}); it is not run again`);
  }
  const rollback = await core.db.rollback.findUnique({ where: { id: job.rollbackId } });
  if (!rollback) return interrupted(`the instance stopped before rollback ${job.rollbackId} started: nothing was changed (job ${job.id})`, { rollbackId: job.rollbackId });
  if (rollback.outcome === "succeeded" || rollback.outcome === "recovered") {
    const component = await core.db.component.findUnique({ where: { id: rollback.componentId }, select: { name: true } });
    return {
      result: {
        rollbackId: rollback.id,
        checkpointId: rollback.checkpointId,
        component: component?.name ?? job.component,
        outcome: rollback.outcome,
        durationMs: rollback.durationMs ?? 0,
        restored: rollback.restored,
        deleted: rollback.deleted,
        unchanged: 0,
        unstable: [],
        bytes: Number(rollback.bytes),
        safetyCheckpointId: rollback.safetyCheckpointId,
        restoredPaths: [],
        deletedPaths: [],
        restoredDatabases: [],
        movedObstacles: [],
        paths: null,
        // Completed by journal recovery after the instance restarted: the path lists are not kept.
        recovered: true,
      },
    };
  }
  const pending = rollback.outcome === "running";
  return {
    error: {
      code: "FAILED",
      message: pending
        ? `rollback ${rollback.id} was interrupted and is still pending: its instance completes it from its journal (safetynet recover)`
        : `rollback ${rollback.id} was interrupted: ${rollback.error ?? "its instance stopped"}`,
      details: { jobId: job.id, rollbackId: rollback.id, interrupted: true, pending },
    },
  };
}

export async function settleOrphanedJobs(core: Core, self: { id: string; runId: string }, inProgress?: ReadonlySet<string>): Promise<number> {
  let settled = 0;
  for (const job of await orphanedJobs(core, self.id, self.runId, inProgress)) {
    if (await finishJob(core, job.id, await outcomeOf(core, job))) settled++;
  }
  return settled;
}
