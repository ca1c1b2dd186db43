const STEPS: ReadonlyArray<{ title: string; command: string; note: string }> = [
  {
    title: "Register a component",
    command: 'npx safetynet component add my-app --root ./my-app --exclude "node_modules/**"',
    note: "A component is a directory inside an allowed workspace root, with optional include and exclude globs.",
  },
  {
    title: "Take a checkpoint before the agent starts (and keep its id)",
    command: 'id=$(npx safetynet checkpoint create my-app --reason "before refactor" --json | jq -r .id)',
    note: "Files are stored once by their sha256; unchanged files are not read again. Without jq, the id is on the first line of the plain output.",
  },
  {
    title: "See what changed since",
    command: 'npx safetynet checkpoint diff "$id" --patch',
    note: "Lists added, modified and deleted files relative to the checkpoint.",
  },
  {
    title: "Roll back",
    command: 'npx safetynet rollback "$id" --dry-run\nnpx safetynet rollback "$id"',
    note: "Prints the plan first and asks for confirmation. A safety checkpoint of the current state is taken, so the rollback itself can be undone. Once a component exists, this page does all of it in the browser.",
  },
  {
    title: "Review the history",
    command: "npx safetynet history my-app",
    note: "Every create, verify, rollback, delete and retention run is recorded with its actor, outcome and checksums.",
  },
];

/** The CLI walkthrough shown while no component is registered. */
export function GettingStarted() {
  return (
    <section aria-labelledby="getting-started" className="rounded-lg border border-border bg-surface p-6">
      <h2 id="getting-started" className="text-lg font-semibold">
        Getting started
      </h2>
      <p className="mt-1 text-sm text-muted">
        Run these in the repository after <code className="font-mono">npm install</code>. Add <code className="font-mono">--json</code> to any
        command for machine-readable output, and <code className="font-mono">--data-dir &lt;dir&gt;</code> (or{" "}
        <code className="font-mono">SAFETYNET_DATA_DIR</code>) to choose where checkpoints are kept; the default is{" "}
        <code className="font-mono">.safetynet/</code>. Agents can do the same over the tRPC API or the MCP server.
      </p>
      <ol className="mt-6 space-y-6">
        {STEPS.map((step, index) => (
          <li key={step.title} className="space-y-2">
            <h3 className="text-sm font-medium">
              <span className="mr-2 text-muted">{index + 1}.</span>
              {step.title}
            </h3>
            <pre className="overflow-x-auto rounded-md border border-border bg-background px-4 py-3 font-mono text-sm leading-6">
              <code>{step.command}</code>
            </pre>
            <p className="text-sm text-muted">{step.note}</p>
          </li>
        ))}
      </ol>
    </section>
  );
}
