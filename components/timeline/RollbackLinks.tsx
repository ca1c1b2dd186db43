import Link from "next/link";
import { Time } from "@/components/ui/Time";

/** Where a rollback's record is: its component's timeline filtered to it (the rollback, its safety checkpoint and its undo). */
export function rollbackRecordHref(component: string, rollbackId: string): string {
  return `/components/${encodeURIComponent(component)}?q=${encodeURIComponent(rollbackId)}#${encodeURIComponent(rollbackId)}`;
}

export function RollbackIdLink({ component, rollbackId, className }: { component: string; rollbackId: string; className?: string }) {
  return (
    <Link href={rollbackRecordHref(component, rollbackId)} className={className ?? "font-mono text-xs text-accent hover:underline"} data-testid="rollback-link">
      {rollbackId}
    </Link>
  );
}

/** "undone by rb_… at …": the rollback that went back to this one's safety checkpoint (the server derives it). */
export function UndoneByNote({ component, undoneBy }: { component: string; undoneBy: { rollbackId: string; at: string } | null }) {
  if (!undoneBy) return null;
  return (
    <span className="text-xs text-muted" data-testid="undone-by">
      undone by <RollbackIdLink component={component} rollbackId={undoneBy.rollbackId} /> at <Time iso={undoneBy.at} />
    </span>
  );
}
