"use client";

import Link from "next/link";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useSignInAgainHref } from "@/components/SessionBadge";
import { Button } from "@/components/ui/Button";
import { useConnectionState } from "@/lib/client/connection-state";

/**
 * One banner for what concerns the whole page: the server cannot be reached (with
 * Retry, which asks again for everything on the page), or the session ended.
 */
export function ConnectionBanner() {
  const { unreachable, sessionEnded } = useConnectionState();
  const queryClient = useQueryClient();
  const signInAgain = useSignInAgainHref();
  const [retrying, setRetrying] = useState(false);
  if (sessionEnded) {
    return (
      <div role="alert" data-testid="session-ended-banner" className="border-b border-warn/40 bg-warn/10">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-3 px-4 py-3 text-sm sm:px-6">
          <p>
            <strong>Your session ended.</strong> It expired, you signed out in another tab, or its token was revoked. Nothing you did was lost on
            the server; sign in again to continue here.
          </p>
          <Link href={signInAgain} className="rounded-md bg-accent px-3.5 py-1.5 font-medium text-background">
            Sign in again
          </Link>
        </div>
      </div>
    );
  }
  if (!unreachable) return null;
  return (
    <div role="alert" data-testid="unreachable-banner" className="border-b border-bad/40 bg-bad/10">
      <div className="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-3 px-4 py-3 text-sm sm:px-6">
        <p>
          <strong>Cannot reach the Safety Net server.</strong> What you see may be out of date. Check that it is running (
          <code className="font-mono">npm start</code>); the CLI works without it.
        </p>
        <Button
          variant="primary"
          disabled={retrying}
          onClick={() => {
            setRetrying(true);
            void queryClient.refetchQueries({ type: "active" }).finally(() => setRetrying(false));
          }}
        >
          {retrying ? "Retrying…" : "Retry"}
        </Button>
      </div>
    </div>
  );
}
