import type { Metadata } from "next";
import { safeReturnPath } from "@/server/auth/return-path";

// "same-origin", not "no-referrer": the one-time code in the URL still never leaves in a
// Referer to another site, but the browser keeps sending `Origin` on the sign-in POST
// (under no-referrer it sends `Origin: null`, which /api/auth/login refuses as cross-origin).
export const metadata: Metadata = { title: "Sign in · Safety Net", referrer: "same-origin" };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

function first(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? "";
}

// Signs in with a one-time login link (`/login?token=sl_...`, printed at the first
// start) or a pasted API token. The form posts to /api/auth/login, which sets an
// httpOnly, SameSite=Strict session cookie and sends the browser back to the page it
// asked for (`next`, kept through the sign-in) or to the dashboard.
export default async function LoginPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const token = first(params.token);
  const error = first(params.error);
  const next = safeReturnPath(first(params.next));
  const reason = first(params.reason);
  return (
    <section className="mx-auto max-w-md space-y-6">
      <div className="space-y-2">
        <h1 className="text-2xl font-semibold tracking-tight">Sign in</h1>
        <p className="text-sm leading-6 text-muted">
          {token
            ? "Your one-time login link is filled in below. It works once; afterwards sign in with an API token."
            : "Paste an API token. The first start wrote the admin token to the file admin-token in the data directory; create more with safetynet token create."}
        </p>
      </div>
      {reason === "expired" && !error ? (
        <p role="status" className="rounded-md border border-warn/40 bg-warn/10 px-4 py-3 text-sm" data-testid="session-expired">
          Your session ended (it expired, or its token was revoked). Sign in again{next !== "/" ? " to return to the page you asked for" : ""}.
        </p>
      ) : next !== "/" && !error ? (
        <p role="status" className="rounded-md border border-border bg-surface px-4 py-3 text-sm">
          Sign in to open <span className="break-all font-mono text-xs">{next}</span>.
        </p>
      ) : null}
      {error ? (
        <p role="alert" className="rounded-md border border-bad/40 bg-bad/10 px-4 py-3 text-sm" data-testid="sign-in-error">
          <span className="font-semibold text-bad">Sign-in failed:</span> {error}
        </p>
      ) : null}
      <form method="post" action="/api/auth/login" className="space-y-4 rounded-lg border border-border bg-surface p-6">
        {next !== "/" ? <input type="hidden" name="next" value={next} /> : null}
        <label className="block space-y-2 text-sm font-medium">
          <span>Token or login code</span>
          <input
            name="token"
            type="password"
            required
            autoComplete="off"
            spellCheck={false}
            defaultValue={token}
            className="block w-full rounded-md border border-border bg-background px-3 py-2 font-mono text-sm"
            placeholder="sn_… or sl_…"
          />
        </label>
        <button type="submit" className="rounded-md bg-accent px-4 py-2 text-sm font-medium text-background">
          Sign in
        </button>
      </form>
    </section>
  );
}
