// The tRPC API over HTTP: POST /api/trpc/<procedure> with a JSON body for
// mutations, GET /api/trpc/<procedure>?input=<url-encoded JSON> for queries.
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "@/server/api/root";
import { createTRPCContext } from "@/server/api/trpc";
import { limitBody, MAX_BATCH_SIZE, refuseOversizedBatch } from "@/server/api/http";
import { httpStatusOverride } from "@/server/api/errors";
import { serverCore } from "@/server/api/server-core";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const ENDPOINT = "/api/trpc";

async function handler(req: Request): Promise<Response> {
  const oversized = refuseOversizedBatch(req, ENDPOINT);
  if (oversized) return oversized;
  const limited = await limitBody(req);
  if (!limited.ok) return limited.response;
  return fetchRequestHandler({
    endpoint: ENDPOINT,
    req: limited.request,
    router: appRouter,
    // The check above answers first and names the limit; this is tRPC's own guard behind it.
    maxBatchSize: MAX_BATCH_SIZE,
    createContext: ({ req: request }) => createTRPCContext({ req: request }),
    // 507 for "not enough space" (a status tRPC's codes do not have); a throttled client (429) is told when it may try again.
    responseMeta({ ctx, errors }) {
      const status = errors.map((e) => httpStatusOverride(e)).find((s) => s !== null);
      const retryAfter = ctx?.retryAfterSeconds;
      const headers = retryAfter != null && errors.some((e) => e.code === "TOO_MANY_REQUESTS") ? { "Retry-After": String(retryAfter) } : undefined;
      return { ...(status ? { status } : {}), ...(headers ? { headers } : {}) };
    },
    onError({ error, path, type, ctx }) {
      const status = error.code === "INTERNAL_SERVER_ERROR" ? "error" : "warn";
      serverCore().log[status](
        {
          event: "api.error",
          procedure: path ?? null,
          type,
          code: error.code,
          actor: ctx?.principal ? `token:${ctx.principal.name}` : null,
          error: error.message,
          ...(status === "error" ? { stack: error.cause instanceof Error ? error.cause.stack : error.stack } : {}),
        },
        `api ${path ?? "?"} ${error.code}`,
      );
    },
  });
}

export { handler as GET, handler as POST };
