import { rollbackExecuteInput, rollbackPlanInput } from "../../schemas";
import { planRollback } from "../../rollback/preview";
import { executeRollback } from "../../rollback/execute";
import { agentProcedure, assertCheckpointInScope, createTRPCRouter } from "../trpc";

/** Paths listed in a response, at most; the counts are always complete. */
const MAX_LISTED_PATHS = 5_000;

export const rollbackRouter = createTRPCRouter({
  /** The plan (restore / delete / unchanged), restricted to `paths` when given, and a single-use confirmToken bound to it. A mutation: it issues the token. */
  plan: agentProcedure.input(rollbackPlanInput).mutation(async ({ ctx, input }) => {
    await assertCheckpointInScope(ctx, input.checkpointId);
    return planRollback(ctx.core, input.checkpointId, ctx.actor, { moveObstacles: input.moveObstacles, paths: input.paths });
  }),

  execute: agentProcedure.input(rollbackExecuteInput).mutation(async ({ ctx, input }) => {
    await assertCheckpointInScope(ctx, input.checkpointId);
    const { restoredPaths, deletedPaths, ...result } = await executeRollback(ctx.core, input, ctx.actor);
    return {
      ...result,
      restoredPaths: restoredPaths.slice(0, MAX_LISTED_PATHS).map((r) => r.path),
      deletedPaths: deletedPaths.slice(0, MAX_LISTED_PATHS).map((d) => d.path),
    };
  }),
});
