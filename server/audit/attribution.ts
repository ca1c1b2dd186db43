/**
 * What an event was about, for the history and its exports: the reason, agent
 * and task recorded with the checkpoint it names, the session that task makes,
 * and the rollback it belongs to.
 *
 * The events that name a checkpoint (its creation, verification, pin and
 * deletion, a rollback, an expiry) hold `agent` and `task` in their details, so
 * they keep them after the checkpoint is swept away; events written before they
 * did read them from the checkpoint while it exists. A session is a component's checkpoints that name the same task
 * (server/sessions), so its key is `<component>/<task>`.
 */
import type { Core } from "../core";
import type { Prisma } from "../generated/prisma/client";
import { sqlDialect } from "../db/sql-dialect";

export interface EventAttribution {
  reason: string | null;
  agent: string | null;
  task: string | null;
  /** `<component>/<task>`: the agent session the event belongs to; null without a task. */
  session: string | null;
  rollbackId: string | null;
}

/** What the event's checkpoint says of itself (its caller metadata and reason). */
export interface CheckpointCaller {
  reason: string | null;
  callerMeta: unknown;
}

function stringKey(record: unknown, key: string): string | null {
  const value = record !== null && typeof record === "object" ? (record as Record<string, unknown>)[key] : undefined;
  return typeof value === "string" && value !== "" ? value : null;
}

/** The `agent` and `task` of a checkpoint's caller metadata, for an event's details (absent keys stay absent). */
export function callerDetails(callerMeta: unknown): { agent?: string; task?: string } {
  const agent = stringKey(callerMeta, "agent");
  const task = stringKey(callerMeta, "task");
  return { ...(agent ? { agent } : {}), ...(task ? { task } : {}) };
}

export function sessionKey(component: string | null, task: string | null): string | null {
  return component && task ? `${component}/${task}` : null;
}

export function attributionOf(event: { component: string | null; details: unknown }, checkpoint: CheckpointCaller | undefined): EventAttribution {
  const own = (key: string) => stringKey(event.details, key);
  const agent = own("agent") ?? stringKey(checkpoint?.callerMeta, "agent");
  const task = own("task") ?? stringKey(checkpoint?.callerMeta, "task");
  return {
    reason: own("reason") ?? checkpoint?.reason ?? null,
    agent,
    task,
    session: sessionKey(event.component, task),
    rollbackId: own("rollbackId"),
  };
}

/**
 * The history filter for events of one agent and/or task: those whose details
 * name them, or that name a checkpoint whose caller did. Exact, case-sensitive
 * matches (agents and tasks are identifiers).
 */
export async function attributionFilter(core: Core, wanted: { agent?: string; task?: string }): Promise<Prisma.AuditEventWhereInput | undefined> {
  const keys = (["agent", "task"] as const).filter((key) => wanted[key] !== undefined);
  if (keys.length === 0) return undefined;
  const sql = sqlDialect(core.config.dataDir);
  const checkpoints = await core.db.checkpoint.findMany({
    where: { AND: keys.map((key) => ({ callerMeta: sql.jsonKeyEquals(key, wanted[key] as string) })) },
    select: { id: true },
  });
  return {
    OR: [
      { AND: keys.map((key) => ({ details: sql.jsonKeyEquals(key, wanted[key] as string) })) },
      ...(checkpoints.length > 0 ? [{ checkpointId: { in: checkpoints.map((c) => c.id) } }] : []),
    ],
  };
}
