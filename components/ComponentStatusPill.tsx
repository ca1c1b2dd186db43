import { Pill, type Tone } from "@/components/ui/Pill";

const STATUS_TONES: Record<string, Tone> = {
  active: "ok",
  "rolled-back": "warn",
  deprecated: "neutral",
  archived: "neutral",
  broken: "bad",
  failed: "bad",
};

/** The `status` of a component's metadata document (free text; known values are coloured). */
export function ComponentStatusPill({ metadata }: { metadata: Record<string, unknown> }) {
  const status = typeof metadata.status === "string" && metadata.status ? metadata.status : null;
  if (!status) return <span className="text-muted">—</span>;
  return <Pill tone={STATUS_TONES[status] ?? "info"}>{status}</Pill>;
}
