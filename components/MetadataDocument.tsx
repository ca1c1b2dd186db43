/** A free-form JSON document (component metadata, caller metadata) as a definition list. */
export function MetadataDocument({ document, emptyText = "No metadata." }: { document: Record<string, unknown>; emptyText?: string }) {
  const keys = Object.keys(document);
  if (keys.length === 0) return <p className="text-sm text-muted">{emptyText}</p>;
  return (
    <dl className="grid grid-cols-[minmax(6rem,max-content)_1fr] gap-x-4 gap-y-2 text-sm">
      {keys.map((key) => {
        const value = document[key];
        const plain = typeof value === "string" || typeof value === "number" || typeof value === "boolean" || value === null;
        return (
          <div key={key} className="contents">
            <dt className="font-mono text-xs leading-5 text-muted">{key}</dt>
            <dd className="min-w-0 break-words">
              {plain ? (
                <span className={typeof value === "string" ? undefined : "font-mono text-xs"}>{String(value)}</span>
              ) : (
                <pre className="overflow-x-auto rounded bg-background px-2 py-1 font-mono text-xs leading-5">{JSON.stringify(value, null, 2)}</pre>
              )}
            </dd>
          </div>
        );
      })}
    </dl>
  );
}
