/**
 * The routing decision's two questions, as pure functions of the instance rows
 * and one clock reading (the metadata database's): is an instance live (a
 * heartbeat younger than the bound, and not stopped), and which instances serve a
 * component root (those whose roots contain it, live ones first).
 */
import { isInside } from "../scan/paths";

export interface InstanceRecord {
  id: string;
  host: string;
  roots: string[];
  version: string;
  pid: number;
  startedAt: Date;
  heartbeatAt: Date;
  stoppedAt: Date | null;
}

export interface LivenessSettings {
  /** How often a running instance writes its heartbeat. */
  heartbeatMs: number;
  /** An instance whose last heartbeat is older than this is not live (three missed heartbeats by default). */
  staleMs: number;
}

/** Below this a heartbeat would be a steady load on the database for nothing. */
const MIN_HEARTBEAT_MS = 200;

/** A non-negative number from `env`, or `fallback` when unset or not one (a typo never disables a bound). */
function setting(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  const value = raw ? Number(raw) : NaN;
  return Number.isFinite(value) && value >= 0 ? value : fallback;
}

export function livenessSettings(env: Record<string, string | undefined> = process.env): LivenessSettings {
  const heartbeatMs = Math.max(MIN_HEARTBEAT_MS, setting(env, "SAFETYNET_HEARTBEAT_MS", 3_000));
  const staleMs = Math.max(heartbeatMs, setting(env, "SAFETYNET_INSTANCE_STALE_MS", 3 * heartbeatMs));
  return { heartbeatMs, staleMs };
}

export type InstanceState = "live" | "stale" | "stopped";

export function instanceState(instance: Pick<InstanceRecord, "heartbeatAt" | "stoppedAt">, now: Date, staleMs: number): InstanceState {
  if (instance.stoppedAt) return "stopped";
  return now.getTime() - instance.heartbeatAt.getTime() < staleMs ? "live" : "stale";
}

export function isLive(instance: Pick<InstanceRecord, "heartbeatAt" | "stoppedAt">, now: Date, staleMs: number): boolean {
  return instanceState(instance, now, staleMs) === "live";
}

/** Whether `root` (a component root, a real path) lies in one of the instance's roots. */
export function servesRoot(instance: Pick<InstanceRecord, "roots">, root: string): boolean {
  return instance.roots.some((allowed) => isInside(allowed, root));
}

export interface Serving {
  /** Live instances whose roots contain the root, freshest heartbeat first. */
  live: InstanceRecord[];
  /** Of every instance whose roots contain it (live or not), the one heard from last; null when none ever did. */
  lastSeen: InstanceRecord | null;
}

export function instancesServing(root: string, instances: readonly InstanceRecord[], now: Date, staleMs: number): Serving {
  const serving = instances.filter((i) => servesRoot(i, root)).sort((a, b) => b.heartbeatAt.getTime() - a.heartbeatAt.getTime());
  return { live: serving.filter((i) => isLive(i, now, staleMs)), lastSeen: serving[0] ?? null };
}

/** "in_… on host at 2026-…Z" — how messages name an instance. */
export function describeInstance(instance: Pick<InstanceRecord, "id" | "host" | "heartbeatAt">): string {
  return `${instance.id} on ${instance.host} at ${instance.heartbeatAt.toISOString()}`;
}
