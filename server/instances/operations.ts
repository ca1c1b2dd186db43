/**
 * The operations that read or write a component's files, and so must run on an
 * instance that can reach its root: each with its input schema (the executing
 * instance validates a job's input again), what names its component (a
 * checkpoint, a component, or a root), and the one function that runs it. The
 * routers call them through routing.ts, and a routed job runs the same entry
 * here, so the caller gets the same answer wherever it ran. Everything else
 * (history, timelines from records, a diff of two checkpoints) stays local.
 */
import { z } from "zod";
import type { Actor, Core } from "../core";
import { checkpointCreateInput, checkpointDiffInput, componentByName, componentUpsertInput, rollbackExecuteInput, rollbackPlanInput } from "../schemas";
import { planRollback } from "../rollback/preview";
import { executeRollback } from "../rollback/execute";
import { createCheckpoint } from "../checkpoints/create";
import { diffCheckpoint } from "../checkpoints/diff";
import { matchLiveWorkspace } from "../timeline/live-match";
import { componentDrift } from "../timeline/drift";
import { upsertComponent } from "../registry/components";

/** Paths listed in a rollback's response, at most; the counts are always complete. */
const MAX_LISTED_PATHS = 5_000;
/** Related files listed in a checkpoint's response, at most (relatedCount is complete). */
const MAX_LISTED_RELATED = 1_000;

/** What names the files an operation touches. */
export type OperationTarget = { checkpointId: string } | { component: string } | { root: string };

/** What the executing side knows beyond the input. */
export interface RunContext {
  /** rollback.execute: the id the rollback gets (recorded in its job first). */
  rollbackId?: string;
}

export interface WorkspaceOperation<S extends z.ZodType, R> {
  input: S;
  target(input: z.infer<S>): OperationTarget;
  run(core: Core, input: z.infer<S>, actor: Actor, context: RunContext): Promise<R>;
}

function operation<S extends z.ZodType, R>(definition: WorkspaceOperation<S, R>): WorkspaceOperation<S, R> {
  return definition;
}

/** component.upsert also carries whether the caller may move the component's root (a scoped token may not). */
export const componentUpsertJobInput = z.object({ component: componentUpsertInput, mayChangeRoot: z.boolean() });

export const workspaceOperations = {
  "rollback.plan": operation({
    input: rollbackPlanInput,
    target: (input) => ({ checkpointId: input.checkpointId }),
    run: (core, input, actor) => planRollback(core, input.checkpointId, actor, { moveObstacles: input.moveObstacles, paths: input.paths }),
  }),
  "rollback.execute": operation({
    input: rollbackExecuteInput,
    target: (input) => ({ checkpointId: input.checkpointId }),
    run: async (core, input, actor, context) => {
      const { restoredPaths, deletedPaths, ...result } = await executeRollback(core, input, actor, { rollbackId: context.rollbackId });
      return {
        ...result,
        restoredPaths: restoredPaths.slice(0, MAX_LISTED_PATHS).map((r) => r.path),
        deletedPaths: deletedPaths.slice(0, MAX_LISTED_PATHS).map((d) => d.path),
      };
    },
  }),
  "checkpoint.create": operation({
    input: checkpointCreateInput,
    target: (input) => ({ component: input.component }),
    run: async (core, input, actor) => {
      const { related, ...created } = await createCheckpoint(core, input, actor);
      return { ...created, related: related.slice(0, MAX_LISTED_RELATED), relatedCount: related.length };
    },
  }),
  /** Against the live workspace only: a diff of two checkpoints (`against`) reads no files and is not routed. */
  "checkpoint.diff": operation({
    input: checkpointDiffInput,
    target: (input) => ({ checkpointId: input.id }),
    run: (core, input) => diffCheckpoint(core, input.id, { textDiff: input.textDiff, maxTextBytes: input.maxTextBytes, against: input.against, path: input.path }),
  }),
  "component.liveMatch": operation({
    input: componentByName,
    target: (input) => ({ component: input.name }),
    run: (core, input) => matchLiveWorkspace(core, input.name),
  }),
  "component.drift": operation({
    input: componentByName,
    target: (input) => ({ component: input.name }),
    run: (core, input) => componentDrift(core, input.name),
  }),
  /** The root is checked (real path, inside the allowed roots, no overlap) where it lives. */
  "component.upsert": operation({
    input: componentUpsertJobInput,
    target: (input) => ({ root: input.component.root }),
    run: (core, input, actor) => upsertComponent(core, input.component, actor, { mayChangeRoot: input.mayChangeRoot }),
  }),
};

export type WorkspaceOperations = typeof workspaceOperations;
export type OperationName = keyof WorkspaceOperations;
export type OperationInput<N extends OperationName> = z.infer<WorkspaceOperations[N]["input"]>;
export type OperationResult<N extends OperationName> = Awaited<ReturnType<WorkspaceOperations[N]["run"]>>;

export function isOperationName(name: string): name is OperationName {
  return Object.hasOwn(workspaceOperations, name);
}
