/**
 * The job queue between instances: graphile-worker on the metadata database
 * (its own schema, `<metadata schema>_jobs`). Each instance works one task
 * identifier, its own (`safetynet:route:<instance id>`), so a job goes to the
 * instance it was sent to and to no other; jobs are added with maxAttempts 1, so
 * a run that fails or whose process dies is never run again. Its LISTEN/NOTIFY
 * wake-up starts a job within milliseconds (README, "Many hosts": the figures
 * that chose it). The payload is only the RoutedJob id: what to run, for whom,
 * and the outcome live in that row (jobs.ts), which also makes the claim.
 *
 * Loaded only by a server on PostgreSQL metadata (never by the CLI).
 */
import pg from "pg";
import type { Logger as PinoLogger } from "pino";
import { Logger, run, makeWorkerUtils, type Runner, type WorkerUtils } from "graphile-worker";

export interface JobQueue {
  /** Hands job `jobId` to instance `instanceId`'s worker. */
  enqueue(instanceId: string, jobId: string): Promise<void>;
  /** Stops taking jobs and waits for those running. */
  stop(): Promise<void>;
}

export interface JobQueueOptions {
  connectionString: string;
  /** The metadata schema; the queue's tables live beside it. */
  metadataSchema: string;
  instanceId: string;
  /** Jobs this instance runs at once (different components; one component is serialized by its lock). */
  concurrency: number;
  log: PinoLogger;
  /** Runs one job; never throws (the outcome is recorded in the job's row). */
  onJob(jobId: string): Promise<void>;
}

export function taskIdentifierOf(instanceId: string): string {
  return `safetynet:route:${instanceId}`;
}

export function queueSchemaOf(metadataSchema: string): string {
  return `${metadataSchema}_jobs`;
}

function quietLogger(log: PinoLogger): Logger {
  // graphile-worker logs each job at info: ours are in the RoutedJob rows and in history already.
  return new Logger(() => (level, message) => {
    if (level === "error") log.error({ event: "jobs" }, message);
    else if (level === "warning") log.warn({ event: "jobs" }, message);
    else log.debug({ event: "jobs" }, message);
  });
}

export async function startJobQueue(options: JobQueueOptions): Promise<JobQueue> {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.concurrency + 2, idleTimeoutMillis: 10_000 });
  // A broken idle connection (a database restart) must not end the process; the next query reconnects.
  pool.on("error", () => undefined);
  const schema = queueSchemaOf(options.metadataSchema);
  const logger = quietLogger(options.log);
  const identifier = taskIdentifierOf(options.instanceId);
  let runner: Runner | null = null;
  let utils: WorkerUtils | null = null;
  try {
    utils = await makeWorkerUtils({ pgPool: pool, schema, logger });
    await utils.migrate();
    runner = await run({
      pgPool: pool,
      schema,
      logger,
      concurrency: options.concurrency,
      noHandleSignals: true,
      // A fallback only: new jobs wake the worker at once through LISTEN/NOTIFY.
      pollInterval: 2_000,
      taskList: {
        [identifier]: async (payload) => {
          const jobId = (payload as { jobId?: unknown } | null)?.jobId;
          if (typeof jobId === "string") await options.onJob(jobId);
        },
      },
    });
  } catch (error) {
    await runner?.stop().catch(() => undefined);
    await Promise.resolve(utils?.release()).catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw error;
  }
  const started = { runner, utils };
  return {
    enqueue: async (instanceId, jobId) => {
      await started.utils.addJob(taskIdentifierOf(instanceId), { jobId }, { maxAttempts: 1, jobKey: jobId });
    },
    stop: async () => {
      await started.runner.stop().catch(() => undefined);
      await Promise.resolve(started.utils.release()).catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}
