import { formatBytes, formatCount, shortSha } from "@/lib/format";
import type { VerifyResult } from "@/lib/trpc/types";

/** The outcome of checkpoint.verify: every object re-hashed, and the files whose stored content is damaged. */
export function VerifyResultView({ result }: { result: VerifyResult }) {
  const ok = result.state === "verified";
  return (
    <div role="status" data-testid="verify-result" className={`rounded-md border px-4 py-3 text-sm ${ok ? "border-ok/40 bg-ok/10" : "border-bad/40 bg-bad/10"}`}>
      <p className={`font-semibold ${ok ? "text-ok" : "text-bad"}`}>
        {ok ? "Verified: every stored object matches its sha256" : `Verification failed: ${result.state}`}
      </p>
      <p className="mt-1 text-xs text-muted">
        {formatCount(result.objectsChecked)} objects, {formatBytes(result.bytesChecked)} re-hashed.
      </p>
      {result.problems.length > 0 ? (
        <ul className="mt-2 max-h-48 space-y-1 overflow-y-auto font-mono text-xs">
          {result.problems.map((p) => (
            <li key={`${p.path ?? "manifest"}:${p.sha256}`}>
              <span className="font-semibold text-bad">{p.state}</span> {p.path ?? "(the manifest itself)"}{" "}
              <span className="text-muted">sha256 {shortSha(p.sha256)}</span>
            </li>
          ))}
        </ul>
      ) : null}
      {!ok ? <p className="mt-2 text-xs">A rollback to this checkpoint would be refused for the affected files. Use another checkpoint.</p> : null}
    </div>
  );
}
