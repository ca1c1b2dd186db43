/**
 * What a retention decision is made on, read from the database and the data
 * directory: the active checkpoints of every component, and the checkpoints that
 * something in progress still needs (an interrupted rollback's journal, a running
 * rollback, an unexpired unused rollback plan).
 */
import type { Core } from "../core";
import { dataPaths } from "../core";
import { listJournals } from "../rollback/journal";
import type { CheckpointFacts, CheckpointKind, Protection } from "./decide";

export interface RetentionInventory {
  /** Active checkpoints by component name. */
  checkpointsByComponent: Map<string, CheckpointFacts[]>;
  protections: Map<string, Protection[]>;
}

function protect(protections: Map<string, Protection[]>, checkpointId: string | null | undefined, protection: Protection): void {
  if (!checkpointId) return;
  const list = protections.get(checkpointId);
  if (!list) protections.set(checkpointId, [protection]);
  else if (!list.some((p) => p.rule === protection.rule && p.detail === protection.detail)) list.push(protection);
}

export async function loadProtections(core: Core, now: Date): Promise<Map<string, Protection[]>> {
  const protections = new Map<string, Protection[]>();
  for (const journal of listJournals(dataPaths(core.config.dataDir).journal)) {
    const detail = `interrupted rollback ${journal.rollbackId} (journal pending recovery)`;
    protect(protections, journal.checkpointId, { rule: "in-flight-rollback", detail });
    protect(protections, journal.safetyCheckpointId, { rule: "in-flight-rollback", detail });
  }
  const running = await core.db.rollback.findMany({ where: { outcome: "running" }, select: { id: true, checkpointId: true, safetyCheckpointId: true } });
  for (const rollback of running) {
    const detail = `rollback ${rollback.id} in progress`;
    protect(protections, rollback.checkpointId, { rule: "in-flight-rollback", detail });
    protect(protections, rollback.safetyCheckpointId, { rule: "in-flight-rollback", detail });
  }
  const plans = await core.db.confirmToken.findMany({
    where: { purpose: "rollback", usedAt: null, expiresAt: { gt: now } },
    select: { targetId: true, expiresAt: true },
  });
  for (const plan of plans) protect(protections, plan.targetId, { rule: "pending-plan", detail: `rollback plan pending until ${plan.expiresAt.toISOString()}` });
  return protections;
}

export async function loadActiveCheckpoints(core: Core, componentName?: string): Promise<Map<string, CheckpointFacts[]>> {
  const rows = await core.db.checkpoint.findMany({
    where: { status: "active", component: componentName === undefined ? undefined : { name: componentName } },
    select: { id: true, kind: true, createdAt: true, retentionUntil: true, pinned: true, component: { select: { name: true } } },
    orderBy: { id: "asc" },
  });
  const byComponent = new Map<string, CheckpointFacts[]>();
  for (const row of rows) {
    const facts: CheckpointFacts = {
      id: row.id,
      component: row.component.name,
      kind: (row.kind === "safety" ? "safety" : "manual") satisfies CheckpointKind,
      createdAt: row.createdAt,
      retentionUntil: row.retentionUntil,
      pinned: row.pinned,
    };
    const list = byComponent.get(facts.component);
    if (list) list.push(facts);
    else byComponent.set(facts.component, [facts]);
  }
  return byComponent;
}

export async function loadInventory(core: Core, now: Date): Promise<RetentionInventory> {
  const [checkpointsByComponent, protections] = await Promise.all([loadActiveCheckpoints(core), loadProtections(core, now)]);
  return { checkpointsByComponent, protections };
}
