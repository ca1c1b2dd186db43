"use client";

import { Button } from "@/components/ui/Button";

/** A page failed to render: say so, give the server log reference, offer to try again. */
export default function PageError({ error, retry }: { error: unknown; retry: () => void }) {
  const digest = error instanceof Error ? (error as Error & { digest?: string }).digest : undefined;
  return (
    <div role="alert" className="mx-auto max-w-xl rounded-lg border border-bad/40 bg-surface p-5">
      <h1 className="text-base font-semibold">This page could not be shown</h1>
      <p className="mt-2 text-sm text-muted">
        The server hit an unexpected error. Its log has the details{digest ? (
          <>
            {" "}
            under the reference <code className="font-mono">{digest}</code>
          </>
        ) : null}
        . Try again; the CLI (<code className="font-mono">npx safetynet</code>) works without the web server.
      </p>
      <Button className="mt-4" onClick={() => retry()}>
        Try again
      </Button>
    </div>
  );
}
