/**
 * Which checkpoint the live workspace matches: the newest active checkpoint whose
 * manifest equals the live state of its own scope (every byte, mode, mtime and
 * link). The live state is captured the one way diff, plan and execute capture it
 * (captureCheckpointScope), read-only: nothing is stored, the stat cache is not
 * written. One capture per distinct scope: checkpoints of the whole component
 * share one, and at most MAX_PARTIAL_SCOPES scopes of some paths are looked at.
 */
import type { Core } from "../core";
import { IntegrityError } from "../errors";
import { captureCheckpointScope, captureLiveState } from "../checkpoints/live-state";
import { encodeManifest, readManifest } from "../checkpoints/manifest";
import { findComponentRow, toComponentView } from "../registry/components";
import { assertRootAllowed } from "../scan/paths";
import { sha256Hex } from "../store/sha256";

/** How many recent checkpoints are compared. */
const CANDIDATES = 200;
const MAX_PARTIAL_SCOPES = 10;

export interface LiveMatch {
  /** The newest checkpoint equal to the live workspace, or null. */
  checkpointId: string | null;
  /** Checkpoints compared (the newest active ones). */
  compared: number;
  comparedAt: string;
}

export async function matchLiveWorkspace(core: Core, componentName: string): Promise<LiveMatch> {
  const component = toComponentView(await findComponentRow(core, componentName));
  assertRootAllowed(component.root, core.config.allowedRoots);
  const candidates = await core.db.checkpoint.findMany({
    where: { componentId: component.id, status: "active" },
    select: { id: true, manifestSha: true, paths: true },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: CANDIDATES,
  });
  const liveShaOfScope = new Map<string, Promise<string | null>>();
  let partialScopes = 0;
  for (const candidate of candidates) {
    const whole = !Array.isArray(candidate.paths) || candidate.paths.length === 0;
    // A partial checkpoint's scope is its manifest's (primaries plus related files).
    const key = whole ? "all" : `manifest:${candidate.manifestSha}`;
    let live = liveShaOfScope.get(key);
    if (!live) {
      if (!whole && ++partialScopes > MAX_PARTIAL_SCOPES) continue;
      live = whole ? liveShaOfWholeComponent(core, component) : liveShaOfCheckpointScope(core, component, candidate.manifestSha);
      liveShaOfScope.set(key, live);
    }
    if ((await live) === candidate.manifestSha) return { checkpointId: candidate.id, compared: candidates.length, comparedAt: core.now().toISOString() };
  }
  return { checkpointId: null, compared: candidates.length, comparedAt: core.now().toISOString() };
}

async function liveShaOfWholeComponent(core: Core, component: ReturnType<typeof toComponentView>): Promise<string> {
  const scope = { kind: "all" } as const;
  const live = await captureLiveState(core, component, scope, { storeObjects: false });
  return sha256Hex(encodeManifest(scope, live.entries));
}

/** null when the manifest cannot be read (a damaged checkpoint matches nothing). */
async function liveShaOfCheckpointScope(core: Core, component: ReturnType<typeof toComponentView>, manifestSha: string): Promise<string | null> {
  try {
    const state = await captureCheckpointScope(core, component, readManifest(core.store, manifestSha), { storeObjects: false });
    return state.liveSha;
  } catch (error) {
    if (error instanceof IntegrityError) return null;
    throw error;
  }
}
