"use client";

import { RollbackDialog } from "@/components/RollbackDialog";
import { roleAllows, type ViewerRole } from "@/lib/trpc/types";

export interface UndoableRollback {
  id: string;
  component: string;
  safetyCheckpointId: string;
  startedAt: string;
}

/**
 * "Undo rollback rb_…": the rollback dialog aimed at the rollback's safety
 * checkpoint, in its undo wording. The timeline and the history open it; a
 * finished rollback's result offers the same undo inside its own dialog.
 * `hidden`: no longer offered (the rollback was undone meanwhile), kept mounted so
 * a dialog already open stays open when the data under it refreshes.
 */
export function UndoRollbackDialog({
  rollback,
  role,
  hidden = false,
  className,
  blockedReason,
}: {
  rollback: UndoableRollback;
  role: ViewerRole;
  hidden?: boolean;
  className?: string;
  /** Why the undo cannot be offered (a damaged safety checkpoint); by default only the role is checked. */
  blockedReason?: string | null;
}) {
  return (
    <RollbackDialog
      target={{ id: rollback.safetyCheckpointId, component: rollback.component, createdAt: rollback.startedAt, reason: `safety checkpoint before rollback ${rollback.id}` }}
      undo={{ rollbackId: rollback.id }}
      disabledReason={blockedReason !== undefined ? blockedReason : roleAllows(role, "agent") ? null : `Undoing needs the agent role or higher; your token has ${role}`}
      trigger={{ label: "Undo…", variant: "secondary", className: className ?? "px-3 py-1.5 text-xs", hidden }}
    />
  );
}
