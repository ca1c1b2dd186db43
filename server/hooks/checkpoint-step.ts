/**
 * The checkpoint a hook takes before an agent's step: of the registered
 * component whose root holds the step's folder (the deepest such root, though
 * roots never overlap today), with the agent, its session as the task, and the
 * step's redacted summary as reason and metadata. An agent runs several tool
 * calls at once (each with its hook), so a component another hook is
 * checkpointing is waited for briefly instead of refused at once.
 */
import { realpathSync } from "node:fs";
import path from "node:path";
import type { Actor, Core } from "../core";
import { NotFoundError } from "../errors";
import { createCheckpoint, type CheckpointCreated } from "../checkpoints/create";
import { isComponentLocked } from "../locks";
import { isInside } from "../scan/paths";
import type { HookStep } from "./events";

/** How long a hook waits for a component another operation holds (parallel tool calls) before it goes on without a checkpoint. */
export const HOOK_LOCK_WAIT_MS = 5_000;
const LOCK_POLL_MS = 25;

/** Waits (up to HOOK_LOCK_WAIT_MS) while the component is locked; the checkpoint then takes the lock itself, or reports who holds it. */
async function whileLocked(core: Core, componentId: string): Promise<void> {
  const deadline = Date.now() + HOOK_LOCK_WAIT_MS;
  while (Date.now() < deadline && (await isComponentLocked(core.locks, componentId))) await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
}

/** The real path of `folder`, or of its nearest existing ancestor (a Write may create folders). */
function realFolder(folder: string): string | null {
  for (let dir = path.resolve(folder); ; dir = path.dirname(dir)) {
    try {
      return realpathSync(dir);
    } catch {
      if (path.dirname(dir) === dir) return null;
    }
  }
}

/** The component holding the first of `folders` that lies in one; null when none does. */
export async function componentForFolders(core: Core, folders: string[]): Promise<{ id: string; name: string; root: string } | null> {
  const components = await core.db.component.findMany({ select: { id: true, name: true, root: true } });
  for (const folder of folders) {
    const real = realFolder(folder);
    if (!real) continue;
    let best: { id: string; name: string; root: string } | null = null;
    for (const c of components) {
      if (isInside(c.root, real) && (!best || c.root.length > best.root.length)) best = c;
    }
    if (best) return best;
  }
  return null;
}

/** Takes the step's checkpoint. NotFoundError when no registered component holds its folders. */
export async function checkpointBeforeStep(core: Core, step: HookStep, actor: Actor): Promise<CheckpointCreated | null> {
  const wanted = step.checkpoint;
  if (!wanted) return null;
  const component = await componentForFolders(core, wanted.folders);
  if (!component) {
    throw new NotFoundError(
      wanted.folders.length === 0
        ? `the ${step.agent} event names no folder, so no component could be found`
        : `no registered component holds ${wanted.folders[0]}${wanted.folders.length > 1 ? ` (nor ${wanted.folders.slice(1).join(", ")})` : ""}; register it with \`safetynet hooks install ${step.agent}\` in that folder`,
      { folders: wanted.folders },
    );
  }
  await whileLocked(core, component.id);
  return createCheckpoint(core, { component: component.name, agent: step.agent, task: wanted.task, reason: wanted.reason, metadata: wanted.metadata }, actor);
}
