import { z } from "zod";
import { tokenByName, tokenCreateInput } from "../../schemas";
import { createApiToken, listApiTokens, revokeApiToken } from "../../auth/tokens";
import { adminProcedure, createTRPCRouter, viewerProcedure } from "../trpc";

export const authRouter = createTRPCRouter({
  whoami: viewerProcedure.input(z.object({}).optional()).query(({ ctx }) => ({
    name: ctx.principal.name,
    role: ctx.principal.role,
    components: ctx.principal.components,
    via: ctx.principal.via,
    actor: ctx.actor,
  })),

  /** Returns the secret once (`token`); only its hash is kept. */
  createToken: adminProcedure.input(tokenCreateInput).mutation(({ ctx, input }) => createApiToken(ctx.core, input)),

  listTokens: adminProcedure.input(z.object({}).optional()).query(async ({ ctx }) => ({ items: await listApiTokens(ctx.core) })),

  revokeToken: adminProcedure.input(tokenByName).mutation(({ ctx, input }) => revokeApiToken(ctx.core, input.name)),
});
