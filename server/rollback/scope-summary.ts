/**
 * A rollback plan's scope in words: for a checkpoint of some paths, which paths were
 * asked for, which related files came with them and why, and which other files of
 * the component changed since the checkpoint and are left as they are.
 */
import type { Core } from "../core";
import { walkEntries, type OpenedManifest } from "../checkpoints/tree-read";
import { scanScope, type ComponentScanTarget } from "../checkpoints/live-state";
import { isInScope } from "../checkpoints/scope";

/** Rows listed per list; the counts stay complete. */
const LISTED = 200;
const LISTED_OUTSIDE = 20;

export interface PlanScope {
  kind: "all" | "paths";
  /** The paths the checkpoint was taken of ([] for the whole component). */
  primaries: string[];
  /** Files the checkpoint holds because of a primary path, with why (related-test, related-import, sibling). */
  related: { path: string; reason: string }[];
  relatedCount: number;
  /** Entries (files, folders, links) the checkpoint holds. */
  entries: number;
  /**
   * Files of the component outside this checkpoint's scope modified since it was
   * taken (newer mtime, or new): the rollback leaves them as they are. null for a
   * checkpoint of the whole component.
   */
  outside: { changed: number; paths: string[] } | null;
  /** A rollback restricted to these paths: only they are restored, whatever the checkpoint's scope. */
  restrictedTo?: string[];
}

/** The scope of a rollback restricted to some paths (server/rollback/path-restriction.ts): those paths, nothing else. */
export function restrictedPlanScope(paths: readonly string[]): PlanScope {
  return { kind: "paths", primaries: [...paths], related: [], relatedCount: 0, entries: paths.length, outside: null, restrictedTo: [...paths] };
}

export async function describePlanScope(core: Core, component: ComponentScanTarget, manifest: OpenedManifest, checkpoint: { paths: unknown; createdAt: Date }): Promise<PlanScope> {
  if (manifest.scope.kind === "all") {
    // Every entry is a primary one: the totals say how many, without reading a folder.
    const { files, dirs, symlinks } = manifest.totals;
    return { kind: "all", primaries: [], related: [], relatedCount: 0, entries: files + dirs + symlinks, outside: null };
  }
  let entries = 0;
  const related: { path: string; reason: string }[] = [];
  for (const e of walkEntries(core.store, manifest)) {
    entries++;
    if (e.reason !== "primary") related.push({ path: e.path, reason: e.reason });
  }
  const scopePaths = manifest.scope.paths;
  const since = checkpoint.createdAt.getTime();
  const changed = (await scanScope(core, component, { kind: "all" }))
    .filter((e) => e.kind !== "dir" && !isInScope(scopePaths, e.path) && e.mtimeMs > since)
    .map((e) => e.path)
    .sort();
  const primaries = Array.isArray(checkpoint.paths) ? checkpoint.paths.filter((p): p is string => typeof p === "string") : [];
  return {
    kind: "paths",
    primaries,
    related: related.slice(0, LISTED),
    relatedCount: related.length,
    entries,
    outside: { changed: changed.length, paths: changed.slice(0, LISTED_OUTSIDE) },
  };
}
