"use client";

import Link from "next/link";
import { usePathname, useSearchParams } from "next/navigation";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { useTRPC } from "@/components/providers/TRPCProvider";
import { useConnectionState } from "@/lib/client/connection-state";
import type { Viewer } from "@/lib/trpc/types";

/** How often the header re-checks the session, so a revoked token or an expired session shows without a click. */
const SESSION_CHECK_MS = 30_000;

/** /login?next=<this page>: signing in again comes back here. */
export function useSignInAgainHref(reason = "expired"): string {
  const pathname = usePathname() ?? "/";
  const search = useSearchParams()?.toString();
  const next = `${pathname}${search ? `?${search}` : ""}`;
  const params = new URLSearchParams({ reason });
  if (next !== "/" && !next.startsWith("/login")) params.set("next", next);
  return `/login?${params.toString()}`;
}

/** Who is signed in (token name and role, also on a phone) with a sign-out button; a sign-in link otherwise. */
export function SessionBadge({ viewer }: { viewer: Viewer | null }) {
  const trpc = useTRPC();
  const { sessionEnded } = useConnectionState();
  const signInAgain = useSignInAgainHref();
  // A failure lands in the connection state (a 401 ends the session in the header).
  const { refetch } = useQuery({ ...trpc.auth.whoami.queryOptions(), enabled: viewer !== null && !sessionEnded, initialData: viewer ?? undefined, refetchInterval: SESSION_CHECK_MS, retry: false });
  // The header belongs to the root layout, which a click between pages does not render again:
  // each in-app navigation re-checks the session, so one that ended shows at once.
  const pathname = usePathname();
  const shownAt = useRef(pathname);
  useEffect(() => {
    if (shownAt.current === pathname) return;
    shownAt.current = pathname;
    if (viewer !== null && !sessionEnded) void refetch();
  }, [pathname, viewer, sessionEnded, refetch]);
  if (!viewer) {
    return (
      <Link href="/login" className="whitespace-nowrap text-sm text-muted hover:text-foreground">
        Sign in
      </Link>
    );
  }
  if (sessionEnded) {
    return (
      <div className="flex items-center gap-2 text-sm" data-testid="session-badge" data-session="ended">
        <span className="whitespace-nowrap text-warn">Session ended</span>
        <Link href={signInAgain} className="whitespace-nowrap rounded-md bg-accent px-2.5 py-1 font-medium text-background">
          Sign in again
        </Link>
      </div>
    );
  }
  return (
    <div className="flex min-w-0 items-center gap-2 text-sm sm:gap-3" data-testid="session-badge" data-session="active">
      <span className="min-w-0 truncate text-muted" title={`Signed in as ${viewer.name} (${viewer.role}) ${viewer.via === "session" ? "with a browser session" : "with a token"}`}>
        <span className="sr-only">Signed in as </span>
        <span className="font-medium text-foreground">{viewer.name}</span> · {viewer.role}
      </span>
      <form method="post" action="/api/auth/logout">
        <button type="submit" className="whitespace-nowrap rounded-md px-2 py-1 text-muted hover:bg-background hover:text-foreground">
          Sign out
        </button>
      </form>
    </div>
  );
}
