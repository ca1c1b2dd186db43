/**
 * The API: one router per domain, merged. Served over HTTP by
 * app/api/trpc/[trpc]/route.ts (plain JSON, no transformer).
 */
import { authRouter } from "./routers/auth";
import { checkpointRouter } from "./routers/checkpoint";
import { componentRouter } from "./routers/component";
import { fileRouter } from "./routers/file";
import { historyRouter } from "./routers/history";
import { instanceRouter } from "./routers/instance";
import { retentionRouter } from "./routers/retention";
import { rollbackRouter } from "./routers/rollback";
import { sessionRouter } from "./routers/session";
import { statsRouter } from "./routers/stats";
import { createCallerFactory, createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  auth: authRouter,
  component: componentRouter,
  checkpoint: checkpointRouter,
  file: fileRouter,
  session: sessionRouter,
  rollback: rollbackRouter,
  history: historyRouter,
  retention: retentionRouter,
  stats: statsRouter,
  instance: instanceRouter,
});

export type AppRouter = typeof appRouter;

/** Server-side caller (React Server Components, tests): `createCaller(ctx).checkpoint.list({})`. */
export const createCaller = createCallerFactory(appRouter);
