/**
 * What the web server does once at start, before it answers requests (called
 * from instrumentation.ts): open the core (applies pending migrations), install
 * the Prometheus observer, complete rollbacks interrupted by a crash, and on the
 * very first start create the admin token and print a one-time login URL; then
 * start the in-process retention schedule (hourly unless configured otherwise)
 * and, when SAFETYNET_VERIFY_INTERVAL_MS is set, the integrity sweep. The
 * process registers as an instance (server/instances/) once recovery is done.
 */
import { describeBootstrap, ensureAdminToken } from "../auth/bootstrap";
import { installPrometheusObserver } from "../audit/prometheus";
import { recoverAtStartup } from "../rollback/recover";
import { startIntegritySchedule, startRetentionSchedule } from "../retention";
import { loadConfig } from "../config";
import { databaseReady, loadMetadataDriver } from "../db";
import { serverCore } from "./server-core";
import { startHookSocket } from "./hook-socket";
import { startLocalSocket } from "./local-socket";
import { changeTracker, enableChangeTracking } from "../scan/change-tracker";
import { startInstance } from "../instances/runtime";

/** The address people can open: the wildcard binds are shown as loopback. */
export function publicBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  const port = env.PORT ?? "3000";
  const host = env.HOST;
  if (!host && env.__NEXT_PRIVATE_ORIGIN) return env.__NEXT_PRIVATE_ORIGIN;
  const shown = !host || host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

const STARTED = Symbol.for("safetynet.serverStarted");

/**
 * Whole-component scans re-read only what Watchman reports changed
 * (server/scan/change-tracker.ts) unless SAFETYNET_WATCH=off; without Watchman
 * installed (or SAFETYNET_WATCHMAN naming no binary) they walk. The watches are
 * removed when the server exits.
 */
async function startChangeTracking(core: ReturnType<typeof serverCore>): Promise<void> {
  const setting = (process.env.SAFETYNET_WATCH ?? "on").trim().toLowerCase();
  const log = {
    info: (message: string) => core.log.info({ event: "watchman" }, message),
    warn: (message: string) => core.log.warn({ event: "watchman" }, message),
  };
  if (setting === "off") {
    log.info("SAFETYNET_WATCH=off: scans walk the whole tree");
    return;
  }
  if (setting !== "on") log.warn(`SAFETYNET_WATCH must be on or off, got ${JSON.stringify(process.env.SAFETYNET_WATCH)}: taken as on`);
  const binary = process.env.SAFETYNET_WATCHMAN?.trim() || undefined;
  if (await enableChangeTracking({ log, binary })) process.once("exit", () => changeTracker()?.stopSync());
}

/**
 * With objects in a bucket, a server whose credentials cannot write there is
 * refused at start, with the bucket's reason, rather than at its first
 * checkpoint; then what a crash left staged is uploaded.
 */
async function checkBucket(core: ReturnType<typeof serverCore>): Promise<void> {
  const tier = core.store.bucket;
  if (!tier) return;
  try {
    await tier.bucket.checkWritable();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    core.log.error({ event: "startup.bucket", bucket: tier.location, error: reason }, "object store bucket not writable");
    process.stderr.write(`safetynet: cannot start: the object store ${tier.location} is not usable: ${reason}\n`);
    process.exit(1);
  }
  await core.store.flushRemote().catch((error: unknown) => core.log.warn({ event: "startup.bucket", error: error instanceof Error ? error.message : String(error) }, "staged objects not uploaded yet"));
  core.log.info({ event: "startup.bucket", bucket: tier.location }, "objects live in the bucket; this data directory keeps a cache");
}

export async function startServer(): Promise<void> {
  const slot = globalThis as { [STARTED]?: boolean };
  if (slot[STARTED]) return;
  slot[STARTED] = true;
  // The metadata store's driver first (PostgreSQL's, when configured); routes then share this core.
  await loadMetadataDriver(loadConfig());
  const core = serverCore();
  await databaseReady(core.config.dataDir);
  installPrometheusObserver();
  await checkBucket(core);
  for (const result of await recoverAtStartup(core, "system")) {
    core.log[result.outcome === "failed" ? "error" : "info"]({ event: "startup.recover", ...result }, `interrupted rollback ${result.rollbackId} ${result.outcome}`);
  }
  // Registered once its own interrupted rollbacks are complete: jobs it died running are then settled with their outcome.
  await startInstance(core);
  await startChangeTracking(core);
  await startLocalSocket({ dataDir: core.config.dataDir, log: core.log });
  await startHookSocket({ dataDir: core.config.dataDir, log: core.log });
  const bootstrap = await ensureAdminToken(core, { baseUrl: publicBaseUrl() });
  const banner = describeBootstrap(bootstrap);
  if (banner) process.stdout.write(banner + "\n");
  // The schedules record every run in history themselves; here only the outcome is logged.
  startRetentionSchedule(core, {
    actor: "schedule",
    onResult: (result) => core.log.info({ event: "retention.schedule", expired: result.expired.length, bytesFreed: result.bytesFreed }, "scheduled retention run finished"),
    onError: (error) => core.log.error({ event: "retention.schedule", error: error instanceof Error ? error.message : String(error) }, "scheduled retention run failed"),
  });
  startIntegritySchedule(core, { actor: "schedule" });
  core.log.info({ event: "startup", dataDir: core.config.dataDir, allowedRoots: core.config.allowedRoots }, "safetynet server ready");
}
