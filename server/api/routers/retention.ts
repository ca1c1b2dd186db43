import { TRPCError } from "@trpc/server";
import { retentionGetInput, retentionPolicyInput, retentionRunInput } from "../../schemas";
import { getRetentionPolicies, runRetention, setRetentionPolicy } from "../../retention";
import type { Principal } from "../../auth/roles";
import { assertComponentInScope, createTRPCRouter, operatorProcedure, listScope, viewerProcedure } from "../trpc";

/** Entries listed per array in a run's response; counts stay complete. */
const MAX_LISTED = 1_000;

/** Global and safety policies, and runs (which sweep every component), need a token not limited to some components. */
function assertUnscoped(principal: Principal, what: string): void {
  if (principal.components.length > 0) {
    throw new TRPCError({ code: "FORBIDDEN", message: `token "${principal.name}" is limited to some components and cannot ${what}` });
  }
}

export const retentionRouter = createTRPCRouter({
  get: viewerProcedure.input(retentionGetInput.default({})).query(({ ctx, input }) =>
    getRetentionPolicies(ctx.core, input, { components: listScope(ctx, input.component) }),
  ),

  set: operatorProcedure.input(retentionPolicyInput).mutation(({ ctx, input }) => {
    if (input.component) assertComponentInScope(ctx, input.component);
    else assertUnscoped(ctx.principal, `change the ${input.safety ? "safety" : "global"} retention policy`);
    return setRetentionPolicy(ctx.core, input, ctx.actor);
  }),

  run: operatorProcedure.input(retentionRunInput.default({})).mutation(async ({ ctx, input }) => {
    assertUnscoped(ctx.principal, "run retention");
    const result = await runRetention(ctx.core, { dryRun: input.dryRun, actor: ctx.actor });
    return {
      ...result,
      expired: result.expired.slice(0, MAX_LISTED),
      kept: result.kept.slice(0, MAX_LISTED),
      removed: result.removed.slice(0, MAX_LISTED),
      objects: result.objects.slice(0, MAX_LISTED),
      counts: { expired: result.expired.length, kept: result.kept.length, removed: result.removed.length, objects: result.objects.length },
    };
  }),
});
