/**
 * Where a workspace operation runs. Here, when this process can reach the
 * component's root (or there is nowhere else to send it: no instance runtime, as
 * in the CLI, SQLite metadata, or no instance ever served that root, whose local
 * refusal then says why). Otherwise on a live instance whose roots contain it,
 * through the job queue, waiting for the outcome and returning it (or throwing
 * its error) as if it had run here. No live instance, or none that picks the job
 * up within the pickup bound: 503, naming the instance last seen serving it.
 */
import path from "node:path";
import type { Actor, Core } from "../core";
import { UnavailableError } from "../errors";
import { isInside } from "../scan/paths";
import { describeInstance, instancesServing, isLive, type InstanceRecord } from "./liveness";
import { readInstances } from "./registry";
import { cancelQueuedJob, createJob, errorOfJob, readJob, type JobRecord } from "./jobs";
import { workspaceOperations, type OperationInput, type OperationName, type OperationResult, type OperationTarget } from "./operations";
import { currentInstance, type InstanceRuntime } from "./runtime";

interface ResolvedTarget {
  /** For messages and the job row. */
  component: string;
  root: string;
}

async function resolveTarget(core: Core, target: OperationTarget, name: OperationName, input: unknown): Promise<ResolvedTarget | null> {
  if ("checkpointId" in target) {
    const row = await core.db.checkpoint.findUnique({ where: { id: target.checkpointId }, select: { component: { select: { name: true, root: true } } } });
    return row ? { component: row.component.name, root: row.component.root } : null;
  }
  if ("component" in target) {
    const row = await core.db.component.findUnique({ where: { name: target.component }, select: { name: true, root: true } });
    return row ? { component: row.name, root: row.root } : null;
  }
  // A relative root means "from where the caller stands": only this process can say where that is.
  if (!path.isAbsolute(target.root)) return null;
  const named = name === "component.upsert" ? (input as OperationInput<"component.upsert">).component.name : target.root;
  return { component: named, root: path.resolve(target.root) };
}

function reachableHere(core: Core, root: string): boolean {
  return core.config.allowedRoots.some((allowed) => isInside(allowed, root));
}

/** "no live instance serves component X (last seen: in_… on host at …)". */
export function noLiveInstanceMessage(component: string, lastSeen: Pick<InstanceRecord, "id" | "host" | "heartbeatAt"> | null): string {
  return `no live instance serves component ${component} (last seen: ${lastSeen ? describeInstance(lastSeen) : "never"})`;
}

function unavailable(target: ResolvedTarget, lastSeen: InstanceRecord | null): UnavailableError {
  return new UnavailableError(noLiveInstanceMessage(target.component, lastSeen), {
    component: target.component,
    root: target.root,
    lastSeen: lastSeen ? { instanceId: lastSeen.id, host: lastSeen.host, at: lastSeen.heartbeatAt.toISOString() } : null,
  });
}

/** Runs `name` here or on the instance that can reach its files; the same result and errors either way. */
export async function runWorkspaceOperation<N extends OperationName>(core: Core, name: N, input: OperationInput<N>, actor: Actor): Promise<OperationResult<N>> {
  const operation = workspaceOperations[name] as unknown as {
    target(input: OperationInput<N>): OperationTarget;
    run(core: Core, input: OperationInput<N>, actor: Actor, context: object): Promise<OperationResult<N>>;
  };
  const local = () => operation.run(core, input, actor, {});
  const runtime = currentInstance();
  if (!runtime?.queue || runtime.core.config.dataDir !== core.config.dataDir) return local();
  const target = await resolveTarget(core, operation.target(input), name, input);
  if (!target || reachableHere(core, target.root)) return local();
  const { now, instances } = await readInstances(core);
  const serving = instancesServing(target.root, instances.filter((i) => i.id !== runtime.self.id), now, runtime.liveness.staleMs);
  if (!serving.lastSeen) return local();
  const job = await runElsewhere(core, runtime, { name, input, actor, target, candidates: serving.live, lastSeen: serving.lastSeen });
  return job.result as OperationResult<N>;
}

interface RemoteRequest {
  name: OperationName;
  input: unknown;
  actor: Actor;
  target: ResolvedTarget;
  candidates: InstanceRecord[];
  lastSeen: InstanceRecord;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runElsewhere(core: Core, runtime: InstanceRuntime, request: RemoteRequest): Promise<JobRecord> {
  const queue = runtime.queue;
  if (!queue) throw unavailable(request.target, request.lastSeen);
  const deadline = Date.now() + runtime.routing.pickupMs;
  for (const candidate of request.candidates) {
    if (Date.now() >= deadline) break;
    const jobId = await createJob(core, {
      operation: request.name,
      component: request.target.component,
      input: request.input,
      actor: request.actor,
      requestedBy: runtime.self.id,
      instanceId: candidate.id,
    });
    await queue.enqueue(candidate.id, jobId);
    const picked = await waitForPickup(core, jobId, deadline);
    if (!picked && (await cancelQueuedJob(core, jobId))) continue;
    const done = await waitForOutcome(core, runtime, jobId, candidate);
    if (done.state === "succeeded") return done;
    if (done.state === "failed" && done.error) throw errorOfJob(done.error);
    throw unavailable(request.target, candidate);
  }
  // Nobody took it in time: the freshest of those tried (or the last seen) is named.
  const { now, instances } = await readInstances(core);
  const latest = instancesServing(request.target.root, instances.filter((i) => i.id !== runtime.self.id), now, runtime.liveness.staleMs).lastSeen;
  throw unavailable(request.target, latest ?? request.lastSeen);
}

/** Polls fast at first (a job is usually picked up within milliseconds), then less often. */
async function waitForPickup(core: Core, jobId: string, deadline: number): Promise<boolean> {
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    const job = await readJob(core, jobId);
    if (job && job.state !== "queued") return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
  }
}

/**
 * Waits for the job to finish, however long it runs, while its instance is live.
 * An instance that stops mid-job settles the job when it restarts (its journal
 * recovery completes a rollback first): the caller waits up to the lost bound
 * for that, then gets a 503 naming the job, whose outcome job.get gives later.
 */
async function waitForOutcome(core: Core, runtime: InstanceRuntime, jobId: string, executor: InstanceRecord): Promise<JobRecord> {
  let lostSince: number | null = null;
  let checkedAt = Date.now();
  for (let delay = 5; ; delay = Math.min(delay * 2, 250)) {
    const job = await readJob(core, jobId);
    if (!job) throw new UnavailableError(`job ${jobId} disappeared from the metadata store`, { jobId });
    if (job.state !== "queued" && job.state !== "running") return job;
    if (Date.now() - checkedAt >= runtime.liveness.heartbeatMs) {
      checkedAt = Date.now();
      const { now, instances } = await readInstances(core);
      const current = instances.find((i) => i.id === executor.id) ?? executor;
      if (isLive(current, now, runtime.liveness.staleMs)) lostSince = null;
      else {
        lostSince ??= Date.now();
        if (Date.now() - lostSince >= runtime.routing.lostMs) {
          throw new UnavailableError(
            `instance ${describeInstance(current)} (last seen) stopped while running ${job.operation} of component ${job.component ?? "?"} (job ${jobId}); ` +
              `its outcome is recorded when that instance restarts: ask job.get {"id":"${jobId}"}`,
            { jobId, instanceId: current.id, host: current.host, lastSeen: current.heartbeatAt.toISOString() },
          );
        }
      }
    }
    await sleep(delay);
  }
}
