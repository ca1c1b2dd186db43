/**
 * The routed jobs' at-most-once guarantee, on the metadata store (both): of any
 * number of workers handed one job, one claims it; a withdrawn job is claimed by
 * none; an outcome is recorded once. And, on PostgreSQL, the queue delivers each
 * job to the instance it was sent to, once, even with two workers of that instance
 * (the claim, not the queue, is what makes a job sent twice run once).
 */
import { describe, expect, it } from "vitest";
import pino from "pino";
import { cleanUpAfterEach, openWorkspace } from "../../test/support/workspace";
import { createTestDatabase } from "../../test/support/postgres";
import { waitFor } from "../../test/support/processes";
import { cancelQueuedJob, claimJob, createJob, errorOfJob, finishJob, orphanedJobs, readJob, serializeError } from "./jobs";
import { ConflictError } from "../errors";
import { startJobQueue, type JobQueue } from "./queue";

cleanUpAfterEach();

const NEW_JOB = { operation: "rollback.plan", component: "app", input: { checkpointId: "cp_x" }, actor: "token:agent", requestedBy: "in_a", instanceId: "in_b" };

describe("routed jobs in the metadata store", () => {
  it("hands a job to exactly one of many workers claiming it at once", async () => {
    const { core } = openWorkspace();
    const id = await createJob(core, NEW_JOB);
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => claimJob(core, id, `run_${i}`)));
    const winners = claims.filter((c) => c !== null);
    expect(winners).toHaveLength(1);
    expect(winners[0]).toMatchObject({ id, state: "running", actor: "token:agent", input: { checkpointId: "cp_x" } });
    expect(await claimJob(core, id, "run_late")).toBeNull();
  });

  it("never runs a job its caller withdrew, and cannot withdraw one a worker already has", async () => {
    const { core } = openWorkspace();
    const withdrawn = await createJob(core, NEW_JOB);
    expect(await cancelQueuedJob(core, withdrawn)).toBe(true);
    expect(await claimJob(core, withdrawn, "run_1")).toBeNull();
    expect((await readJob(core, withdrawn))?.state).toBe("cancelled");

    const taken = await createJob(core, NEW_JOB);
    expect(await claimJob(core, taken, "run_1")).not.toBeNull();
    expect(await cancelQueuedJob(core, taken)).toBe(false);
  });

  it("records an outcome once: a second finish (a late worker, a restart's settling) changes nothing", async () => {
    const { core } = openWorkspace();
    const id = await createJob(core, NEW_JOB);
    await claimJob(core, id, "run_1");
    expect(await finishJob(core, id, { result: { ok: 1 } })).toBe(true);
    expect(await finishJob(core, id, { error: serializeError(new Error("late")) })).toBe(false);
    expect(await readJob(core, id)).toMatchObject({ state: "succeeded", result: { ok: 1 }, error: null });
  });

  it("lists as orphaned the jobs an earlier run of the instance left running, not the current run's", async () => {
    const { core } = openWorkspace();
    const [old, current, other] = await Promise.all([createJob(core, NEW_JOB), createJob(core, NEW_JOB), createJob(core, { ...NEW_JOB, instanceId: "in_c" })]);
    await claimJob(core, old, "run_old");
    await claimJob(core, current, "run_now");
    await claimJob(core, other, "run_old");
    expect((await orphanedJobs(core, "in_b", "run_now")).map((j) => j.id)).toEqual([old]);
  });

  it("carries a core error across with its code, message and details", () => {
    const carried = errorOfJob(serializeError(new ConflictError('component "app" is locked', { holder: { pid: 7 } })));
    expect(carried).toBeInstanceOf(ConflictError);
    expect(carried).toMatchObject({ code: "CONFLICT", message: 'component "app" is locked', details: { holder: { pid: 7 } } });
  });
});

describe("the job queue between instances (graphile-worker on PostgreSQL)", () => {
  it("delivers each job once, to the instance it was sent to, even with two workers of that instance", async () => {
    const database = await createTestDatabase("job_queue");
    const log = pino({ level: "silent" });
    const ran: { worker: string; jobId: string }[] = [];
    const queues: JobQueue[] = [];
    try {
      const start = (worker: string, instanceId: string) =>
        startJobQueue({ connectionString: database.url, metadataSchema: "safetynet", instanceId, concurrency: 2, log, onJob: async (jobId) => void ran.push({ worker, jobId }) });
      // Sequentially: the queue's schema is made by the first.
      for (const [worker, instanceId] of [["b1", "in_b"], ["b2", "in_b"], ["c", "in_c"]] as const) queues.push(await start(worker, instanceId));
      const forB = Array.from({ length: 30 }, (_, i) => `job_b${i}`);
      const forC = Array.from({ length: 5 }, (_, i) => `job_c${i}`);
      for (const jobId of forB) await queues[0]!.enqueue("in_b", jobId);
      for (const jobId of forC) await queues[2]!.enqueue("in_c", jobId);
      expect(await waitFor(() => ran.length >= forB.length + forC.length, 60_000)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(ran.map((r) => r.jobId).sort()).toEqual([...forB, ...forC].sort());
      expect(ran.filter((r) => r.worker === "c").map((r) => r.jobId).sort()).toEqual([...forC].sort());
    } finally {
      await Promise.all(queues.map((q) => q.stop()));
      await database.drop();
    }
  });
});
