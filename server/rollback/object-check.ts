/**
 * Before a rollback changes anything, and already when it is planned, every stored
 * object the plan needs is re-hashed. Damage refuses the rollback,
 * naming the files, and is recorded on the checkpoint so the dashboard shows it.
 */
import type { Core } from "../core";
import { IntegrityError } from "../errors";
import type { EntryLookup, ManifestEntry } from "../checkpoints/manifest-types";
import { checkEntryObjects } from "../checkpoints/verify";
import { recordDamageFound } from "../checkpoints/integrity-record";
import { pathsNeedingContent, type RollbackPlanBody } from "./plan";

export interface ObjectsChecked {
  /** Distinct objects re-hashed (the content the rollback writes). */
  objectsChecked: number;
  bytesChecked: number;
}

/** `target`: the checkpoint's entries, by path (those of the plan's paths are looked up). */
export async function assertNeededObjectsIntact(core: Core, checkpointId: string, target: EntryLookup, plan: Pick<RollbackPlanBody, "restore">): Promise<ObjectsChecked> {
  const needed: ManifestEntry[] = [];
  for (const path of pathsNeedingContent(plan)) {
    const entry = target.get(path);
    if (entry) needed.push(entry);
  }
  const { problems, objects, bytes } = await checkEntryObjects(core, needed);
  if (problems.length > 0) {
    await recordDamageFound(core, checkpointId, problems);
    const named = problems
      .slice(0, 10)
      .map((p) => `${p.path} (${p.state})`)
      .join(", ");
    throw new IntegrityError(`rollback refused: ${problems.length} stored object(s) needed are damaged: ${named}; the workspace was not changed`, { problems });
  }
  return { objectsChecked: objects, bytesChecked: bytes };
}
