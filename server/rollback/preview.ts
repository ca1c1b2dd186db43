/**
 * rollback plan: what a rollback to a checkpoint would restore and delete, plus a
 * confirm token bound to exactly that plan and to the live state it was made on.
 * Read-only: the workspace and the store are not changed.
 */
import type { Core, Actor } from "../core";
import { toComponentView } from "../registry/components";
import { captureLiveState, scanScope } from "../checkpoints/live-state";
import { encodeManifest, readManifest } from "../checkpoints/manifest";
import { findCheckpointRow } from "../checkpoints/queries";
import { sha256Hex } from "../store/object-store";
import { InvalidInputError } from "../errors";
import { computeRollbackPlan, planHash, type RollbackPlanBody } from "./plan";
import { issueConfirmToken } from "./confirm-token";

export interface RollbackPlanView extends RollbackPlanBody {
  checkpointId: string;
  component: string;
  root: string;
  confirmToken: string;
  expiresAt: string;
}

export async function computePlanForCheckpoint(core: Core, checkpointId: string): Promise<{ plan: RollbackPlanBody; liveSha: string; component: string; root: string }> {
  const row = await findCheckpointRow(core, checkpointId);
  if (row.status !== "active") throw new InvalidInputError(`checkpoint ${row.id} is ${row.status} and cannot be rolled back to`, { checkpointId: row.id });
  const component = toComponentView(row.component);
  const manifest = readManifest(core.store, row.manifestSha);
  const live = await captureLiveState(core, component, manifest.scope, { storeObjects: false }, scanScope(core, component, manifest.scope));
  return {
    plan: computeRollbackPlan(manifest.entries, live.entries),
    liveSha: sha256Hex(encodeManifest(manifest.scope, live.entries)),
    component: component.name,
    root: component.root,
  };
}

export async function planRollback(core: Core, checkpointId: string, actor: Actor): Promise<RollbackPlanView> {
  const { plan, liveSha, component, root } = await computePlanForCheckpoint(core, checkpointId);
  const token = await issueConfirmToken(core, { purpose: "rollback", targetId: checkpointId, boundTo: planHash(checkpointId, plan), liveSha, actor });
  return { checkpointId, component, root, ...plan, ...token };
}
