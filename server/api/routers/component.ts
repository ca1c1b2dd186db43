import { z } from "zod";
import { componentByName, componentTimelineInput, componentUpsertInput, timelineDaysInput } from "../../schemas";
import { getComponent, listComponents, removeComponent, upsertComponent } from "../../registry/components";
import { checkpointActivityByComponent, NO_ACTIVITY } from "../../registry/component-activity";
import { componentInScope } from "../../auth/roles";
import { componentTimeline } from "../../timeline/component-timeline";
import { timelineDays } from "../../timeline/timeline-days";
import { matchLiveWorkspace } from "../../timeline/live-match";
import { assertComponentInScope, createTRPCRouter, operatorProcedure, viewerProcedure } from "../trpc";

export const componentRouter = createTRPCRouter({
  /** Components in the caller's scope, each with its checkpoint count and the time of its newest checkpoint. */
  list: viewerProcedure.input(z.object({}).optional()).query(async ({ ctx }) => {
    const [items, activity] = await Promise.all([listComponents(ctx.core), checkpointActivityByComponent(ctx.core)]);
    return {
      items: items.filter((c) => componentInScope(ctx.principal, c.name)).map((c) => ({ ...c, ...(activity.get(c.id) ?? NO_ACTIVITY) })),
    };
  }),

  get: viewerProcedure.input(componentByName).query(({ ctx, input }) => {
    assertComponentInScope(ctx, input.name);
    return getComponent(ctx.core, input.name);
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

  /** The newest checkpoint the live workspace matches exactly (scans the workspace, read-only). */
  liveMatch: viewerProcedure.input(componentByName).query(({ ctx, input }) => {
    assertComponentInScope(ctx, input.name);
    return matchLiveWorkspace(ctx.core, input.name);
  }),

  upsert: operatorProcedure.input(componentUpsertInput).mutation(({ ctx, input }) => {
    assertComponentInScope(ctx, input.name);
    // A token scoped to some components may update them, but not move them onto other files.
    return upsertComponent(ctx.core, input, ctx.actor, { mayChangeRoot: ctx.principal.components.length === 0 });
  }),

  remove: operatorProcedure.input(componentByName).mutation(async ({ ctx, input }) => {
    assertComponentInScope(ctx, input.name);
    await removeComponent(ctx.core, input.name, ctx.actor);
    return { removed: input.name };
  }),
});
