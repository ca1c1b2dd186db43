// The tRPC API over HTTP: POST /api/trpc/<procedure> with a JSON body for
// mutations, GET /api/trpc/<procedure>?input=<url-encoded JSON> for queries.
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "@/server/api/root";
import { createTRPCContext } from "@/server/api/trpc";
import { limitBody, MAX_BATCH_SIZE, refuseOversizedBatch } from "@/server/api/http";
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
    // A throttled client (429) is told when it may try again.
    responseMeta({ ctx, errors }) {
      const retryAfter = ctx?.retryAfterSeconds;
      if (retryAfter == null || !errors.some((e) => e.code === "TOO_MANY_REQUESTS")) return {};
      return { headers: { "Retry-After": String(retryAfter) } };
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
