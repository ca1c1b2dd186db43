// Prometheus metrics in the text exposition format. Needs a viewer token
// (Authorization: Bearer) or a session: counts and sizes are not public.
import { authenticateRequest } from "@/server/auth/request";
import { errorResponse } from "@/server/api/http";
import { serverCore } from "@/server/api/server-core";
import { metricsText } from "@/server/audit/prometheus";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(req: Request): Promise<Response> {
  const core = serverCore();
  const auth = await authenticateRequest(core, req);
  if (!auth.principal) return errorResponse(401, "UNAUTHORIZED", auth.problem, { "WWW-Authenticate": 'Bearer realm="safetynet"' });
  const { body, contentType } = await metricsText(core);
  return new Response(body, { status: 200, headers: { "Content-Type": contentType, "Cache-Control": "no-store" } });
}
