// Ends the browser session and clears its cookie.
import { clearSessionCookieHeader, endSession, isHttps, readCookie, SESSION_COOKIE } from "@/server/auth/sessions";
import { serverCore } from "@/server/api/server-core";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function POST(req: Request): Promise<Response> {
  const cookie = readCookie(req.headers.get("cookie"), SESSION_COOKIE);
  if (cookie) await endSession(serverCore(), cookie);
  const headers = new Headers({ Location: "/login", "Cache-Control": "no-store" });
  headers.append("Set-Cookie", clearSessionCookieHeader(isHttps(req)));
  return new Response(null, { status: 303, headers });
}
