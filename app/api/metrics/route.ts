// Prometheus metrics in the text exposition format. Needs a viewer token
// (Authorization: Bearer) or a session: counts and sizes are not public. A token
// scoped to some components sees metrics of those components only.
import { authenticateRequest } from "@/server/auth/request";
import { errorResponse } from "@/server/api/http";
import { serverCore } from "@/server/api/server-core";
import { metricsText, scopedMetricsText } from "@/server/audit/prometheus";
import { statsScopeOf } from "@/server/auth/roles";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(req: Request): Promise<Response> {
  const core = serverCore();
  const auth = await authenticateRequest(core, req);
  if (!auth.principal) {
    if (auth.retryAfterSeconds !== null) return errorResponse(429, "TOO_MANY_REQUESTS", auth.problem, { "Retry-After": String(auth.retryAfterSeconds) });
    return errorResponse(401, "UNAUTHORIZED", auth.problem, { "WWW-Authenticate": 'Bearer realm="safetynet"' });
  }
  const scope = statsScopeOf(auth.principal);
  const { body, contentType } = scope === null ? await metricsText(core) : await scopedMetricsText(core, scope);
  return new Response(body, { status: 200, headers: { "Content-Type": contentType, "Cache-Control": "no-store" } });
}
