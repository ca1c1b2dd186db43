import Link from "next/link";
import type { ApiProblem } from "@/lib/trpc/api-problem";

/**
 * A refusal under a form: the server's message verbatim after its status, and the
 * field it names highlighted by the form. An ended session is said in words, with
 * the way back in, not as a raw 401.
 */
export function InlineProblem({ problem, testId, className = "" }: { problem: ApiProblem; testId?: string; className?: string }) {
  return (
    <p role="alert" className={`rounded-md border border-bad/40 bg-bad/10 px-3 py-2 text-sm ${className}`} data-testid={testId}>
      {problem.kind === "unauthenticated" ? (
        <>
          Your session ended, so this was not done.{" "}
          <Link href="/login?reason=expired" className="text-accent underline">
            Sign in again
          </Link>
          .
        </>
      ) : (
        <>
          <span className="font-mono text-xs">{problem.status === null ? "no answer" : `${problem.status} ${problem.code}`}:</span> {problem.message}
        </>
      )}
    </p>
  );
}
