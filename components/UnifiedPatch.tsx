/**
 * A unified diff (as produced by `checkpoint.diff` with textDiff) rendered with
 * line numbers: "−" lines are the checkpoint's content (a rollback brings them
 * back), "+" lines are what the live file has now (a rollback removes them).
 */
type PatchLine =
  | { type: "hunk"; text: string }
  | { type: "context" | "removed" | "added"; text: string; oldNo: number | null; newNo: number | null }
  | { type: "note"; text: string };

const HUNK_HEADER = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

export function parsePatch(patch: string): PatchLine[] {
  const lines = patch.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const out: PatchLine[] = [];
  let oldNo = 0;
  let newNo = 0;
  let inHunk = false;
  for (const line of lines) {
    const hunk = HUNK_HEADER.exec(line);
    if (hunk) {
      oldNo = Number(hunk[1]);
      newNo = Number(hunk[2]);
      inHunk = true;
      out.push({ type: "hunk", text: line });
      continue;
    }
    // File headers (Index:, ===, ---, +++) come before the first hunk; the page shows the path itself.
    if (!inHunk) continue;
    if (line.startsWith("\\")) out.push({ type: "note", text: line.slice(1).trim() });
    else if (line.startsWith("-")) out.push({ type: "removed", text: line.slice(1), oldNo: oldNo++, newNo: null });
    else if (line.startsWith("+")) out.push({ type: "added", text: line.slice(1), oldNo: null, newNo: newNo++ });
    else out.push({ type: "context", text: line.slice(1), oldNo: oldNo++, newNo: newNo++ });
  }
  return out;
}

const ROW_CLASSES = {
  context: "",
  removed: "bg-bad/10",
  added: "bg-ok/10",
} as const;

const SIGN = { context: " ", removed: "−", added: "+" } as const;

/** `sides`: what the screen reader calls the − and + lines (default: the checkpoint and the live file). */
export function UnifiedPatch({ patch, sides = { removed: "checkpoint", added: "live" } }: { patch: string; sides?: { removed: string; added: string } }) {
  const lines = parsePatch(patch);
  if (lines.length === 0) return <p className="px-4 py-3 text-sm text-muted">The content is identical; only metadata differs.</p>;
  return (
    <div className="overflow-x-auto">
      <table className="w-full border-collapse font-mono text-xs leading-5">
        <tbody>
          {lines.map((line, i) => {
            if (line.type === "hunk") {
              return (
                <tr key={i} className="bg-info/10 text-info">
                  <td colSpan={3} className="px-3 py-0.5">
                    {line.text}
                  </td>
                </tr>
              );
            }
            if (line.type === "note") {
              return (
                <tr key={i} className="text-muted">
                  <td colSpan={2} />
                  <td className="px-3 italic">{line.text}</td>
                </tr>
              );
            }
            return (
              <tr key={i} className={ROW_CLASSES[line.type]} data-line={line.type}>
                <td className="w-8 select-none border-r border-border px-1 text-right text-muted sm:w-10 sm:px-2">{line.oldNo ?? ""}</td>
                <td className="w-8 select-none border-r border-border px-1 text-right text-muted sm:w-10 sm:px-2">{line.newNo ?? ""}</td>
                <td className="whitespace-pre-wrap break-all px-2 sm:px-3 md:whitespace-pre md:break-normal">
                  {line.type === "context" ? null : <span className="sr-only">{line.type === "added" ? `${sides.added}: ` : `${sides.removed}: `}</span>}
                  <span aria-hidden="true" className={`mr-2 select-none ${line.type === "removed" ? "text-bad" : line.type === "added" ? "text-ok" : "text-muted"}`}>
                    {SIGN[line.type]}
                  </span>
                  {line.text}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
