/** A placeholder while data loads: grey bars the size of what is coming, announced to screen readers. */
export function LoadingBlock({ label, rows = 3, className = "" }: { label: string; rows?: number; className?: string }) {
  return (
    <div role="status" aria-live="polite" aria-busy="true" className={`space-y-3 ${className}`}>
      <span className="sr-only">{label}</span>
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="h-10 animate-pulse rounded-md bg-border/60" style={{ opacity: 1 - i * 0.2 }} />
      ))}
    </div>
  );
}
