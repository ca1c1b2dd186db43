/**
 * In-process schedules for a long-running server (`npm start`): the retention run
 * (hourly by default) and, when asked for, the integrity sweep. Timers are unref'd
 * (they never keep the process alive); a tick is skipped while the previous one
 * still runs; a run refused because another one holds the store lock (a CLI or
 * the cron route) is reported to onError like any failure.
 *
 *   SAFETYNET_RETENTION_SCHEDULE=off      no retention schedule
 *   SAFETYNET_RETENTION_INTERVAL_MS=N     retention every N ms (default 3 600 000)
 *   SAFETYNET_VERIFY_INTERVAL_MS=N        verify --all every N ms (default: never)
 */
import type { Core, Actor } from "../core";
import { InvalidInputError } from "../errors";
import { runRetention, type RetentionRunResult } from "./run";
import { verifyAll, type VerifyAllResult } from "./integrity";

export const DEFAULT_RETENTION_INTERVAL_MS = 60 * 60_000;

type Environment = Readonly<Record<string, string | undefined>>;

/** Stops the timer; resolves once a run in progress (if any) has finished. */
export type StopSchedule = () => Promise<void>;

export interface ScheduleOptions<T> {
  /** Overrides the environment's interval. */
  intervalMs?: number;
  onResult?: (result: T) => void;
  /** Default: logged at error level. */
  onError?: (error: unknown) => void;
  /** Recorded in history as who ran it (default "system"). */
  actor?: Actor;
  /** The environment to read (default process.env). */
  env?: Environment;
}

function parseInterval(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1000) throw new InvalidInputError(`${name} must be a whole number of milliseconds ≥ 1000, got "${raw}"`, { field: name });
  return value;
}

function isOff(raw: string | undefined): boolean {
  return raw !== undefined && ["off", "false", "0", "no", "disabled"].includes(raw.trim().toLowerCase());
}

export function retentionScheduleConfig(env: Environment = process.env): { enabled: boolean; intervalMs: number } {
  return {
    enabled: !isOff(env.SAFETYNET_RETENTION_SCHEDULE),
    intervalMs: parseInterval(env.SAFETYNET_RETENTION_INTERVAL_MS, "SAFETYNET_RETENTION_INTERVAL_MS") ?? DEFAULT_RETENTION_INTERVAL_MS,
  };
}

function every<T>(core: Core, intervalMs: number, task: () => Promise<T>, options: ScheduleOptions<T>, what: string): StopSchedule {
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = task()
      .then(
        (result) => options.onResult?.(result),
        (error: unknown) => {
          if (options.onError) options.onError(error);
          else core.log.error({ event: what, err: error }, `${what} failed: ${error instanceof Error ? error.message : String(error)}`);
        },
      )
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}

/** Runs retention every interval (default hourly) until stopped. Disabled (a no-op stop) with SAFETYNET_RETENTION_SCHEDULE=off. */
export function startRetentionSchedule(core: Core, options: ScheduleOptions<RetentionRunResult> = {}): StopSchedule {
  const config = retentionScheduleConfig(options.env);
  if (!config.enabled) return async () => undefined;
  const actor = options.actor ?? "system";
  return every(core, options.intervalMs ?? config.intervalMs, () => runRetention(core, { actor }), options, "retention.schedule");
}

/** Runs verify --all every SAFETYNET_VERIFY_INTERVAL_MS (or `intervalMs`); without either it is off (a no-op stop). */
export function startIntegritySchedule(core: Core, options: ScheduleOptions<VerifyAllResult> = {}): StopSchedule {
  const intervalMs = options.intervalMs ?? parseInterval((options.env ?? process.env).SAFETYNET_VERIFY_INTERVAL_MS, "SAFETYNET_VERIFY_INTERVAL_MS");
  if (intervalMs === undefined) return async () => undefined;
  return every(core, intervalMs, () => verifyAll(core, options.actor ?? "system"), options, "verify.schedule");
}
