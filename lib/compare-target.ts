/**
 * What a checkpoint is compared with on its compare page (/checkpoints/<id>/compare?against=…):
 * the previous checkpoint (its change records' base), the live workspace, or any other
 * checkpoint of the component, by id. Pure: links and the page read the same value.
 */
export type CompareAgainst = "previous" | "live" | { checkpointId: string };

const CHECKPOINT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function parseCompareAgainst(value: string | string[] | undefined): CompareAgainst {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === "live") return "live";
  if (text && text !== "previous" && CHECKPOINT_ID.test(text)) return { checkpointId: text };
  return "previous";
}

export function compareAgainstParam(against: CompareAgainst): string {
  return typeof against === "string" ? against : against.checkpointId;
}

export function compareHref(checkpointId: string, against: CompareAgainst = "previous"): string {
  return `/checkpoints/${encodeURIComponent(checkpointId)}/compare?against=${encodeURIComponent(compareAgainstParam(against))}`;
}
