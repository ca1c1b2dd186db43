"use client";

import { shortSha } from "@/lib/format";
import { Time, useFormatTime } from "@/components/ui/Time";

type VerifyState = "unverified" | "verified" | "corrupt" | "missing";

const STATES: Record<VerifyState, { label: string; icon: string; classes: string; explain: string }> = {
  unverified: { label: "unverified", icon: "○", classes: "border-border text-muted", explain: "not re-hashed since it was taken" },
  verified: { label: "verified", icon: "✓", classes: "border-ok/40 text-ok", explain: "every stored object matched its sha256" },
  corrupt: { label: "corrupt", icon: "✕", classes: "border-bad/50 text-bad", explain: "a stored object no longer matches its sha256" },
  missing: { label: "missing", icon: "!", classes: "border-bad/50 text-bad", explain: "a stored object is missing" },
};

function asState(value: string): VerifyState {
  return value in STATES ? (value as VerifyState) : "unverified";
}

/** The manifest checksum (short sha256) with its verification state: unverified / verified at T / corrupt / missing. */
export function ChecksumBadge({ sha256, verifyState, verifiedAt }: { sha256: string; verifyState: string; verifiedAt: string | null }) {
  const state = asState(verifyState);
  const look = STATES[state];
  const formatTime = useFormatTime();
  const title = `manifest sha256 ${sha256}\n${look.label}${verifiedAt && state !== "unverified" ? ` at ${formatTime(verifiedAt)}` : ""}: ${look.explain}`;
  return (
    <span
      title={title}
      data-verify-state={state}
      className={`inline-flex max-w-full items-center overflow-hidden rounded-md border bg-surface text-xs leading-5 ${look.classes}`}
    >
      <span className="border-r border-border px-1.5 font-mono text-foreground">
        <span className="text-muted">sha256 </span>
        {shortSha(sha256)}
      </span>
      <span className="whitespace-nowrap px-1.5 font-medium">
        <span aria-hidden="true">{look.icon} </span>
        {look.label}
        {state !== "unverified" && verifiedAt ? (
          <>
            {" "}
            <Time iso={verifiedAt} mode="relative" />
          </>
        ) : null}
      </span>
    </span>
  );
}
