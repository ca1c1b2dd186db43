import { z } from "zod";
import { componentByName, componentTimelineInput, componentUpsertInput, timelineDaysInput } from "../../schemas";
import { getComponent, removeComponent } from "../../registry/components";
import { listComponentsWithActivity } from "../../registry/component-overview";
import { componentInScope } from "../../auth/roles";
import { componentTimeline } from "../../timeline/component-timeline";
import { timelineDays } from "../../timeline/timeline-days";
import { runWorkspaceOperation } from "../../instances/routing";
import { servingIndex } from "../../instances/serving";
import { assertComponentInScope, createTRPCRouter, operatorProcedure, viewerProcedure } from "../trpc";

export const componentRouter = createTRPCRouter({
  /** Components in the caller's scope, each with its checkpoint count, the time of its newest checkpoint, damaged checkpoints and failed/refused rollbacks. */
  list: viewerProcedure.input(z.object({}).optional()).query(async ({ ctx }) => {
    const items = await listComponentsWithActivity(ctx.core);
    return {
      items: items.filter((c) => componentInScope(ctx.principal, c.name)),
    };
  }),

  /** With `servedBy`: the instances whose roots contain its root, live or last seen. */
  get: viewerProcedure.input(componentByName).query(async ({ ctx, input }) => {
    assertComponentInScope(ctx, input.name);
    const [component, servedBy] = await Promise.all([getComponent(ctx.core, input.name), servingIndex(ctx.core)]);
    return { ...component, servedBy: servedBy(component.root) };
  }),

  /** Checkpoints, rollbacks, verifications and removals on one time axis, newest first (`at` jumps to an instant, `day` to the end of a UTC day). */
  timeline: viewerProcedure.input(componentTimelineInput).query(({ ctx, input }) => {
    assertComponentInScope(ctx, input.component);
    return componentTimeline(ctx.core, input);
  }),

  /** The days (in `timeZone`, default UTC) the timeline has items on, with counts (day headings and the date jump). */
  timelineDays: viewerProcedure.input(timelineDaysInput).query(({ ctx, input }) => {
    assertComponentInScope(ctx, input.name);
    return timelineDays(ctx.core, input.name, input.timeZone);
  }),

  /** The newest checkpoint the live workspace matches (`partial`: in that checkpoint's scope only; scans the workspace, read-only). */
  liveMatch: viewerProcedure.input(componentByName).query(({ ctx, input }) => {
    assertComponentInScope(ctx, input.name);
    return runWorkspaceOperation(ctx.core, "component.liveMatch", input, ctx.actor);
  }),

  /** Files added, modified and deleted since the component's last whole checkpoint (counts and the first paths; read-only). */
  drift: viewerProcedure.input(componentByName).query(({ ctx, input }) => {
    assertComponentInScope(ctx, input.name);
    return runWorkspaceOperation(ctx.core, "component.drift", input, ctx.actor);
  }),

  upsert: operatorProcedure.input(componentUpsertInput).mutation(({ ctx, input }) => {
    assertComponentInScope(ctx, input.name);
    // A token scoped to some components may update them, but not move them onto other files.
    return runWorkspaceOperation(ctx.core, "component.upsert", { component: input, mayChangeRoot: ctx.principal.components.length === 0 }, ctx.actor);
  }),

  remove: operatorProcedure.input(componentByName).mutation(async ({ ctx, input }) => {
    assertComponentInScope(ctx, input.name);
    await removeComponent(ctx.core, input.name, ctx.actor);
    return { removed: input.name };
  }),
});
