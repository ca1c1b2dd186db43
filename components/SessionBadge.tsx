import Link from "next/link";
import type { Viewer } from "@/lib/trpc/types";

/** Who is signed in (token name and role) with a sign-out button; a sign-in link otherwise. */
export function SessionBadge({ viewer }: { viewer: Viewer | null }) {
  if (!viewer) {
    return (
      <Link href="/login" className="whitespace-nowrap text-sm text-muted hover:text-foreground">
        Sign in
      </Link>
    );
  }
  return (
    <div className="flex items-center gap-3 text-sm">
      <span className="hidden text-muted sm:inline" title={`Signed in ${viewer.via === "session" ? "with a browser session" : "with a token"}`}>
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
