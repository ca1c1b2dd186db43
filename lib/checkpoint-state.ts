/**
 * Why a checkpoint cannot be rolled back to right now, in words the dashboard
 * shows next to the disabled button: the token's role, the checkpoint's status,
 * or damage a check found (naming the files). Pure.
 */
import { roleAllows, type ViewerRole } from "@/lib/trpc/types";

interface CheckpointState {
  status: string;
  verifyState: string;
  damagedFiles?: { path: string | null; state: string }[];
}

/** Files named in a reason; the checkpoint page lists them all. */
const NAMED = 3;

export function isDamaged(checkpoint: Pick<CheckpointState, "verifyState">): boolean {
  return checkpoint.verifyState === "corrupt" || checkpoint.verifyState === "missing";
}

export function damageSummary(checkpoint: CheckpointState): string {
  const files = checkpoint.damagedFiles ?? [];
  if (files.length === 0) return `its last check found stored objects ${checkpoint.verifyState}`;
  const named = files
    .slice(0, NAMED)
    .map((f) => `${f.path ?? "the manifest"} (${f.state})`)
    .join(", ");
  const more = files.length > NAMED ? ` and ${files.length - NAMED} more` : "";
  return `its last check found ${files.length} damaged file${files.length === 1 ? "" : "s"}: ${named}${more}`;
}

export function rollbackBlockedReason(checkpoint: CheckpointState, role: ViewerRole): string | null {
  if (!roleAllows(role, "agent")) return `Rolling back needs the agent role or higher; your token has ${role}`;
  if (checkpoint.status !== "active") return `This checkpoint is ${checkpoint.status} and cannot be rolled back to`;
  if (isDamaged(checkpoint)) return `Roll back is disabled: ${damageSummary(checkpoint)}. Pick another checkpoint`;
  return null;
}
