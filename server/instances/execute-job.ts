/**
 * The executing side of a routed job: claim it (at most once: jobs.ts), run the
 * operation it names with its input validated again and as its original caller
 * (the actor history records), and record the outcome for the caller's instance.
 */
import type { Core } from "../core";
import { InvalidInputError } from "../errors";
import { newId } from "../ids";
import type { InstanceIdentity } from "./identity";
import { claimJob, finishJob, serializeError } from "./jobs";
import { isOperationName, workspaceOperations, type RunContext } from "./operations";

interface AnyOperation {
  input: { parse(input: unknown): unknown };
  run(core: Core, input: unknown, actor: string, context: RunContext): Promise<unknown>;
}

function toPlainJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null, (_key, v: unknown) => (typeof v === "bigint" ? Number(v) : v))) as unknown;
}

/** Jobs this process is running now: any other job of this run still marked running lost its outcome (settle.ts). */
export const jobsInProgress = new Set<string>();

export async function executeJob(core: Core, self: Pick<InstanceIdentity, "runId">, jobId: string): Promise<void> {
  const job = await claimJob(core, jobId, self.runId, { rollbackId: (j) => (j.operation === "rollback.execute" ? newId("rb") : null) });
  if (!job) return;
  jobsInProgress.add(jobId);
  try {
    if (!isOperationName(job.operation)) throw new InvalidInputError(`this instance does not know the operation ${job.operation} (a newer version sent it?)`, { operation: job.operation });
    const operation = workspaceOperations[job.operation] as unknown as AnyOperation;
    const input = operation.input.parse(job.input);
    const result = await operation.run(core, input, job.actor, { rollbackId: job.rollbackId ?? undefined });
    await finishJob(core, jobId, { result: toPlainJson(result) });
  } catch (error) {
    // Unrecorded (the metadata store unreachable): settled once it is back (runtime.ts), from what recovery finds.
    await finishJob(core, jobId, { error: serializeError(error) }).catch((recordError: unknown) =>
      core.log.error({ event: "jobs.finish", jobId, err: recordError }, "the routed job's failure could not be recorded"),
    );
  } finally {
    jobsInProgress.delete(jobId);
  }
}
