/**
 * tRPC setup: the request context (core + who is calling), the error shape, and
 * the procedure builders. Auth is middleware, not an `if` in each handler:
 *
 *   viewerProcedure    read anything in scope
 *   agentProcedure     + create/verify checkpoints, plan and execute rollbacks
 *   operatorProcedure  + components, pins, deletes, retention
 *   adminProcedure     + API tokens
 *
 * Plain JSON on the wire (no transformer): outputs carry ISO date strings and
 * numbers, never Date or BigInt.
 */
import { initTRPC, TRPCError } from "@trpc/server";
import type { Core } from "../core";
import { actorOf, componentInScope, roleAtLeast, type Principal, type TokenRole } from "../auth/roles";
import { authenticateRequest, isCrossOrigin } from "../auth/request";
import { findCheckpointRow } from "../checkpoints/queries";
import { describeError, httpStatusOverride, toTRPCError } from "./errors";
import { serverCore } from "./server-core";

export interface TRPCContext {
  core: Core;
  principal: Principal | null;
  /** Why there is no principal (sent with the 401, or the 429). */
  authProblem: string | null;
  /** The client is throttled after too many failed attempts: answer 429 with this Retry-After. */
  retryAfterSeconds: number | null;
  /** null for server-side callers (React Server Components). */
  req: Request | null;
}

export async function createTRPCContext(opts: { req: Request }): Promise<TRPCContext> {
  const core = serverCore();
  const auth = await authenticateRequest(core, opts.req);
  return { core, principal: auth.principal, authProblem: auth.problem, retryAfterSeconds: auth.retryAfterSeconds, req: opts.req };
}

const t = initTRPC.context<TRPCContext>().create({
  errorFormatter({ shape, error }) {
    const described = describeError(error, shape.message);
    return {
      ...shape,
      message: described.message,
      data: {
        code: shape.data.code,
        httpStatus: httpStatusOverride(error) ?? shape.data.httpStatus,
        path: shape.data.path,
        field: described.field,
        safetynetCode: described.safetynetCode,
        details: described.details,
      },
    };
  },
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Core errors become their HTTP status here, once (see ./errors.ts for the table). */
const mapCoreErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) {
    const mapped = toTRPCError(result.error.cause);
    if (mapped) throw mapped;
  }
  return result;
});

const authenticated = t.middleware(({ ctx, type, next }) => {
  if (!ctx.principal) {
    const code = ctx.retryAfterSeconds === null ? "UNAUTHORIZED" : "TOO_MANY_REQUESTS";
    throw new TRPCError({ code, message: ctx.authProblem ?? "authentication required" });
  }
  if (ctx.principal.via === "session" && type === "mutation" && ctx.req && isCrossOrigin(ctx.req)) {
    throw new TRPCError({ code: "FORBIDDEN", message: "cross-origin request refused for a session-authenticated change" });
  }
  return next({ ctx: { ...ctx, principal: ctx.principal, actor: actorOf(ctx.principal) } });
});

/** A 403 that says why: the role (`reason: "role"`) or the component scope (`reason: "scope"`), in error.data.details. */
function forbidden(message: string, details: Record<string, unknown>): TRPCError {
  return Object.assign(new TRPCError({ code: "FORBIDDEN", message }), { details });
}

function requireRole(required: TokenRole) {
  return t.middleware(({ ctx, next }) => {
    const principal = ctx.principal;
    if (principal && !roleAtLeast(principal.role, required)) {
      throw forbidden(`token "${principal.name}" has role ${principal.role}; this needs ${required} or higher`, { reason: "role", role: principal.role, required });
    }
    return next();
  });
}

const authedProcedure = t.procedure.use(mapCoreErrors).use(authenticated);

export const viewerProcedure = authedProcedure.use(requireRole("viewer"));
export const agentProcedure = authedProcedure.use(requireRole("agent"));
export const operatorProcedure = authedProcedure.use(requireRole("operator"));
export const adminProcedure = authedProcedure.use(requireRole("admin"));

export type AuthedContext = TRPCContext & { principal: Principal; actor: string };

/** 403 unless the caller's token covers `component`. */
export function assertComponentInScope(ctx: { principal: Principal }, component: string): void {
  if (!componentInScope(ctx.principal, component)) {
    const scope = ctx.principal.components;
    throw forbidden(`this token may not act on component "${component}" (token "${ctx.principal.name}" is limited to ${scope.join(", ")})`, {
      reason: "scope",
      component,
      scope,
    });
  }
}

/** 403 unless the caller's token covers the checkpoint's component (404 comes from the core for unknown ids). */
export async function assertCheckpointInScope(ctx: { core: Core; principal: Principal }, checkpointId: string): Promise<void> {
  if (ctx.principal.components.length === 0) return;
  const row = await findCheckpointRow(ctx.core, checkpointId);
  assertComponentInScope(ctx, row.component.name);
}

/**
 * The components a list procedure with an optional component filter covers:
 * the one asked for (403 when it is outside the token's scope), else every
 * component of a scoped token (its lists are narrowed to them), else null
 * (an unscoped token: every component).
 */
export function listScope(ctx: { principal: Principal }, component: string | undefined): readonly string[] | null {
  if (component !== undefined) {
    assertComponentInScope(ctx, component);
    return [component];
  }
  return ctx.principal.components.length === 0 ? null : ctx.principal.components;
}
