/**
 * What the console and the API show about instances: each instance's health,
 * and for each component the instances that serve it (those whose roots contain
 * its root), live or last seen. The same liveness rule as routing (liveness.ts).
 */
import type { Core } from "../core";
import { instanceState, livenessSettings, servesRoot, type InstanceRecord, type InstanceState } from "./liveness";
import { readInstances, toInstanceView, type InstanceView } from "./registry";
import { currentInstance } from "./runtime";

export interface InstanceList {
  items: InstanceView[];
  /** The instance that answered (null from a process that is no server, such as the CLI). */
  selfId: string | null;
  heartbeatMs: number;
  staleMs: number;
}

function settings() {
  return currentInstance()?.liveness ?? livenessSettings();
}

export async function listInstances(core: Core): Promise<InstanceList> {
  const { now, instances } = await readInstances(core);
  const { heartbeatMs, staleMs } = settings();
  const selfId = currentInstance()?.self.id ?? null;
  const rank: Record<InstanceState, number> = { live: 0, stale: 1, stopped: 2 };
  const items = instances.map((i) => toInstanceView(i, now, staleMs, selfId)).sort((a, b) => rank[a.state] - rank[b.state] || a.heartbeatAgeMs - b.heartbeatAgeMs);
  return { items, selfId, heartbeatMs, staleMs };
}

export interface ServingInstance {
  id: string;
  host: string;
  state: InstanceState;
  heartbeatAt: string;
  self: boolean;
}

export interface ServedBy {
  /** live: at least one live instance serves it; stale / stopped: the one last seen is; none: no instance ever did. */
  state: InstanceState | "none";
  /** Live ones first, then by last heartbeat. */
  instances: ServingInstance[];
}

export type ServedByOf = (root: string) => ServedBy;

/** One read of the registry, then `servedBy(root)` for any number of components. */
export async function servingIndex(core: Core): Promise<ServedByOf> {
  const { now, instances } = await readInstances(core);
  const { staleMs } = settings();
  const selfId = currentInstance()?.self.id ?? null;
  return (root) => servedBy(root, instances, now, staleMs, selfId);
}

export function servedBy(root: string, instances: readonly InstanceRecord[], now: Date, staleMs: number, selfId: string | null): ServedBy {
  const rank: Record<InstanceState, number> = { live: 0, stale: 1, stopped: 2 };
  const serving = instances
    .filter((i) => servesRoot(i, root))
    .map((i) => ({ id: i.id, host: i.host, state: instanceState(i, now, staleMs), heartbeatAt: i.heartbeatAt.toISOString(), self: i.id === selfId }))
    .sort((a, b) => rank[a.state] - rank[b.state] || b.heartbeatAt.localeCompare(a.heartbeatAt));
  return { state: serving[0]?.state ?? "none", instances: serving };
}
