// GET /api/history/export?format=csv|json&component=&kind=&outcome=&actor=&agent=&task=&since=&until=:
// every history event matching history.list's filters, streamed (viewer role).
import { historyExportResponse } from "@/server/api/downloads";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(req: Request): Promise<Response> {
  return historyExportResponse(req);
}
