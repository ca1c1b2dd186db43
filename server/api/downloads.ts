/**
 * The plain HTTP downloads beside tRPC, with the same authentication, roles and
 * scope: every check goes through the app router's own procedures (a caller built
 * from the request's Bearer token or session cookie), so a download can never be
 * more permissive than the API.
 *
 *   GET /api/checkpoints/<id>/archive?format=tar.gz|zip[&intact=1]   the checkpoint as an archive (viewer);
 *       a damaged checkpoint is refused (422, naming the files) unless intact=1 asks for its intact files only
 *   GET /api/history/export?format=csv|json&<history.list filters>   every matching event (viewer)
 *
 * Both stream: the archive from the object store, the history page by page. A
 * refusal before the first byte is a JSON error shaped like tRPC's; a failure
 * while streaming (a damaged object) breaks the response off, so the client sees
 * a failed download rather than a short file.
 */
import { Readable } from "node:stream";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import type { z } from "zod";
import { openCheckpointArchive } from "../checkpoints/archive";
import type { ArchiveNote } from "../checkpoints/zip-names";
import { exportHistory, historyExportFileName, HISTORY_EXPORT_CONTENT_TYPES } from "../audit/history-export";
import { checkpointExportInput, historyExportFormat, historyListInput } from "../schemas";
import { createCaller } from "./root";
import { createTRPCContext } from "./trpc";
import { describeError, toTRPCError } from "./errors";

/** A tRPC-shaped JSON error for anything thrown before the first byte. */
export function errorResponseFor(error: unknown): Response {
  const trpcError =
    error instanceof TRPCError
      ? error
      : (toTRPCError(error) ?? new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: error instanceof Error ? error.message : String(error), cause: error }));
  const described = describeError(trpcError, trpcError.message);
  const status = getHTTPStatusCodeFromError(trpcError);
  const body = {
    error: {
      message: described.message,
      data: { code: trpcError.code, httpStatus: status, path: null, field: described.field, safetynetCode: described.safetynetCode, details: described.details },
    },
  };
  const headers: Record<string, string> = { "Cache-Control": "no-store" };
  if (status === 401) headers["WWW-Authenticate"] = 'Bearer realm="safetynet"';
  return Response.json(body, { status, headers });
}

function invalidInput(error: z.ZodError): TRPCError {
  return new TRPCError({ code: "BAD_REQUEST", message: "invalid input", cause: error });
}

function attachment(fileName: string): string {
  return `attachment; filename="${fileName.replace(/["\\\r\n]/g, "_")}"`;
}

async function callerFor(request: Request) {
  const ctx = await createTRPCContext({ req: request });
  return { ctx, caller: createCaller(ctx) };
}

/** Headers are bounded: the first notes travel in one, all of them are listed inside the archive. */
const NOTES_IN_HEADER = 50;

/** The archive's notes (names a zip had to escape, files left out), for a client that reports them; the archive lists them in `.safetynet-export-notes.json`. */
function noteHeaders(notes: readonly ArchiveNote[]): Record<string, string> {
  if (notes.length === 0) return {};
  return { "X-Safetynet-Notes-Count": String(notes.length), "X-Safetynet-Notes": encodeURIComponent(JSON.stringify(notes.slice(0, NOTES_IN_HEADER))) };
}

export async function checkpointArchiveResponse(request: Request, checkpointId: string): Promise<Response> {
  try {
    const url = new URL(request.url);
    const intact = url.searchParams.get("intact");
    const parsed = checkpointExportInput.safeParse({ id: checkpointId, format: url.searchParams.get("format") ?? "tar.gz", ...(intact === "1" || intact === "true" ? { intact: true } : {}) });
    if (!parsed.success) throw invalidInput(parsed.error);
    const { ctx, caller } = await callerFor(request);
    // Authentication, the viewer role, the token's scope and a 404 for unknown ids, as checkpoint.get decides them.
    await caller.checkpoint.get({ id: parsed.data.id });
    const archive = await openCheckpointArchive(ctx.core, parsed.data.id, parsed.data.format, { intactOnly: parsed.data.intact });
    ctx.core.log.info({ event: "checkpoint.archive", checkpointId: archive.checkpointId, format: archive.format, actor: ctx.principal ? `token:${ctx.principal.name}` : null }, "archive download");
    return new Response(Readable.toWeb(archive.stream) as ReadableStream<Uint8Array>, {
      status: 200,
      headers: {
        "Content-Type": archive.contentType,
        "Content-Disposition": attachment(archive.fileName),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "X-Safetynet-Checkpoint": archive.checkpointId,
        ...noteHeaders(archive.notes),
        ...(archive.leftOut.length > 0 ? { "X-Safetynet-Partial": String(archive.leftOut.length) } : {}),
      },
    });
  } catch (error) {
    return errorResponseFor(error);
  }
}

/** An export URL's query: the history.list filters (everything but cursor and limit) and the format. */
const historyExportQuery = historyListInput.omit({ cursor: true, limit: true }).extend({ format: historyExportFormat });

const EXPORT_PAGE = 500;

export async function historyExportResponse(request: Request): Promise<Response> {
  try {
    const params = new URL(request.url).searchParams;
    const raw: Record<string, string> = { format: params.get("format")?.trim() || "csv" };
    for (const key of ["component", "kind", "outcome", "failure", "actor", "agent", "task", "since", "until"] as const) {
      const value = params.get(key)?.trim();
      if (value) raw[key] = value;
    }
    const query = historyExportQuery.safeParse(raw);
    if (!query.success) throw invalidInput(query.error);
    const { format, ...filters } = query.data;
    const { ctx, caller } = await callerFor(request);
    // The first page before any byte: a refused filter (401, 403 scope, 400) is still a clean error response.
    const first = await caller.history.list({ ...filters, limit: EXPORT_PAGE });
    const chunks = exportHistory(format, {
      first,
      next: (cursor) => caller.history.list({ ...filters, cursor, limit: EXPORT_PAGE }),
      filters,
      exportedAt: ctx.core.now(),
    });
    return new Response(Readable.toWeb(Readable.from(chunks)) as ReadableStream<Uint8Array>, {
      status: 200,
      headers: {
        "Content-Type": HISTORY_EXPORT_CONTENT_TYPES[format],
        "Content-Disposition": attachment(historyExportFileName(format, filters, ctx.core.now())),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
      },
    });
  } catch (error) {
    return errorResponseFor(error);
  }
}
