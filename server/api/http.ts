/**
 * HTTP concerns in front of tRPC: the request body limit (413 before any
 * parsing) and error bodies shaped like tRPC's, so clients parse one format.
 */
export const MAX_BODY_BYTES = Number(process.env.SAFETYNET_MAX_BODY_BYTES ?? 1024 * 1024);

/** A tRPC-shaped JSON error response for errors raised outside tRPC (413, 401 on /api/metrics). */
export function errorResponse(status: number, code: string, message: string, extraHeaders: Record<string, string> = {}): Response {
  const body = { error: { message, code: -32600, data: { code, httpStatus: status, path: null, field: null, safetynetCode: null, details: null } } };
  return Response.json(body, { status, headers: extraHeaders });
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
