import { historyListInput } from "../../schemas";
import { listHistory } from "../../audit/history";
import { createTRPCRouter, listScope, viewerProcedure } from "../trpc";

export const historyRouter = createTRPCRouter({
  list: viewerProcedure.input(historyListInput.default({})).query(({ ctx, input }) =>
    listHistory(ctx.core, input, { components: listScope(ctx, input.component) }),
  ),
});
