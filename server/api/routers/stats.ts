import { z } from "zod";
import { statsSummary } from "../../audit/stats";
import { statsScopeOf } from "../../auth/roles";
import { createTRPCRouter, viewerProcedure } from "../trpc";

export const statsRouter = createTRPCRouter({
  /** Global for an unscoped token; narrowed to the token's components otherwise. */
  summary: viewerProcedure.input(z.object({}).optional()).query(({ ctx }) => statsSummary(ctx.core, statsScopeOf(ctx.principal))),
});
