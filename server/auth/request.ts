/**
 * Credentials of an HTTP request: `Authorization: Bearer sn_...` first, else the
 * session cookie. A request that presents bad credentials is told so (401 with
 * the reason); it is never silently treated as anonymous-but-ok.
 */
import type { Core } from "../core";
import type { Principal } from "./roles";
import { authenticateApiToken } from "./tokens";
import { authenticateSession, readCookie, SESSION_COOKIE } from "./sessions";

export type RequestAuth = { principal: Principal; problem: null } | { principal: null; problem: string };

export async function authenticateRequest(core: Core, request: Request): Promise<RequestAuth> {
  const header = request.headers.get("authorization");
  if (header) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) return { principal: null, problem: "the Authorization header must be `Bearer <token>`" };
    const principal = await authenticateApiToken(core, match[1]);
    return principal ? { principal, problem: null } : { principal: null, problem: "unknown or revoked API token" };
  }
  const cookie = readCookie(request.headers.get("cookie"), SESSION_COOKIE);
  if (cookie) {
    const principal = await authenticateSession(core, cookie);
    return principal ? { principal, problem: null } : { principal: null, problem: "the session expired or was ended; sign in again" };
  }
  return { principal: null, problem: "no credentials: send `Authorization: Bearer <token>` (create one with `safetynet token create`)" };
}

/**
 * Cookie-authenticated writes must come from our own pages. SameSite=Strict
 * already keeps the cookie off cross-site requests; this is the second lock.
 */
export function isCrossOrigin(request: Request): boolean {
  const origin = request.headers.get("origin");
  if (!origin || origin === "null") return origin === "null";
  const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host");
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}
