/**
 * Turns the paths an operator or agent names into a checkpoint scope: the
 * primaries plus their related files (tests, siblings, relative imports), each
 * with the reason it was included. No paths means the whole component.
 */
import { InvalidInputError } from "../errors";
import { assertNoSymlinkEscape, checkInputPath, normalizeRelativePath } from "../scan/paths";
import { discoverRelated, type RelatedCandidates } from "../scan/related";
import type { CheckpointScope, InclusionReason, ScannedEntry } from "./manifest-types";

export interface ResolvedScope {
  scope: CheckpointScope;
  reasons: Map<string, InclusionReason>;
  /** The scanned entries inside the scope (taken from the full scan). */
  entries: ScannedEntry[];
  /** Normalized primary paths as asked for ([] = whole component). */
  primaries: string[];
}

export function isInScope(scopePaths: readonly string[], entryPath: string): boolean {
  for (const p of scopePaths) if (entryPath === p || entryPath.startsWith(p + "/")) return true;
  return false;
}

/**
 * The primaries as asked for, normalized, each with the index it was first given
 * at (duplicates collapse onto it), so a refusal names `paths.<index>`. Refuses
 * `..`, absolute paths and symlinks out of the root. Empty when the paths name
 * the whole component (none, or the root).
 */
function primariesOf(root: string, paths: readonly string[] | undefined): Map<string, number> {
  const indexOf = new Map<string, number>();
  (paths ?? []).forEach((p, index) => {
    const normalized = checkInputPath(`paths.${index}`, () => normalizeRelativePath(p));
    if (!indexOf.has(normalized)) indexOf.set(normalized, index);
  });
  if (indexOf.size === 0 || indexOf.has("")) return new Map();
  for (const [primary, index] of indexOf) checkInputPath(`paths.${index}`, () => assertNoSymlinkEscape(root, primary));
  return indexOf;
}

function assertPrimariesExist(indexOf: Map<string, number>, exists: (path: string) => boolean): void {
  for (const [primary, index] of indexOf) {
    if (!exists(primary)) {
      throw new InvalidInputError(`invalid paths.${index}: path "${primary}" does not exist in the component, or is excluded by its ignore rules`, {
        field: `paths.${index}`,
        path: primary,
      });
    }
  }
}

export function resolveScope(root: string, fullScan: ScannedEntry[], paths: readonly string[] | undefined, depth: number): ResolvedScope {
  const indexOf = primariesOf(root, paths);
  const primaries = [...indexOf.keys()];
  if (primaries.length === 0) {
    return { scope: { kind: "all" }, reasons: new Map(), entries: fullScan, primaries: [] };
  }
  const byPath = new Map(fullScan.map((e) => [e.path, e]));
  assertPrimariesExist(indexOf, (p) => byPath.has(p));
  const files = new Set(fullScan.filter((e) => e.kind === "file").map((e) => e.path));
  const primaryFiles = primaries.filter((p) => byPath.get(p)?.kind !== "dir");
  const reasons = discoverRelated(root, files, primaryFiles, depth);
  for (const primary of primaries) reasons.set(primary, "primary");
  const scopePaths = [...reasons.keys()].sort();
  const primaryDirs = primaries.filter((p) => byPath.get(p)?.kind === "dir");
  const entries = fullScan.filter((e) => reasons.has(e.path) || isInScope(primaryDirs, e.path));
  return { scope: { kind: "paths", paths: scopePaths }, reasons, entries, primaries };
}

/**
 * The scope of a checkpoint of some paths without a walk of the whole component:
 * the primaries are scanned (with their subtrees), their related files found from
 * the disk as they are asked for (`candidates`: server/scan/related-candidates.ts,
 * whose only search, for importers, is bounded), then the scope is scanned. Null
 * when the paths name the whole component (none, or the root).
 */
export async function resolvePathScope(
  root: string,
  paths: readonly string[] | undefined,
  depth: number,
  io: { scanPaths(paths: string[]): Promise<ScannedEntry[]>; candidates(): RelatedCandidates },
): Promise<ResolvedScope | null> {
  const indexOf = primariesOf(root, paths);
  const primaries = [...indexOf.keys()];
  if (primaries.length === 0) return null;
  const found = new Map((await io.scanPaths(primaries)).map((e) => [e.path, e]));
  assertPrimariesExist(indexOf, (p) => found.has(p));
  const primaryFiles = primaries.filter((p) => found.get(p)?.kind !== "dir");
  const reasons = discoverRelated(root, io.candidates(), primaryFiles, depth);
  for (const primary of primaries) reasons.set(primary, "primary");
  const scopePaths = [...reasons.keys()].sort();
  return { scope: { kind: "paths", paths: scopePaths }, reasons, entries: await io.scanPaths(scopePaths), primaries };
}
