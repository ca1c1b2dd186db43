/**
 * Who is on the other end of a request, for throttling and for the CSRF origin
 * check. The production server (scripts/next-server.mjs) stamps every request
 * with the address of the socket it arrived on, replacing any value a client sent.
 *
 * Forwarding headers (X-Forwarded-For, X-Forwarded-Host) are anyone's to write, so
 * they are believed only when SAFETYNET_TRUST_PROXY=1 says a reverse proxy in
 * front of the server sets them: then the client is the address the proxy saw
 * (the last X-Forwarded-For entry) and the host the browser used is X-Forwarded-Host.
 */

/** Set by scripts/next-server.mjs from the socket; never taken from the client. */
export const PEER_ADDRESS_HEADER = "x-safetynet-peer-address";

export function trustsProxy(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.SAFETYNET_TRUST_PROXY === "1";
}

/** `::ffff:127.0.0.1` -> `127.0.0.1`, so one client has one key. */
function normalize(address: string): string {
  const trimmed = address.trim();
  return trimmed.startsWith("::ffff:") && trimmed.includes(".") ? trimmed.slice("::ffff:".length) : trimmed;
}

function lastForwardedFor(request: Request): string | undefined {
  const entries = request.headers.get("x-forwarded-for")?.split(",").map((e) => e.trim()).filter(Boolean) ?? [];
  return entries[entries.length - 1];
}

/** The client's address: the proxy's word for it when trusted, else the socket's. */
export function clientAddress(request: Request, env: NodeJS.ProcessEnv = process.env): string {
  const peer = request.headers.get(PEER_ADDRESS_HEADER) ?? undefined;
  const forwarded = lastForwardedFor(request);
  // Without our server in front (`next dev`), Next fills X-Forwarded-For from the socket when the client did not.
  const address = trustsProxy(env) ? (forwarded ?? peer) : (peer ?? forwarded);
  return normalize(address ?? "unknown");
}

/** The host the browser addressed: X-Forwarded-Host only from a trusted proxy. */
export function requestHost(request: Request, env: NodeJS.ProcessEnv = process.env): string | null {
  const host = request.headers.get("host");
  if (!trustsProxy(env)) return host;
  return request.headers.get("x-forwarded-host")?.split(",")[0]?.trim() || host;
}
