/**
 * Drift: how far the live workspace has moved from the component's last
 * checkpoint of the whole component (a checkpoint of some paths says nothing about
 * the rest; a safety checkpoint is the state a rollback replaced). Counts of files
 * added, modified and deleted, and the first paths.
 *
 * Cheap by construction: the workspace is compared with the checkpoint the way a
 * diff or a plan compares it (by trees, patched with what the change source,
 * Watchman, reports; equal folders skipped), so with the server's change source
 * the cost follows the change, not the tree; without one it is a walk, and only
 * files the stat cache cannot vouch for are read. Concurrent and repeated requests
 * for one component within DRIFT_REUSE_MS share one computation, so any number of
 * open dashboards polling it cost one capture per component per interval.
 */
import type { Core } from "../core";
import { IntegrityError } from "../errors";
import { openManifest } from "../checkpoints/tree-read";
import { compareWorkspace } from "../checkpoints/workspace-compare";
import { findComponentRow, toComponentView, type ComponentView } from "../registry/components";
import { assertComponentRootUsable } from "../registry/roots";
import { ensureManifestLocal } from "../checkpoints/tree-fetch";

/** Paths listed in a drift (the counts cover all of them). */
export const DRIFT_PATHS = 20;
/** A drift computed this recently (or still being computed) is the answer. */
export const DRIFT_REUSE_MS = 1_000;
/** Recent manual checkpoints looked through for the newest of the whole component. */
const CANDIDATES = 50;

export interface DriftPath {
  path: string;
  change: "added" | "modified" | "deleted";
}

export interface Drift {
  /** The checkpoint compared with: the newest active manual checkpoint of the whole component; null when there is none. */
  checkpointId: string | null;
  checkpointAt: string | null;
  added: number;
  modified: number;
  deleted: number;
  /** The first DRIFT_PATHS changed paths, in path order. */
  paths: DriftPath[];
  /** The checkpoint could not be read (damaged): counts are zero and say nothing. */
  unreadable: boolean;
  comparedAt: string;
}

const recent = new Map<string, { at: number; result: Promise<Drift> }>();

/** The drift of `componentName`; a request within DRIFT_REUSE_MS of another against the same checkpoint shares its answer. */
export async function componentDrift(core: Core, componentName: string): Promise<Drift> {
  const component = toComponentView(await findComponentRow(core, componentName));
  assertComponentRootUsable(core, component);
  const candidates = await core.db.checkpoint.findMany({
    where: { componentId: component.id, status: "active", kind: "manual" },
    select: { id: true, createdAt: true, manifestSha: true, paths: true },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: CANDIDATES,
  });
  const last = candidates.find((c) => !Array.isArray(c.paths) || c.paths.length === 0) ?? null;
  // Keyed by the checkpoint too: a new checkpoint is compared with at once.
  const key = `${core.config.dataDir}\0${component.id}\0${last?.id ?? ""}`;
  const now = Date.now();
  const hit = recent.get(key);
  if (hit && now - hit.at < DRIFT_REUSE_MS) return hit.result;
  const result = computeDrift(core, component, last);
  recent.set(key, { at: now, result });
  const forget = () => {
    if (recent.get(key)?.result === result) recent.delete(key);
  };
  // A failure is not reused; an answer is forgotten once stale, so the map holds only components being watched.
  result.catch(forget);
  setTimeout(forget, DRIFT_REUSE_MS).unref();
  return result;
}

async function computeDrift(core: Core, component: ComponentView, last: { id: string; createdAt: Date; manifestSha: string } | null): Promise<Drift> {
  const base = { added: 0, modified: 0, deleted: 0, paths: [] as DriftPath[], unreadable: false };
  if (!last) return { ...base, checkpointId: null, checkpointAt: null, comparedAt: core.now().toISOString() };
  const at = { checkpointId: last.id, checkpointAt: last.createdAt.toISOString() };
  let changes;
  try {
    await ensureManifestLocal(core.store, last.manifestSha);
    // Compared the way a plan compares: by trees, patched with what the change source reports, equal folders skipped.
    ({ changes } = (await compareWorkspace(core, component, openManifest(core.store, last.manifestSha), { storeObjects: false })).comparison);
  } catch (error) {
    if (error instanceof IntegrityError) return { ...base, ...at, unreadable: true, comparedAt: core.now().toISOString() };
    throw error;
  }
  const drift = { ...base, ...at, comparedAt: core.now().toISOString() };
  for (const c of changes) {
    const kind = (c.after ?? c.before)?.kind;
    // Folders follow their files; a file only touched (same content, mode and link) is no change worth a checkpoint.
    if (kind === "dir" || c.change === "mtime-changed") continue;
    const change = c.change === "added" || c.change === "deleted" ? c.change : "modified";
    drift[change]++;
    if (drift.paths.length < DRIFT_PATHS) drift.paths.push({ path: c.path, change });
  }
  return drift;
}
