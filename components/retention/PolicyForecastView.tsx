"use client";

import { formatCount, formatRelative, formatUtc } from "@/lib/format";
import { useNow } from "@/components/hooks/useNow";
import { keptInWords, removedInWords } from "@/server/retention/wording";
import type { RetentionPolicySetResult } from "@/lib/trpc/types";

type Forecast = RetentionPolicySetResult["forecast"];

/** When a policy starts removing checkpoints, in words: now, on a date (and how far off), or not while nothing new is taken. */
function StartSentence({ forecast }: { forecast: Forecast }) {
  const now = useNow();
  if (forecast.expireNow > 0) {
    return (
      <>
        The next retention run would remove <strong>{formatCount(forecast.expireNow)}</strong> checkpoint{forecast.expireNow === 1 ? "" : "s"}.
      </>
    );
  }
  if (forecast.firstExpiry) {
    const at = forecast.firstExpiry.at;
    return (
      <>
        Nothing would be removed now; the first checkpoint expires on <time dateTime={at}>{formatUtc(at)}</time>
        {now === null ? "" : ` (${formatRelative(at, now)})`}, if no new checkpoint is taken.
      </>
    );
  }
  return <>No checkpoint would expire while no new one is taken: each is pinned, the newest of its component, or kept by a count rule.</>;
}

/** What a policy would do to the existing checkpoints, before (or as) it is saved. */
export function PolicyForecastView({ forecast, saved }: { forecast: Forecast; saved: boolean }) {
  return (
    <div className="space-y-1 rounded-md border border-border bg-background px-3 py-2 text-sm" data-testid="policy-forecast">
      <p className="text-xs font-semibold text-muted">{saved ? "With this policy" : "If saved"}, for the checkpoints it governs:</p>
      <p data-testid="forecast-start">
        <StartSentence forecast={forecast} />
      </p>
      <p data-testid="forecast-words">
        {removedInWords(forecast.expired, true)}; {keptInWords(forecast.kept)}.
      </p>
      {forecast.applyToExisting ? (
        <p className="text-xs text-muted" data-testid="forecast-redated">
          {formatCount(forecast.redated)} existing checkpoint{forecast.redated === 1 ? "" : "s"} {saved ? "got" : "would get"} an earlier retention date from this policy.
        </p>
      ) : (
        <p className="text-xs text-muted">Existing checkpoints keep the retention date they were taken with; the policy only adds reasons to keep them.</p>
      )}
    </div>
  );
}
