/**
 * Where the browser goes after signing in: the page it asked for before it was sent
 * to /login (`/login?next=/components/web`). Only a path on this site is followed;
 * anything else ("//evil.example", "https://…", "/\\evil", control characters)
 * sends the browser to the overview instead (no open redirect). Pure.
 */
export function safeReturnPath(next: string | null | undefined): string {
  if (!next || next.length > 2048) return "/";
  if (!next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  // eslint-disable-next-line no-control-regex -- control characters are what must be refused
  if (/[\u0000-\u001f\u007f\\]/.test(next)) return "/";
  if (next === "/login" || next.startsWith("/login?") || next.startsWith("/api/")) return "/";
  return next;
}

/** `/login?next=<path>` (plus a reason the page explains, e.g. "expired"). */
export function loginPathFor(next: string, reason?: string): string {
  const params = new URLSearchParams();
  const target = safeReturnPath(next);
  if (target !== "/") params.set("next", target);
  if (reason) params.set("reason", reason);
  const query = params.toString();
  return query ? `/login?${query}` : "/login";
}
