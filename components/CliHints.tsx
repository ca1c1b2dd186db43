import { CopyButton } from "@/components/ui/CopyButton";

export interface CliHint {
  /** What the command does, in a few words. */
  what: string;
  command: string;
}

/** The same action from a terminal, with the real ids filled in and a copy button per command. */
export function CliHints({ hints, title = "From a terminal" }: { hints: CliHint[]; title?: string }) {
  return (
    <details className="rounded-lg border border-border bg-surface text-sm" data-testid="cli-hints">
      <summary className="cursor-pointer px-4 py-3 font-medium">{title}</summary>
      <ul className="space-y-3 border-t border-border px-4 py-3">
        {hints.map((hint) => (
          <li key={hint.command} className="space-y-1">
            <p className="text-xs text-muted">{hint.what}</p>
            <div className="flex items-start gap-2">
              <pre className="min-w-0 flex-1 overflow-x-auto whitespace-pre-wrap break-all rounded-md border border-border bg-background px-3 py-2 font-mono text-xs">
                <code>{hint.command}</code>
              </pre>
              <CopyButton value={hint.command} label={`Copy: ${hint.what}`} />
            </div>
          </li>
        ))}
      </ul>
    </details>
  );
}
