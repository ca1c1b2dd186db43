/**
 * This server process as an instance: registered at start-up (after journal
 * recovery), its heartbeat refreshed on a timer, its job worker running (with
 * PostgreSQL metadata: several instances; SQLite has one, which runs everything
 * itself), the jobs an earlier run left settled, and on a clean shutdown its
 * worker drained and the instance marked stopped. Kept on globalThis: the web
 * build bundles server modules more than once (see server/api/server-core.ts).
 */
import type { Core } from "../core";
import { metadataStore } from "../db";
import { instanceIdentity, type InstanceIdentity } from "./identity";
import { livenessSettings, type LivenessSettings } from "./liveness";
import { deregisterInstance, heartbeat, registerInstance } from "./registry";
import type { JobQueue } from "./queue";
import { executeJob } from "./execute-job";
import { settleOrphanedJobs } from "./settle";
import { jobsInProgress } from "./execute-job";
import { recoverAtStartup } from "../rollback/recover";

/** Completes what an outage interrupted; false when it could not yet (tried again after the next heartbeat). */
async function reconcileAfterOutage(core: Core, self: InstanceIdentity): Promise<boolean> {
  try {
    for (const result of await recoverAtStartup(core, "system")) core.log.info({ event: "instance.reconnect.recover", ...result }, `interrupted rollback ${result.rollbackId} ${result.outcome}`);
    const settled = await settleOrphanedJobs(core, self, jobsInProgress);
    core.log.info({ event: "instance.reconnect", settledJobs: settled }, "the metadata store is reachable again");
    return true;
  } catch (error) {
    core.log.warn({ event: "instance.reconnect", err: error }, "after the metadata store came back, interrupted work could not be settled yet");
    return false;
  }
}

export interface RoutingSettings {
  /** How long a caller waits for a live instance to pick its job up before answering 503. */
  pickupMs: number;
  /** How long a caller waits for an instance that stopped mid-job to come back and settle it. */
  lostMs: number;
}

export interface InstanceRuntime {
  core: Core;
  self: InstanceIdentity;
  liveness: LivenessSettings;
  routing: RoutingSettings;
  /** null with SQLite metadata: nothing is routed. */
  queue: JobQueue | null;
  stop(): Promise<void>;
}

/** Jobs one instance runs at once (one component's are serialized by its lock anyway). */
const JOB_CONCURRENCY = 4;

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = Number(env[name]?.trim() || NaN);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

export function routingSettings(env: NodeJS.ProcessEnv = process.env): RoutingSettings {
  return { pickupMs: positive(env, "SAFETYNET_ROUTE_PICKUP_MS", 10_000), lostMs: positive(env, "SAFETYNET_ROUTE_LOST_MS", 120_000) };
}

const SLOT = Symbol.for("safetynet.instanceRuntime");
const slot = globalThis as { [SLOT]?: InstanceRuntime };

/** Async work the web server awaits (within its shutdown deadline) before it exits on SIGTERM / SIGINT: scripts/next-server.mjs. */
const SHUTDOWN_HOOKS = Symbol.for("safetynet.shutdownHooks");

function onShutdown(hook: () => Promise<void>): void {
  const hooks = ((globalThis as { [SHUTDOWN_HOOKS]?: (() => Promise<void>)[] })[SHUTDOWN_HOOKS] ??= []);
  hooks.push(hook);
}

export function currentInstance(): InstanceRuntime | null {
  return slot[SLOT] ?? null;
}

export async function startInstance(core: Core): Promise<InstanceRuntime> {
  const existing = slot[SLOT];
  if (existing) return existing;
  const self = instanceIdentity(core.config);
  const liveness = livenessSettings();
  await registerInstance(core, self);
  const store = metadataStore(core.config.dataDir);
  let queue: JobQueue | null = null;
  if (store?.kind === "postgres") {
    const { startJobQueue } = await import("./queue");
    queue = await startJobQueue({
      connectionString: store.connectionString,
      metadataSchema: store.schema,
      instanceId: self.id,
      concurrency: JOB_CONCURRENCY,
      log: core.log,
      onJob: (jobId) => executeJob(core, self, jobId),
    });
  }
  // A heartbeat that fails means the metadata store (the network) is gone; the first that works again completes the
  // rollbacks interrupted meanwhile from their journals and records the outcomes of the jobs that ended unrecorded.
  let outage = false;
  let reconciling: Promise<void> | null = null;
  const timer = setInterval(() => {
    heartbeat(core, self).then(
      () => {
        if (!outage || reconciling) return;
        outage = false;
        reconciling = reconcileAfterOutage(core, self)
          .then((done) => {
            if (!done) outage = true;
          })
          .finally(() => (reconciling = null));
      },
      (error: unknown) => {
        outage = true;
        core.log.warn({ event: "instance.heartbeat", err: error }, "the instance heartbeat could not be written");
      },
    );
  }, liveness.heartbeatMs);
  timer.unref();
  let stopping: Promise<void> | null = null;
  const runtime: InstanceRuntime = {
    core,
    self,
    liveness,
    routing: routingSettings(),
    queue,
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(timer);
        await queue?.stop();
        await deregisterInstance(core, self.id).catch(() => undefined);
        if (slot[SLOT] === runtime) delete slot[SLOT];
      })()),
  };
  slot[SLOT] = runtime;
  onShutdown(runtime.stop);
  const settled = await settleOrphanedJobs(core, self);
  core.log.info({ event: "instance.start", instanceId: self.id, host: self.host, roots: self.roots, routing: Boolean(queue), settledJobs: settled }, `instance ${self.id} registered`);
  return runtime;
}
