// GET|POST /api/cron/retention: the retention run for an external scheduler, with the
// Vercel Cron convention `Authorization: Bearer $CRON_SECRET`. Without CRON_SECRET set
// the route is disabled (503) rather than open; a wrong or missing secret is 401.
import { createHash, timingSafeEqual } from "node:crypto";
import { runRetention } from "@/server/retention";
import { serverCore } from "@/server/api/server-core";
import { asSafetyNetError, HTTP_STATUS_OF } from "@/server/api/errors";
import { clientAddress } from "@/server/auth/client-address";
import { authRetryAfterSeconds, recordAuthFailure, throttledMessage } from "@/server/auth/throttle";

export const dynamic = "force-dynamic";

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

/** Compares digests: always 32 bytes each, whatever characters (or lengths) the header holds. */
function authorized(request: Request, secret: string): boolean {
  const given = request.headers.get("authorization") ?? "";
  return timingSafeEqual(digest(given), digest(`Bearer ${secret}`));
}

async function handle(request: Request): Promise<Response> {
  const secret = process.env.CRON_SECRET;
  if (!secret) return Response.json({ error: "the cron route is disabled: set CRON_SECRET on the server" }, { status: 503 });
  const address = clientAddress(request);
  const wait = await authRetryAfterSeconds(address);
  if (wait !== null) return Response.json({ error: throttledMessage(address, wait) }, { status: 429, headers: { "Retry-After": String(wait) } });
  if (!authorized(request, secret)) {
    await recordAuthFailure(address);
    return Response.json({ error: "unauthorized: send Authorization: Bearer $CRON_SECRET" }, { status: 401 });
  }
  const dryRun = new URL(request.url).searchParams.get("dryRun") === "true";
  try {
    const result = await runRetention(serverCore(), { dryRun, actor: "cron" });
    return Response.json({
      outcome: result.outcome,
      dryRun,
      expired: result.expired.length,
      removed: result.removed.length,
      objectsDeleted: result.objects.length,
      bytesFreed: result.bytesFreed,
      durationMs: result.durationMs,
      historyEventId: result.historyEventId,
    });
  } catch (error) {
    const known = asSafetyNetError(error);
    const status = known ? HTTP_STATUS_OF[known.code] : 500;
    return Response.json({ error: error instanceof Error ? error.message : String(error) }, { status });
  }
}

export const GET = handle;
export const POST = handle;
