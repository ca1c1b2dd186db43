import {
  byCheckpointId,
  checkpointChangesInput,
  checkpointCreateInput,
  checkpointDeleteInput,
  checkpointDiffInput,
  checkpointEntriesInput,
  checkpointListInput,
  checkpointPinInput,
} from "../../schemas";
import { getCheckpoint, listCheckpoints, listCheckpointEntries } from "../../checkpoints/queries";
import { diffCheckpoint } from "../../checkpoints/diff";
import { listCheckpointChanges } from "../../checkpoints/change-list";
import { verifyCheckpoint } from "../../checkpoints/verify";
import { deleteCheckpoint, pinCheckpoint, planCheckpointDelete } from "../../checkpoints/lifecycle";
import { badInput } from "../errors";
import { runWorkspaceOperation } from "../../instances/routing";
import {
  agentProcedure,
  assertCheckpointInScope,
  assertComponentInScope,
  createTRPCRouter,
  operatorProcedure,
  listScope,
  viewerProcedure,
} from "../trpc";

export const checkpointRouter = createTRPCRouter({
  /** Reads the component's files: run by an instance that can reach them (server/instances/). */
  create: agentProcedure.input(checkpointCreateInput).mutation(({ ctx, input }) => {
    assertComponentInScope(ctx, input.component);
    return runWorkspaceOperation(ctx.core, "checkpoint.create", input, ctx.actor);
  }),

  list: viewerProcedure.input(checkpointListInput.default({})).query(({ ctx, input }) =>
    listCheckpoints(ctx.core, input, { components: listScope(ctx, input.component) }),
  ),

  get: viewerProcedure.input(byCheckpointId).query(async ({ ctx, input }) => {
    await assertCheckpointInScope(ctx, input.id);
    return getCheckpoint(ctx.core, input.id);
  }),

  entries: viewerProcedure.input(checkpointEntriesInput).query(async ({ ctx, input }) => {
    await assertCheckpointInScope(ctx, input.id);
    return listCheckpointEntries(ctx.core, input.id, { prefix: input.prefix, cursor: input.cursor, limit: input.limit });
  }),

  /** What one checkpoint changed against the previous one (its change records), page by page. */
  changes: viewerProcedure.input(checkpointChangesInput).query(async ({ ctx, input }) => {
    await assertCheckpointInScope(ctx, input.id);
    return listCheckpointChanges(ctx.core, input);
  }),

  diff: viewerProcedure.input(checkpointDiffInput).query(async ({ ctx, input }) => {
    await assertCheckpointInScope(ctx, input.id);
    if (input.against !== undefined) {
      // Two checkpoints: their trees only, read here.
      await assertCheckpointInScope(ctx, input.against);
      return diffCheckpoint(ctx.core, input.id, { textDiff: input.textDiff, maxTextBytes: input.maxTextBytes, against: input.against, path: input.path });
    }
    return runWorkspaceOperation(ctx.core, "checkpoint.diff", input, ctx.actor);
  }),

  verify: agentProcedure.input(byCheckpointId).mutation(async ({ ctx, input }) => {
    await assertCheckpointInScope(ctx, input.id);
    return verifyCheckpoint(ctx.core, input.id, ctx.actor);
  }),

  pin: operatorProcedure.input(checkpointPinInput).mutation(async ({ ctx, input }) => {
    await assertCheckpointInScope(ctx, input.id);
    return pinCheckpoint(ctx.core, input.id, input.pinned, ctx.actor);
  }),

  /** Step 1 of a delete: what would go, and the confirmToken `delete` needs. */
  planDelete: operatorProcedure.input(byCheckpointId).mutation(async ({ ctx, input }) => {
    await assertCheckpointInScope(ctx, input.id);
    return planCheckpointDelete(ctx.core, input.id, ctx.actor);
  }),

  delete: operatorProcedure.input(checkpointDeleteInput).mutation(async ({ ctx, input }) => {
    await assertCheckpointInScope(ctx, input.id);
    if (!input.confirmToken) throw badInput("confirmToken", "a delete must be confirmed: call checkpoint.planDelete and pass the confirmToken it returns");
    return deleteCheckpoint(ctx.core, input.id, input.confirmToken, ctx.actor);
  }),
});
