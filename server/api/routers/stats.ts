import { z } from "zod";
import { statsSummary } from "../../audit/stats";
import { createTRPCRouter, viewerProcedure } from "../trpc";

export const statsRouter = createTRPCRouter({
  summary: viewerProcedure.input(z.object({}).optional()).query(({ ctx }) => statsSummary(ctx.core)),
});
