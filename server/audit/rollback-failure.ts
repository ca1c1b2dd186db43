/**
 * Two kinds of failed rollback. A refusal is a rollback stopped by a check before
 * it changed anything (damaged stored data, a stale or spent confirmation, files
 * in the way, another operation on the component, too little space, a checkpoint
 * that may not be rolled back to): the workspace is as it was, and the answer is
 * to act on the reason. A failure ran: it had started changing the workspace (or
 * its databases), or stopped for a reason no check foresaw.
 *
 * Recorded on the rollback's history event as `failure: "ran" | "refused"` (and
 * `refusal`: which check), so the history can be filtered and counted per
 * component by it. Events written before this distinction have neither key.
 */
import { asSafetyNetError } from "../errors";

export const ROLLBACK_FAILURES = ["ran", "refused"] as const;
export type RollbackFailure = (typeof ROLLBACK_FAILURES)[number];
export type RollbackRefusal = "integrity" | "confirmation" | "obstacles" | "busy" | "space" | "invalid";

export interface RollbackFailureDetails {
  failure: RollbackFailure;
  refusal?: RollbackRefusal;
}

/** Classifies a failed rollback; `changedAnything`: it had started changing the workspace or its databases. */
export function classifyRollbackFailure(error: unknown, changedAnything: boolean): RollbackFailureDetails {
  const known = asSafetyNetError(error);
  if (changedAnything || !known) return { failure: "ran" };
  const refusal = refusalOf(known.code, known.details);
  return refusal ? { failure: "refused", refusal } : { failure: "ran" };
}

function refusalOf(code: string, details: Record<string, unknown>): RollbackRefusal | null {
  switch (code) {
    case "INTEGRITY":
      return "integrity";
    case "NO_SPACE":
      return "space";
    case "CONFLICT":
      return Array.isArray(details.obstacles) ? "obstacles" : "busy";
    case "INVALID_INPUT":
      return details.field === "confirmToken" ? "confirmation" : "invalid";
    default:
      return null;
  }
}

/** The classification stored on a history event's details (null: not a classified failed rollback). */
export function storedRollbackFailure(details: unknown): RollbackFailureDetails | null {
  if (!details || typeof details !== "object") return null;
  const { failure, refusal } = details as Record<string, unknown>;
  if (failure !== "ran" && failure !== "refused") return null;
  return typeof refusal === "string" ? { failure, refusal: refusal as RollbackRefusal } : { failure };
}
