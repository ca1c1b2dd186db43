// Exchanges a one-time login code (sl_...) or an API token (sn_...) for a
// session cookie, then sends the browser back to the page it asked for (the form's
// `next`, a path on this site) or the dashboard. Form POST from /login.
import { signIn } from "@/server/auth/login-codes";
import { isHttps, sessionCookieHeader } from "@/server/auth/sessions";
import { isCrossOrigin } from "@/server/auth/request";
import { safeReturnPath } from "@/server/auth/return-path";
import { clientAddress } from "@/server/auth/client-address";
import { authRetryAfterSeconds, recordAuthFailure, throttledMessage } from "@/server/auth/throttle";
import { errorResponse, limitBody } from "@/server/api/http";
import { serverCore } from "@/server/api/server-core";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

function redirect(to: string, cookie?: string): Response {
  const headers = new Headers({ Location: to, "Cache-Control": "no-store" });
  if (cookie) headers.append("Set-Cookie", cookie);
  return new Response(null, { status: 303, headers });
}

export async function POST(req: Request): Promise<Response> {
  // A cross-site form must not sign the browser in (login CSRF).
  if (isCrossOrigin(req)) return errorResponse(403, "FORBIDDEN", "cross-origin sign-in refused");
  const limited = await limitBody(req, 16 * 1024);
  if (!limited.ok) return limited.response;
  let presented = "";
  let next = "/";
  try {
    const form = await limited.request.formData();
    presented = String(form.get("token") ?? "");
    next = safeReturnPath(String(form.get("next") ?? ""));
  } catch {
    return redirect("/login?error=" + encodeURIComponent("send the token as a form field named token"));
  }
  const again = (reason: string) => `/login?error=${encodeURIComponent(reason)}${next === "/" ? "" : `&next=${encodeURIComponent(next)}`}`;
  const core = serverCore();
  const address = clientAddress(req);
  const wait = await authRetryAfterSeconds(address);
  if (wait !== null) return errorResponse(429, "TOO_MANY_REQUESTS", throttledMessage(address, wait), { "Retry-After": String(wait) });
  const result = await signIn(core, presented);
  if (!result.ok) {
    await recordAuthFailure(address);
    core.log.warn({ event: "auth.login", outcome: "failed", reason: result.reason, address }, "sign-in refused");
    return redirect(again(result.reason));
  }
  core.log.info({ event: "auth.login", outcome: "succeeded", tokenName: result.tokenName }, "signed in");
  return redirect(next, sessionCookieHeader(result.cookieValue, { expiresAt: result.expiresAt, secure: isHttps(req) }));
}
