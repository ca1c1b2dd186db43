// Liveness and readiness for load balancers and test harnesses: opens the core
// (database reachable, migrations applied) and reports pending recovery work.
import { serverCore } from "@/server/api/server-core";
import { hasPendingJournals } from "@/server/rollback/recover";

export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  try {
    const core = serverCore();
    await core.db.$queryRawUnsafe("SELECT 1");
    return Response.json({ status: "ok", pendingRecovery: hasPendingJournals(core) });
  } catch (error) {
    return Response.json({ status: "error", error: error instanceof Error ? error.message : String(error) }, { status: 503 });
  }
}
