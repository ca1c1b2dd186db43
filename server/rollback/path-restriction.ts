/**
 * A rollback restricted to some paths ("restore only these from the checkpoint"):
 * the paths as asked for, checked and intersected with the checkpoint's scope,
 * become a scope of their own ({kind: "paths"}) that the plan, the confirm token,
 * the safety checkpoint, the journal and a recovery all use, so nothing outside
 * them is read for the comparison, planned, written or deleted.
 *
 * A path names a file or a folder with everything under it. A path the checkpoint
 * does not hold but the workspace does is deleted (it did not exist then); a path
 * neither holds is refused, naming `paths.<index>`.
 */
import { InvalidInputError } from "../errors";
import { assertNoSymlinkEscape, checkInputPath, normalizeRelativePath } from "../scan/paths";
import { coveredByAncestor, comparePaths } from "../scan/walk";
import { isInScope } from "../checkpoints/scope";
import type { CheckpointScope, EntryLookup, ManifestEntry } from "../checkpoints/manifest-types";

export interface PathRestriction {
  /** The paths restored, normalized, intersected with the checkpoint's scope, none under another, in path order. */
  paths: string[];
  /** For each path as asked for (by index): the restricted paths it stands for. */
  asked: { index: number; path: string; covers: string[] }[];
}

/**
 * Checks the paths asked for (relative, inside the root, no `..`, none through a
 * symlinked folder; each refusal names `paths.<index>`) and intersects them with the
 * checkpoint's scope. Null when they name the whole component (the root) of a
 * whole-component checkpoint: that is a rollback of everything.
 */
export function restrictToPaths(root: string, checkpointId: string, scope: CheckpointScope, requested: readonly string[]): PathRestriction | null {
  const asked: PathRestriction["asked"] = [];
  requested.forEach((raw, index) => {
    const field = `paths.${index}`;
    const path = checkInputPath(field, () => normalizeRelativePath(raw));
    // The path itself may be a symlink pointing anywhere: the rollback replaces or deletes the link, never follows it.
    if (path !== "") checkInputPath(field, () => assertNoSymlinkEscape(root, path, { checkFinal: false }));
    asked.push({ index, path, covers: coverage(checkpointId, scope, path, field) });
  });
  if (asked.length === 0) throw new InvalidInputError("paths: name at least one path, or leave paths out to roll back everything", { field: "paths" });
  if (scope.kind === "all" && asked.some((a) => a.path === "")) return null;
  const all = new Set(asked.flatMap((a) => a.covers));
  const paths = [...all].filter((p) => !coveredByAncestor(p, all)).sort(comparePaths);
  return { paths, asked };
}

/** What one path stands for within the checkpoint's scope: itself, or the scope's paths under it (a folder above them). */
function coverage(checkpointId: string, scope: CheckpointScope, path: string, field: string): string[] {
  if (scope.kind === "all") return [path];
  if (path !== "" && isInScope(scope.paths, path)) return [path];
  const inner = scope.paths.filter((p) => path === "" || isInScope([path], p));
  if (inner.length > 0) return inner;
  const held = scope.paths.slice(0, 5).join(", ") + (scope.paths.length > 5 ? `, ... (${scope.paths.length} in all)` : "");
  throw new InvalidInputError(`invalid ${field}: "${path}" is outside the scope of checkpoint ${checkpointId}, which holds only some paths (${held}); restore it from a checkpoint of the whole component`, {
    field,
    path,
    checkpointId,
  });
}

/** "src/a.ts", or "src/a.ts and 2 more paths": for reasons and messages. */
export function describePaths(paths: readonly string[]): string {
  return paths.length <= 1 ? (paths[0] ?? "") : `${paths[0]} and ${paths.length - 1} more path${paths.length === 2 ? "" : "s"}`;
}

/** The scope a restricted rollback compares, plans and takes its safety checkpoint over. */
export function restrictedScope(paths: readonly string[]): CheckpointScope {
  return { kind: "paths", paths: [...paths] };
}

/** Refuses a path that neither the checkpoint nor the workspace holds (nothing to restore, nothing to delete). */
export function assertPathsExist(restriction: PathRestriction, checkpointId: string, target: EntryLookup, live: readonly ManifestEntry[]): void {
  const liveHas = new Set(live.map((e) => e.path));
  const held = (p: string) => target.get(p) !== undefined || liveHas.has(p);
  for (const { index, path, covers } of restriction.asked) {
    if (covers.some(held)) continue;
    throw new InvalidInputError(
      `invalid paths.${index}: "${path}" is neither in checkpoint ${checkpointId} nor in the workspace (or the component's ignore rules leave it out): nothing to restore or delete`,
      { field: `paths.${index}`, path, checkpointId },
    );
  }
}
