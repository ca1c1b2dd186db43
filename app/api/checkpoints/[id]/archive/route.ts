// GET /api/checkpoints/<id>/archive?format=tar.gz|zip: the checkpoint as an archive,
// streamed and verified (viewer role, Bearer token or session, scope checked).
import { checkpointArchiveResponse } from "@/server/api/downloads";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  return checkpointArchiveResponse(req, (await params).id);
}
