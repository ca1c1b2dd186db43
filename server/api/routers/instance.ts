import { z } from "zod";
import { listInstances } from "../../instances/serving";
import { readRoutedJob } from "../../instances/job-view";
import { createTRPCRouter, viewerProcedure } from "../trpc";

export const instanceRouter = createTRPCRouter({
  /** Every server instance on this metadata: host, roots, version, heartbeat age, live / stale / stopped. */
  list: viewerProcedure.input(z.object({}).optional()).query(({ ctx }) => listInstances(ctx.core)),

  /** A job this caller's request handed to another instance (named in a 503 when that instance stopped mid-way): its state and outcome. */
  job: viewerProcedure.input(z.object({ id: z.string().min(1).max(64).regex(/^job_[0-9a-z]+$/, "a job id is job_ followed by letters and digits") })).query(({ ctx, input }) =>
    readRoutedJob(ctx.core, input.id, { actor: ctx.actor, admin: ctx.principal.role === "admin" }),
  ),
});
