import { rollbackExecuteInput, rollbackPlanInput } from "../../schemas";
import { runWorkspaceOperation } from "../../instances/routing";
import { agentProcedure, assertCheckpointInScope, createTRPCRouter } from "../trpc";

/** Both read and write the component's files: run by an instance that can reach them (server/instances/). */
export const rollbackRouter = createTRPCRouter({
  /** The plan (restore / delete / unchanged), restricted to `paths` when given, and a single-use confirmToken bound to it. A mutation: it issues the token. */
  plan: agentProcedure.input(rollbackPlanInput).mutation(async ({ ctx, input }) => {
    await assertCheckpointInScope(ctx, input.checkpointId);
    return runWorkspaceOperation(ctx.core, "rollback.plan", input, ctx.actor);
  }),

  execute: agentProcedure.input(rollbackExecuteInput).mutation(async ({ ctx, input }) => {
    await assertCheckpointInScope(ctx, input.checkpointId);
    return runWorkspaceOperation(ctx.core, "rollback.execute", input, ctx.actor);
  }),
});
