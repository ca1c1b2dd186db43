import { Pill, type Tone } from "@/components/ui/Pill";

const REASONS: Record<string, { tone: Tone; explain: string }> = {
  primary: { tone: "accent", explain: "asked for: a path of the checkpoint, or the whole component" },
  "related-test": { tone: "info", explain: "a test of a primary file" },
  "related-import": { tone: "info", explain: "imported by a primary file" },
  sibling: { tone: "neutral", explain: "next to a primary file (same directory)" },
};

/** Why an entry is in a checkpoint (primary / related-test / related-import / sibling). */
export function ReasonPill({ reason }: { reason: string }) {
  const look = REASONS[reason] ?? { tone: "neutral" as const, explain: reason };
  return (
    <Pill tone={look.tone} title={look.explain}>
      {reason}
    </Pill>
  );
}

export function reasonExplanation(reason: string): string {
  return REASONS[reason]?.explain ?? reason;
}
