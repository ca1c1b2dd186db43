/**
 * rollback plan: what a rollback to a checkpoint would restore and delete, plus a
 * confirm token bound to exactly that plan, to the live state it was made on and
 * to who asked. The stored objects the plan needs are re-hashed (a damaged one
 * refuses the plan, 422), and the scope is described in words. Read-only: the
 * workspace, the store and the stat cache are not changed. The rollback itself
 * recomputes the plan with the same function (planAgainstWorkspace), so an
 * unchanged workspace always matches its token.
 */
import type { Core, Actor } from "../core";
import { toComponentView } from "../registry/components";
import type { ComponentScanTarget } from "../checkpoints/live-state";
import { openCheckpointManifest } from "../checkpoints/integrity-record";
import type { OpenedManifest } from "../checkpoints/tree-read";
import { planDatabases } from "../dbstate/databases";
import { findCheckpointRow } from "../checkpoints/queries";
import { InvalidInputError } from "../errors";
import { computeRollbackPlan, planHash, type RollbackPlanBody } from "./plan";
import { assertPlanCanComplete } from "./preflight";
import { issueConfirmToken } from "./confirm-token";
import { assertNeededObjectsIntact, type ObjectsChecked } from "./object-check";
import { describePlanScope, restrictedPlanScope, type PlanScope } from "./scope-summary";
import { assertPathsExist, restrictToPaths, type PathRestriction } from "./path-restriction";
import { compareWorkspace, type WorkspaceOptions, type WorkspaceState } from "../checkpoints/workspace-compare";

/** When the target is a rollback's safety checkpoint, the plan undoes that rollback. */
export interface UndoTarget {
  rollbackId: string | null;
  /** The checkpoint the undone rollback went back to. */
  rolledBackTo: string | null;
}

export interface CheckpointPlan extends RollbackPlanBody, ObjectsCheckedPlan {
  checkpointId: string;
  component: string;
  root: string;
  /** manual or safety: a plan to a safety checkpoint undoes a rollback (see `undo`). */
  checkpointKind: string;
  scope: PlanScope;
  undo: UndoTarget | null;
  liveSha: string;
}

interface ObjectsCheckedPlan {
  /** The stored objects this plan needs, re-hashed while planning: all matched (else the plan is refused, 422). */
  integrity: ObjectsChecked;
}

export interface RollbackPlanView extends Omit<CheckpointPlan, "liveSha"> {
  confirmToken: string;
  expiresAt: string;
}

export interface WorkspacePlan {
  state: WorkspaceState;
  plan: RollbackPlanBody;
}

/**
 * The plan from the workspace as it is now to `checkpoint`: one capture of the
 * checkpoint's scope (stored when `storeObjects`: a rollback's safety checkpoint),
 * one comparison (workspace-state.ts), and the preflight that refuses a plan that
 * could not complete.
 */
export interface PlanOptions {
  /** Instead of refusing a plan that ignored or out-of-scope entries stand in the way of, plan to move them into the quarantine. */
  moveObstacles?: boolean;
  /** Restore only these paths (as asked for: checked and intersected with the checkpoint's scope here). */
  paths?: readonly string[];
}

/** `restriction`: a rollback of some paths only (path-restriction.ts); its databases are left alone, being no path. */
export async function planAgainstWorkspace(
  core: Core,
  component: ComponentScanTarget,
  checkpoint: OpenedManifest,
  options: WorkspaceOptions & Omit<PlanOptions, "paths"> & { restriction?: PathRestriction | null; checkpointId?: string },
): Promise<WorkspacePlan> {
  const { moveObstacles, restriction, checkpointId, ...workspace } = options;
  const state = await compareWorkspace(core, component, checkpoint, { ...workspace, paths: restriction?.paths });
  if (restriction) assertPathsExist(restriction, checkpointId ?? "", state.target, state.live.entries);
  const plan: RollbackPlanBody = { ...computeRollbackPlan(state.comparison), databases: restriction ? [] : planDatabases(checkpoint.databases) };
  if (restriction) plan.paths = restriction.paths;
  const obstaclesToMove = assertPlanCanComplete(component.root, plan, { moveObstacles });
  if (moveObstacles) plan.obstaclesToMove = obstaclesToMove;
  return { state, plan };
}

/** The paths asked for, checked against the component's root and the checkpoint's scope; null for the whole checkpoint. */
export function pathRestrictionOf(root: string, checkpointId: string, checkpoint: OpenedManifest, paths: readonly string[] | undefined): PathRestriction | null {
  return paths === undefined ? null : restrictToPaths(root, checkpointId, checkpoint.scope, paths);
}

export async function computePlanForCheckpoint(core: Core, checkpointId: string, options: PlanOptions = {}): Promise<CheckpointPlan> {
  const row = await findCheckpointRow(core, checkpointId);
  if (row.status !== "active") throw new InvalidInputError(`checkpoint ${row.id} is ${row.status} and cannot be rolled back to`, { checkpointId: row.id });
  const component = toComponentView(row.component);
  const checkpoint = await openCheckpointManifest(core, row);
  const restriction = pathRestrictionOf(component.root, row.id, checkpoint, options.paths);
  const { plan, state } = await planAgainstWorkspace(core, component, checkpoint, { storeObjects: false, moveObstacles: options.moveObstacles, restriction, checkpointId: row.id });
  const integrity = await assertNeededObjectsIntact(core, row.id, state.target, plan);
  return {
    checkpointId: row.id,
    component: component.name,
    root: component.root,
    checkpointKind: row.kind,
    ...plan,
    integrity,
    scope: restriction ? restrictedPlanScope(restriction.paths) : await describePlanScope(core, component, checkpoint, row),
    undo: row.kind === "safety" ? undoTargetOf(row.callerMeta) : null,
    liveSha: state.liveSha,
  };
}

function undoTargetOf(callerMeta: unknown): UndoTarget {
  const meta = (callerMeta ?? {}) as Record<string, unknown>;
  const text = (key: string) => (typeof meta[key] === "string" ? (meta[key] as string) : null);
  return { rollbackId: text("rollbackId"), rolledBackTo: text("targetCheckpointId") };
}

/** A plan and a confirm token bound to it (and, with `paths`, to exactly those paths). */
export async function planRollback(core: Core, checkpointId: string, actor: Actor, options: PlanOptions = {}): Promise<RollbackPlanView> {
  const { liveSha, ...plan } = await computePlanForCheckpoint(core, checkpointId, options);
  const token = await issueConfirmToken(core, { purpose: "rollback", targetId: checkpointId, boundTo: planHash(checkpointId, plan), liveSha, actor });
  return { ...plan, ...token };
}
