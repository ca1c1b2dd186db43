import { fileContentInput, fileDiffInput, fileHistoryInput } from "../../schemas";
import { fileHistory } from "../../checkpoints/file-history";
import { fileContent, fileDiff } from "../../checkpoints/file-versions";
import { assertCheckpointInScope, assertComponentInScope, createTRPCRouter, viewerProcedure } from "../trpc";

export const fileRouter = createTRPCRouter({
  /** Every checkpoint in which one path changed, newest first, from the change records. */
  history: viewerProcedure.input(fileHistoryInput).query(({ ctx, input }) => {
    assertComponentInScope(ctx, input.component);
    return fileHistory(ctx.core, input);
  }),

  /** One path as a checkpoint holds it: kind, size, mode, sha256, and its text (capped at 1 MiB: `truncated`) unless binary. */
  content: viewerProcedure.input(fileContentInput).query(async ({ ctx, input }) => {
    await assertCheckpointInScope(ctx, input.checkpointId);
    return fileContent(ctx.core, input);
  }),

  /** One path between two checkpoints of a component: the change and a unified text diff. */
  diff: viewerProcedure.input(fileDiffInput).query(async ({ ctx, input }) => {
    assertComponentInScope(ctx, input.component);
    await Promise.all([assertCheckpointInScope(ctx, input.from), assertCheckpointInScope(ctx, input.to)]);
    return fileDiff(ctx.core, input);
  }),
});
