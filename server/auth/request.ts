/**
 * Credentials of an HTTP request: `Authorization: Bearer sn_...` first, else the
 * session cookie. A request that presents bad credentials is told so (401 with
 * the reason); it is never silently treated as anonymous-but-ok. Bearer tokens
 * are throttled per client address (./throttle.ts): an address with too many
 * failures is refused (429) before its token is even looked up.
 */
import type { Core } from "../core";
import type { Principal } from "./roles";
import { authenticateApiToken } from "./tokens";
import { authenticateSession, readCookie, SESSION_COOKIE } from "./sessions";
import { clientAddress, requestHost } from "./client-address";
import { authRetryAfterSeconds, recordAuthFailure, throttledMessage } from "./throttle";

export type RequestAuth =
  | { principal: Principal; problem: null; retryAfterSeconds: null }
  | { principal: null; problem: string; /** Set when the client is throttled (429), not merely unauthenticated (401). */ retryAfterSeconds: number | null };

const refused = (problem: string): RequestAuth => ({ principal: null, problem, retryAfterSeconds: null });
const accepted = (principal: Principal): RequestAuth => ({ principal, problem: null, retryAfterSeconds: null });

export async function authenticateRequest(core: Core, request: Request): Promise<RequestAuth> {
  const header = request.headers.get("authorization");
  if (header) {
    const address = clientAddress(request);
    const wait = await authRetryAfterSeconds(address);
    if (wait !== null) return { principal: null, problem: throttledMessage(address, wait), retryAfterSeconds: wait };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const principal = match?.[1] ? await authenticateApiToken(core, match[1]) : null;
    if (principal) return accepted(principal);
    await recordAuthFailure(address);
    return refused(match?.[1] ? "unknown or revoked API token" : "the Authorization header must be `Bearer <token>`");
  }
  const cookie = readCookie(request.headers.get("cookie"), SESSION_COOKIE);
  if (cookie) {
    const principal = await authenticateSession(core, cookie);
    return principal ? accepted(principal) : refused("the session expired or was ended; sign in again");
  }
  return refused("no credentials: send `Authorization: Bearer <token>` (create one with `safetynet token create`)");
}

/**
 * Cookie-authenticated writes must come from our own pages. SameSite=Strict
 * already keeps the cookie off cross-site requests; this is the second lock.
 * X-Forwarded-Host counts only behind a trusted proxy (SAFETYNET_TRUST_PROXY=1).
 */
export function isCrossOrigin(request: Request): boolean {
  const origin = request.headers.get("origin");
  if (!origin || origin === "null") return origin === "null";
  const host = requestHost(request);
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}
