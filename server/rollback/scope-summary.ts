/**
 * A rollback plan's scope in words: for a checkpoint of some paths, which paths were
 * asked for, which related files came with them and why, and which other files of
 * the component changed since the checkpoint and are left as they are.
 */
import type { Core } from "../core";
import type { Manifest } from "../checkpoints/manifest-types";
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
}

export async function describePlanScope(core: Core, component: ComponentScanTarget, manifest: Manifest, checkpoint: { paths: unknown; createdAt: Date }): Promise<PlanScope> {
  const related = manifest.entries.filter((e) => e.reason !== "primary").map((e) => ({ path: e.path, reason: e.reason }));
  if (manifest.scope.kind === "all") {
    return { kind: "all", primaries: [], related: [], relatedCount: 0, entries: manifest.entries.length, outside: null };
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
    entries: manifest.entries.length,
    outside: { changed: changed.length, paths: changed.slice(0, LISTED_OUTSIDE) },
  };
}
