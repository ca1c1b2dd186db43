// A bare client of the tRPC HTTP API, the way an agent in any language calls it:
// POST /api/trpc/<procedure> with a JSON body (mutations) or GET with ?input= (queries),
// and a bearer token, no tRPC library.
// Never throws: every outcome, a refused connection included, comes back as a value.
import { performance } from "node:perf_hooks";

/**
 * Whether a fetch failed on a kept-alive connection the server had already closed:
 * when this process was busy longer than the server's keep-alive timeout (a
 * synchronous child process: the cold CLI's checkpoint of a large tree), the
 * close was not seen in time and the next request went out on that socket (undici
 * reports it as a socket error, or as EPIPE when the write itself failed). The
 * server closes only idle connections, so the request was never taken: it is sent
 * again, once, on a new connection.
 */
const closedWhileIdle = (error) => error?.cause?.code === "UND_ERR_SOCKET" || error?.cause?.code === "EPIPE";

async function call(url, init) {
  const t0 = performance.now();
  const done = (result) => ({ ...result, ms: performance.now() - t0 });
  let response;
  let text;
  try {
    try {
      response = await fetch(url, init);
    } catch (error) {
      if (!closedWhileIdle(error)) throw error;
      response = await fetch(url, init);
    }
    text = await response.text();
  } catch (error) {
    return done({ ok: false, status: 0, error: `${error.message}${error.cause ? ` (${error.cause.code ?? error.cause.message})` : ""}` });
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return done({ ok: false, status: response.status, error: `non-JSON answer: ${text.slice(0, 300)}` });
  }
  if (response.status !== 200 || body.error) {
    const e = body.error ?? {};
    return done({ ok: false, status: response.status, error: `${e.data?.code ?? "ERROR"}${e.data?.safetynetCode ? `/${e.data.safetynetCode}` : ""}: ${e.message ?? text.slice(0, 300)}` });
  }
  return done({ ok: true, status: 200, data: body.result?.data });
}

/** `mutation(procedure, input)`; `mutation.query(procedure, input)` for the API's queries. */
export function trpcClient(baseUrl, token) {
  const authorization = `Bearer ${token}`;
  const mutation = (procedure, input) =>
    call(`${baseUrl}/api/trpc/${procedure}`, { method: "POST", headers: { "content-type": "application/json", authorization }, body: JSON.stringify(input) });
  mutation.query = (procedure, input) => call(`${baseUrl}/api/trpc/${procedure}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`, { headers: { authorization } });
  return mutation;
}

/** Like `client(procedure, input)`, but throws on failure and returns {data, ms}: for steps that must work. */
export async function must(client, procedure, input, { query = false } = {}) {
  const result = await (query ? client.query(procedure, input) : client(procedure, input));
  if (!result.ok) throw new Error(`${procedure} failed (${result.status}): ${result.error}`);
  return result;
}
