/**
 * HTTP concerns in front of tRPC: the request body limit (413 before any
 * parsing), the batch size limit (400 before any procedure runs) and error
 * bodies shaped like tRPC's, so clients parse one format.
 */
export const MAX_BODY_BYTES = Number(process.env.SAFETYNET_MAX_BODY_BYTES ?? 1024 * 1024);

/**
 * Calls one batched request may hold (`?batch=1`, procedures joined by commas):
 * one request must not multiply work without bound. @trpc/client's httpBatchLink
 * puts every call made in the same tick into one request and sets no limit of its
 * own, so the cap sits well above what an agent fires at once (tens of calls);
 * clients that may exceed it set the link's `maxItems`.
 */
export const MAX_BATCH_SIZE = 100;

/** A tRPC-shaped JSON error response for errors raised outside tRPC (413, 401 on /api/metrics). */
export function errorResponse(status: number, code: string, message: string, extraHeaders: Record<string, string> = {}): Response {
  const body = { error: { message, code: -32600, data: { code, httpStatus: status, path: null, field: null, safetynetCode: null, details: null } } };
  return Response.json(body, { status, headers: extraHeaders });
}

/**
 * 400 naming the limit when a batched request (`/api/trpc/a,b,c?batch=1`) holds
 * more than `limit` calls; null otherwise. `endpoint` is the path before the procedures.
 */
export function refuseOversizedBatch(request: Request, endpoint: string, limit = MAX_BATCH_SIZE): Response | null {
  const url = new URL(request.url);
  if (url.searchParams.get("batch") !== "1" || !url.pathname.startsWith(`${endpoint}/`)) return null;
  let procedures: string;
  try {
    procedures = decodeURIComponent(url.pathname.slice(endpoint.length + 1));
  } catch {
    return null; // tRPC answers a malformed path itself
  }
  const calls = procedures.split(",").length;
  if (calls <= limit) return null;
  return errorResponse(400, "BAD_REQUEST", `a batch may hold at most ${limit} calls; this one holds ${calls}: split it into several requests`);
}

export type LimitedBody = { ok: true; request: Request } | { ok: false; response: Response };

/**
 * Refuses bodies over MAX_BODY_BYTES with 413: by Content-Length when sent,
 * else while reading (chunked uploads). Returns a request with the body buffered.
 */
export async function limitBody(request: Request, limit = MAX_BODY_BYTES): Promise<LimitedBody> {
  const tooLarge = (): LimitedBody => ({
    ok: false,
    response: errorResponse(413, "PAYLOAD_TOO_LARGE", `request body is larger than the limit of ${limit} bytes`),
  });
  if (request.method === "GET" || request.method === "HEAD" || !request.body) return { ok: true, request };
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > limit) return tooLarge();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      return tooLarge();
    }
    chunks.push(value);
  }
  const body = Buffer.concat(chunks);
  return { ok: true, request: new Request(request.url, { method: request.method, headers: request.headers, body }) };
}
