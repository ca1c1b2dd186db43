import { sessionListInput } from "../../schemas";
import { listSessions } from "../../sessions/list-sessions";
import { createTRPCRouter, listScope, viewerProcedure } from "../trpc";

export const sessionRouter = createTRPCRouter({
  /** Checkpoints grouped by task (an agent's session), latest activity first, with what each changed and where to roll it back to. */
  list: viewerProcedure.input(sessionListInput.default({})).query(({ ctx, input }) =>
    listSessions(ctx.core, input, { components: listScope(ctx, input.component) }),
  ),
});
