/**
 * A plan's scope as one sentence, the same in the CLI and the dashboard:
 * "Only these 3 paths (the file, its tests and imports) are restored; 2 other
 * changed files stay as they are." Pure: no I/O, safe to import anywhere.
 */
import type { PlanScope } from "./scope-summary";

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "the file, its tests and imports" from what the related files are. */
function whatTheyAre(scope: PlanScope): string {
  const reasons = new Set(scope.related.map((r) => r.reason));
  const parts = [scope.primaries.length === 1 ? "the file" : `the ${scope.primaries.length} paths asked for`];
  const extras = [
    reasons.has("related-test") ? "tests" : null,
    reasons.has("related-import") ? "imports" : null,
    reasons.has("sibling") ? "sibling files" : null,
  ].filter((x): x is string => x !== null);
  if (extras.length === 0) return parts[0] as string;
  const owner = scope.primaries.length === 1 ? "its" : "their";
  const list = extras.length === 1 ? (extras[0] as string) : `${extras.slice(0, -1).join(", ")} and ${extras[extras.length - 1]}`;
  return `${parts[0]}, ${owner} ${list}`;
}

export function planScopeSentence(scope: PlanScope): string {
  if (scope.restrictedTo) {
    const [only] = scope.restrictedTo;
    const what = scope.restrictedTo.length === 1 ? `the path ${only}` : `these ${scope.restrictedTo.length} paths`;
    return `Only ${what} (a file, or a folder with everything under it) ${scope.restrictedTo.length === 1 ? "is" : "are"} restored from the checkpoint; every other file of the component stays as it is.`;
  }
  if (scope.kind === "all") return "The whole component is restored: every file its include and exclude globs select, minus ignored files.";
  const paths = scope.primaries.length + scope.relatedCount;
  const outside = scope.outside?.changed ?? 0;
  const left =
    outside === 0
      ? "no other file of the component changed since the checkpoint"
      : `${plural(outside, "other changed file")} ${outside === 1 ? "stays" : "stay"} as ${outside === 1 ? "it is" : "they are"}`;
  return `Only these ${plural(paths, "path")} (${whatTheyAre(scope)}) are restored; ${left}.`;
}
