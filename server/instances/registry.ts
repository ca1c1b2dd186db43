/**
 * The instance registry in the metadata store: each server instance writes its
 * row at start-up, refreshes its heartbeat, and marks itself stopped on a clean
 * shutdown (the row stays: "last seen" needs it). Every time written or compared
 * here is the metadata database's clock (PostgreSQL's now(); SQLite has one host,
 * whose clock it is), so instances on hosts whose clocks differ agree on who is live.
 */
import type { Core } from "../core";
import { metadataStore } from "../db";
import type { InstanceIdentity } from "./identity";
import { instanceState, type InstanceRecord, type InstanceState } from "./liveness";

/** The metadata database's clock. */
export async function databaseNow(core: Core): Promise<Date> {
  if (metadataStore(core.config.dataDir)?.kind !== "postgres") return core.now();
  const rows = await core.db.$queryRawUnsafe<{ now: Date }[]>("SELECT now() AS now");
  return rows[0]?.now ?? core.now();
}

export async function registerInstance(core: Core, self: InstanceIdentity): Promise<void> {
  const now = await databaseNow(core);
  const row = { host: self.host, roots: self.roots, version: self.version, pid: self.pid, startedAt: now, heartbeatAt: now, stoppedAt: null };
  await core.db.instance.upsert({ where: { id: self.id }, create: { id: self.id, ...row }, update: row });
}

/** Refreshes the heartbeat (and re-creates the row if someone removed it meanwhile). */
export async function heartbeat(core: Core, self: InstanceIdentity): Promise<void> {
  const now = await databaseNow(core);
  const { count } = await core.db.instance.updateMany({ where: { id: self.id }, data: { heartbeatAt: now, stoppedAt: null, pid: self.pid } });
  if (count === 0) await registerInstance(core, self);
}

export async function deregisterInstance(core: Core, id: string): Promise<void> {
  await core.db.instance.updateMany({ where: { id }, data: { stoppedAt: await databaseNow(core) } });
}

function toRecord(row: { id: string; host: string; roots: unknown; version: string; pid: number; startedAt: Date; heartbeatAt: Date; stoppedAt: Date | null }): InstanceRecord {
  const roots = Array.isArray(row.roots) ? row.roots.filter((r): r is string => typeof r === "string") : [];
  return { id: row.id, host: row.host, roots, version: row.version, pid: row.pid, startedAt: row.startedAt, heartbeatAt: row.heartbeatAt, stoppedAt: row.stoppedAt };
}

/** Every instance ever registered, and the database's clock they are judged by. */
export async function readInstances(core: Core): Promise<{ now: Date; instances: InstanceRecord[] }> {
  const [now, rows] = await Promise.all([databaseNow(core), core.db.instance.findMany({ orderBy: { heartbeatAt: "desc" } })]);
  return { now, instances: rows.map(toRecord) };
}

export interface InstanceView {
  id: string;
  host: string;
  roots: string[];
  version: string;
  pid: number;
  startedAt: string;
  heartbeatAt: string;
  stoppedAt: string | null;
  /** Milliseconds since its last heartbeat, by the database's clock. */
  heartbeatAgeMs: number;
  state: InstanceState;
  /** The instance that answered this request. */
  self: boolean;
}

export function toInstanceView(instance: InstanceRecord, now: Date, staleMs: number, selfId: string | null): InstanceView {
  return {
    id: instance.id,
    host: instance.host,
    roots: instance.roots,
    version: instance.version,
    pid: instance.pid,
    startedAt: instance.startedAt.toISOString(),
    heartbeatAt: instance.heartbeatAt.toISOString(),
    stoppedAt: instance.stoppedAt?.toISOString() ?? null,
    heartbeatAgeMs: Math.max(0, now.getTime() - instance.heartbeatAt.getTime()),
    state: instanceState(instance, now, staleMs),
    self: instance.id === selfId,
  };
}
