/**
 * checkpoint create: resolve the scope (primaries + related files), capture the
 * live state into the store under the component lock, commit, and record history.
 */
import type { Core, Actor } from "../core";
import { InvalidInputError, SafetyNetError } from "../errors";
import { withComponentMutation } from "../rollback/mutation-barrier";
import { findComponentRow, setComponentMetadata, toComponentView } from "../registry/components";
import { clearRolledBack } from "../registry/component-status";
import { assertRootAllowed } from "../scan/paths";
import type { CheckpointCreateInput } from "../schemas";
import { recordEvent } from "../audit/history";
import { captureLiveState, scanScope } from "./live-state";
import { commitCheckpoint, type CheckpointCreated } from "./commit";
import { readGitInfo } from "./git-info";
import { resolveScope } from "./scope";

export type { CheckpointCreated } from "./commit";

export interface CreateOptions {
  onProgress?: (done: number, total: number) => void;
}

export async function createCheckpoint(core: Core, input: CheckpointCreateInput, actor: Actor, options: CreateOptions = {}): Promise<CheckpointCreated> {
  const startedAt = core.now();
  const startedAtMs = performance.now();
  try {
    // Inside the try: a create naming an unknown component is a failed create, and history records it.
    const component = toComponentView(await findComponentRow(core, input.component));
    if (input.includeDb) {
      // Components have no database targets yet (DESIGN: dbstate/); refuse rather than pretend.
      throw new InvalidInputError(`includeDb: component "${component.name}" has no database targets, so there is no database state to snapshot`, { field: "includeDb" });
    }
    assertRootAllowed(component.root, core.config.allowedRoots);
    let statusCleared: { from: string; to: unknown } | null = null;
    const created = await withComponentMutation(core, component, "checkpoint create", actor, async () => {
      const gitInfo = readGitInfo(component.root);
      // A rollback's "rolled-back" status lasts until the next checkpoint taken on purpose.
      const cleared = clearRolledBack(component.metadata);
      if (cleared) {
        await setComponentMetadata(core, component.id, cleared);
        statusCleared = { from: String(component.metadata.status), to: cleared.status };
        component.metadata = cleared;
      }
      const fullScan = scanScope(core, component, { kind: "all" });
      const resolved = resolveScope(component.root, fullScan, input.paths, input.depth ?? 1);
      const live = await captureLiveState(core, component, resolved.scope, { storeObjects: true, reasons: resolved.reasons, onProgress: options.onProgress }, resolved.entries);
      const callerMeta: Record<string, unknown> = { ...(input.metadata ?? {}) };
      if (input.agent) callerMeta.agent = input.agent;
      if (input.task) callerMeta.task = input.task;
      return commitCheckpoint(core, {
        component,
        scope: resolved.scope,
        live,
        kind: "manual",
        primaries: resolved.primaries,
        reason: input.reason,
        callerMeta,
        git: await gitInfo,
        retentionDays: input.retentionDays,
        pinned: input.pinned,
        actor,
        startedAt,
        startedAtMs,
      });
    });
    await recordEvent(core, {
      kind: "checkpoint.create",
      component: created.component,
      checkpointId: created.id,
      actor,
      outcome: "succeeded",
      startedAt,
      durationMs: created.durationMs,
      files: created.files,
      bytes: created.bytes,
      checksum: created.manifestSha256,
      details: { newBytes: created.newBytes, filesRead: created.filesRead, paths: input.paths ?? [], reason: input.reason ?? null, ...(statusCleared ? { statusCleared } : {}) },
    });
    return created;
  } catch (error) {
    await recordEvent(core, {
      kind: "checkpoint.create",
      component: input.component,
      actor,
      outcome: "failed",
      startedAt,
      durationMs: performance.now() - startedAtMs,
      error: error instanceof Error ? error.message : String(error),
      details: { errorCode: error instanceof SafetyNetError ? error.code : "FAILED" },
    });
    throw error;
  }
}
