import Link from "next/link";
import type { ReactNode } from "react";
import { retryCanHelp, scopeRefusal, type ApiProblem, type ProblemKind } from "@/lib/trpc/api-problem";
import { Button, buttonClasses } from "@/components/ui/Button";

interface Guidance {
  title: string;
  advice: ReactNode;
  tone: "bad" | "warn";
}

/** What to do, per kind; an unreachable server and an ended session get one line instead (see ProblemNotice). */
const GUIDANCE: Record<Exclude<ProblemKind, "network" | "unauthenticated">, Guidance> = {
  forbidden: {
    title: "Your token's role is too low",
    advice: "Ask an admin for a token with a higher role (admins create tokens on the Tokens page), then sign in with it.",
    tone: "warn",
  },
  "not-found": { title: "Not found", advice: "It may have been deleted by retention or never existed. Check the id, or go back to the components.", tone: "warn" },
  conflict: { title: "Another operation is running", advice: "Only one change runs per component at a time. Wait for it to finish, then try again.", tone: "warn" },
  "invalid-input": { title: "The request was refused", advice: "Nothing was changed.", tone: "bad" },
  integrity: {
    title: "Stored data is damaged",
    advice: "A stored object is corrupt or missing, so nothing was changed. Verify the checkpoint to see which files are affected, and use another checkpoint.",
    tone: "bad",
  },
  unavailable: { title: "Not available", advice: "This server does not offer this operation yet.", tone: "warn" },
  failed: { title: "Something failed on the server", advice: "The server log has the details. Try again; if it keeps failing, use the CLI (it works without the server).", tone: "bad" },
};

function guidanceFor(problem: ApiProblem & { kind: keyof typeof GUIDANCE }): Guidance {
  const component = scopeRefusal(problem);
  if (component) {
    return {
      title: `This token may not act on component ${component}`,
      advice: `Your token is limited to other components. Ask an admin for a token that includes ${component} (on the Tokens page, tick ${component} under "Limit to components"), then sign in with it.`,
      tone: "warn",
    };
  }
  return GUIDANCE[problem.kind];
}

/**
 * What went wrong with an API call and what to do about it; the server's message is
 * shown verbatim. An unreachable server or an ended session concern the whole page:
 * the banner under the header says so once (with Retry, or Sign in again), so a
 * panel only notes it in one line.
 */
export function ProblemNotice({ problem, onRetry, className = "" }: { problem: ApiProblem; onRetry?: () => void; className?: string }) {
  if (problem.kind === "network") {
    return (
      <p role="status" className={`rounded-md border border-dashed border-border px-4 py-3 text-sm text-muted ${className}`}>
        Not loaded: the server cannot be reached (see the banner above).
      </p>
    );
  }
  // Pages send a visitor without a session to /login before rendering; a panel only meets this when the session ends while the page is open.
  if (problem.kind === "unauthenticated") {
    return (
      <p role="status" className={`rounded-md border border-dashed border-border px-4 py-3 text-sm text-muted ${className}`}>
        Not loaded: your session ended.{" "}
        <Link href="/login?reason=expired" className="text-accent underline">
          Sign in again
        </Link>
        .
      </p>
    );
  }
  const guidance = guidanceFor({ ...problem, kind: problem.kind });
  const border = guidance.tone === "bad" ? "border-bad/40" : "border-warn/40";
  return (
    <div role="alert" className={`rounded-lg border ${border} bg-surface p-5 ${className}`}>
      <h2 className="text-base font-semibold">{guidance.title}</h2>
      <p className="mt-2 break-words font-mono text-sm">
        {problem.status !== null ? <span className="text-muted">{problem.status} {problem.code}: </span> : null}
        {problem.message}
      </p>
      <p className="mt-2 text-sm leading-6 text-muted">{guidance.advice}</p>
      <div className="mt-4 flex flex-wrap gap-3">
        {problem.kind === "forbidden" ? (
          <Link href="/login" className={buttonClasses("secondary")}>
            Sign in with another token
          </Link>
        ) : null}
        {problem.kind === "not-found" ? (
          <Link href="/" className={buttonClasses("secondary")}>
            Back to components
          </Link>
        ) : null}
        {onRetry && retryCanHelp(problem) ? (
          <Button onClick={onRetry}>Try again</Button>
        ) : null}
      </div>
    </div>
  );
}
