import { fileHistoryInput } from "../../schemas";
import { fileHistory } from "../../checkpoints/file-history";
import { assertComponentInScope, createTRPCRouter, viewerProcedure } from "../trpc";

export const fileRouter = createTRPCRouter({
  /** Every checkpoint in which one path changed, newest first, from the change records. */
  history: viewerProcedure.input(fileHistoryInput).query(({ ctx, input }) => {
    assertComponentInScope(ctx, input.component);
    return fileHistory(ctx.core, input);
  }),
});
