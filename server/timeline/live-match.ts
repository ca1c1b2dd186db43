/**
 * Which checkpoint the live workspace matches: the newest active checkpoint with
 * nothing to restore, i.e. whose entries compare equal to the live state of its own
 * scope the way diff and plan compare them (content, links, modes, file mtimes to
 * the microsecond a restore can set; compareManifests). The live state is captured
 * the one way diff, plan and execute capture it, read-only: nothing is stored, the
 * stat cache is not written.
 *
 * Cheap first: one capture serves every checkpoint of the whole component, and a
 * checkpoint whose file, folder, link and byte counts differ from the live state
 * is skipped without reading its manifest. At most MAX_PARTIAL_SCOPES checkpoints
 * of some paths are captured (each has its own scope).
 */
import type { Core } from "../core";
import { IntegrityError } from "../errors";
import { compareManifests } from "../checkpoints/compare";
import { captureCheckpointScope, captureLiveState, type LiveState } from "../checkpoints/live-state";
import { readManifest } from "../checkpoints/manifest";
import type { Manifest } from "../checkpoints/manifest-types";
import { findComponentRow, toComponentView, type ComponentView } from "../registry/components";
import { assertComponentRootUsable } from "../registry/roots";
import { ensureManifestLocal } from "../checkpoints/tree-fetch";

/** How many recent checkpoints are compared. */
const CANDIDATES = 200;
const MAX_PARTIAL_SCOPES = 10;

export interface LiveMatch {
  /** The newest checkpoint equal to the live workspace, or null. */
  checkpointId: string | null;
  /**
   * The match is a checkpoint of some paths: the live workspace equals it in its
   * scope only (files outside it are not compared and may differ), never "exactly".
   */
  partial: boolean;
  /** Checkpoints compared (the newest active ones). */
  compared: number;
  comparedAt: string;
}

interface Counts {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
}

function countsOf(live: LiveState): Counts {
  const counts = { files: 0, dirs: 0, symlinks: 0, bytes: live.bytes };
  for (const e of live.entries) {
    if (e.kind === "file") counts.files++;
    else if (e.kind === "dir") counts.dirs++;
    else counts.symlinks++;
  }
  return counts;
}

async function manifestOrNull(core: Core, sha: string): Promise<Manifest | null> {
  try {
    await ensureManifestLocal(core.store, sha);
    return readManifest(core.store, sha);
  } catch (error) {
    // A damaged checkpoint matches nothing.
    if (error instanceof IntegrityError) return null;
    throw error;
  }
}

export async function matchLiveWorkspace(core: Core, componentName: string): Promise<LiveMatch> {
  const component: ComponentView = toComponentView(await findComponentRow(core, componentName));
  assertComponentRootUsable(core, component);
  const candidates = await core.db.checkpoint.findMany({
    where: { componentId: component.id, status: "active" },
    select: { id: true, manifestSha: true, paths: true, manifest: { select: { files: true, dirs: true, symlinks: true, bytes: true } } },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: CANDIDATES,
  });
  const comparedAt = () => core.now().toISOString();
  let whole: { live: LiveState; counts: Counts } | null = null;
  const equalToLive = new Map<string, boolean>();
  let partialScopes = 0;
  for (const candidate of candidates) {
    const partial = Array.isArray(candidate.paths) && candidate.paths.length > 0;
    if (partial) {
      if (++partialScopes > MAX_PARTIAL_SCOPES) continue;
      const manifest = await manifestOrNull(core, candidate.manifestSha);
      if (!manifest) continue;
      const state = await captureCheckpointScope(core, component, manifest, { storeObjects: false });
      if (matchesExactly(manifest.entries, state.live.entries)) return { checkpointId: candidate.id, partial: true, compared: candidates.length, comparedAt: comparedAt() };
      continue;
    }
    if (!whole) {
      const live = await captureLiveState(core, component, { kind: "all" }, { storeObjects: false });
      whole = { live, counts: countsOf(live) };
    }
    const m = candidate.manifest;
    if (m.files !== whole.counts.files || m.dirs !== whole.counts.dirs || m.symlinks !== whole.counts.symlinks || Number(m.bytes) !== whole.counts.bytes) continue;
    // Checkpoints of an unchanged tree share their manifest: compare each manifest once.
    let equal = equalToLive.get(candidate.manifestSha);
    if (equal === undefined) {
      const manifest = await manifestOrNull(core, candidate.manifestSha);
      equal = manifest !== null && matchesExactly(manifest.entries, whole.live.entries);
      equalToLive.set(candidate.manifestSha, equal);
    }
    if (equal) return { checkpointId: candidate.id, partial: false, compared: candidates.length, comparedAt: comparedAt() };
  }
  return { checkpointId: null, partial: false, compared: candidates.length, comparedAt: comparedAt() };
}

/** The live tree is exactly the checkpoint: nothing changed, and nothing the checkpoint could not read (unstable). */
function matchesExactly(checkpoint: Parameters<typeof compareManifests>[0], live: Parameters<typeof compareManifests>[1]): boolean {
  const { changes, unstable } = compareManifests(checkpoint, live);
  return changes.length === 0 && unstable.length === 0;
}
