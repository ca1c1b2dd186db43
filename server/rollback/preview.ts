/**
 * rollback plan: what a rollback to a checkpoint would restore and delete, plus a
 * confirm token bound to exactly that plan, to the live state it was made on and
 * to who asked. Read-only: the workspace, the store and the stat cache are not
 * changed. The rollback itself recomputes the plan with the same function
 * (planAgainstWorkspace), so an unchanged workspace always matches its token.
 */
import type { Core, Actor } from "../core";
import { toComponentView } from "../registry/components";
import { captureCheckpointScope, type CheckpointScopeState, type ComponentScanTarget } from "../checkpoints/live-state";
import { databasesOf, readManifest } from "../checkpoints/manifest";
import { planDatabases } from "../dbstate/databases";
import type { Manifest } from "../checkpoints/manifest-types";
import { findCheckpointRow } from "../checkpoints/queries";
import { InvalidInputError } from "../errors";
import { computeRollbackPlan, planHash, type RollbackPlanBody } from "./plan";
import { assertPlanCanComplete } from "./preflight";
import { issueConfirmToken } from "./confirm-token";

export interface RollbackPlanView extends RollbackPlanBody {
  checkpointId: string;
  component: string;
  root: string;
  confirmToken: string;
  expiresAt: string;
}

export interface WorkspacePlan {
  state: CheckpointScopeState;
  plan: RollbackPlanBody;
}

/**
 * The plan from the workspace as it is now to `manifest`: one capture of the
 * checkpoint's scope (stored when `storeObjects`: a rollback's safety checkpoint),
 * one comparison, and the preflight that refuses a plan that could not complete.
 */
export async function planAgainstWorkspace(
  core: Core,
  component: ComponentScanTarget,
  manifest: Manifest,
  options: { storeObjects: boolean; onProgress?: (done: number, total: number) => void },
): Promise<WorkspacePlan> {
  const state = await captureCheckpointScope(core, component, manifest, options);
  const plan = { ...computeRollbackPlan(state.target, state.live.entries), databases: planDatabases(databasesOf(manifest)) };
  assertPlanCanComplete(component.root, plan);
  return { state, plan };
}

export async function computePlanForCheckpoint(core: Core, checkpointId: string): Promise<{ plan: RollbackPlanBody; liveSha: string; component: string; root: string }> {
  const row = await findCheckpointRow(core, checkpointId);
  if (row.status !== "active") throw new InvalidInputError(`checkpoint ${row.id} is ${row.status} and cannot be rolled back to`, { checkpointId: row.id });
  const component = toComponentView(row.component);
  const { plan, state } = await planAgainstWorkspace(core, component, readManifest(core.store, row.manifestSha), { storeObjects: false });
  return { plan, liveSha: state.liveSha, component: component.name, root: component.root };
}

export async function planRollback(core: Core, checkpointId: string, actor: Actor): Promise<RollbackPlanView> {
  const { plan, liveSha, component, root } = await computePlanForCheckpoint(core, checkpointId);
  const token = await issueConfirmToken(core, { purpose: "rollback", targetId: checkpointId, boundTo: planHash(checkpointId, plan), liveSha, actor });
  return { checkpointId, component, root, ...plan, ...token };
}
