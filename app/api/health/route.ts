// Liveness and readiness for load balancers and test harnesses: opens the core
// (database reachable, migrations applied), checks that the database file is still
// the one the server opened, and reports pending recovery work.
import { serverCore } from "@/server/api/server-core";
import { databaseFileState, databasePath } from "@/server/db";
import { hasPendingJournals } from "@/server/rollback/recover";

export const dynamic = "force-dynamic";

export async function GET(): Promise<Response> {
  try {
    const core = serverCore();
    await core.db.$queryRawUnsafe("SELECT 1");
    const database = databaseFileState(core.config.dataDir);
    if (database !== "ok") {
      const file = databasePath(core.config.dataDir);
      const error = `the database ${file} was ${database === "missing" ? "deleted" : "replaced"} while the server runs: changes are refused; restart the server`;
      return Response.json({ status: "error", database, error }, { status: 503 });
    }
    return Response.json({ status: "ok", database, pendingRecovery: hasPendingJournals(core) });
  } catch (error) {
    return Response.json({ status: "error", error: error instanceof Error ? error.message : String(error) }, { status: 503 });
  }
}
