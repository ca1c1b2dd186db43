import type { ReactNode } from "react";

/** Nothing to show yet, and what to do about it. */
export function EmptyState({ title, children, className = "" }: { title: string; children?: ReactNode; className?: string }) {
  return (
    <div className={`rounded-lg border border-dashed border-border bg-surface px-6 py-8 text-center ${className}`}>
      <p className="text-sm font-medium">{title}</p>
      {children ? <div className="mx-auto mt-2 max-w-xl text-sm leading-6 text-muted">{children}</div> : null}
    </div>
  );
}
