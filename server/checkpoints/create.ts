/**
 * checkpoint create: resolve the scope (primaries + related files), capture the
 * live state into the store under the component lock (and, with includeDb, a
 * snapshot of each database target), commit, and record history.
 */
import type { Core, Actor } from "../core";
import { ConflictError, FileVanishedError, InvalidInputError, SafetyNetError } from "../errors";
import { withComponentMutation } from "../rollback/mutation-barrier";
import { findComponentRow, toComponentView, type ComponentView } from "../registry/components";
import { clearRolledBack } from "../registry/component-status";
import { assertComponentRootUsable } from "../registry/roots";
import type { CheckpointCreateInput } from "../schemas";
import { recordEvent } from "../audit/history";
import { callerDetails } from "../audit/attribution";
import { captureLiveState, scanExcludes, scanScope, type LiveState } from "./live-state";
import { probeChanges, rememberCapture, unchangedCaptureStats, type ChangeProbe, type RememberedGit } from "./unchanged-capture";
import { tryCapturePatched } from "./patched-capture";
import { captureStreamed } from "./streamed-capture";
import { changeTracker } from "../scan/change-tracker";
import { openManifest } from "./tree-read";
import { commitCheckpoint, type CheckpointCreated, type CommitRequest } from "./commit";
import { gitSignature, readGitInfo, type GitInfo } from "./git-info";
import { resolvePathScope, resolveScope, type ResolvedScope } from "./scope";
import { candidatesOnDisk } from "../scan/related-candidates";
import { snapshotDatabases } from "../dbstate/databases";

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
    if (input.includeDb && component.dbTargets.length === 0) {
      throw new InvalidInputError(
        `includeDb: component "${component.name}" has no database targets, so there is no database state to snapshot (add one: safetynet component add ${component.name} --root <dir> --db sqlite:<path> | --db postgres:<ENV_VAR>)`,
        { field: "includeDb" },
      );
    }
    assertComponentRootUsable(core, component);
    let statusCleared: { from: string; to: unknown } | null = null;
    const created = await withComponentMutation(core, component, "checkpoint create", actor, async () => {
      // A rollback's "rolled-back" status lasts until the next checkpoint taken on purpose: this one
      // holds the cleared document and stores it as the component's (in its commit's transaction).
      const cleared = clearRolledBack(component.metadata);
      if (cleared) {
        statusCleared = { from: String(component.metadata.status), to: cleared.status };
        component.metadata = cleared;
      }
      const { resolved, live, builtTree, remember, git } = await captureScope(core, component, input, options);
      const databases = input.includeDb ? await snapshotDatabases(core, component) : undefined;
      const callerMeta: Record<string, unknown> = { ...(input.metadata ?? {}) };
      if (input.agent) callerMeta.agent = input.agent;
      if (input.task) callerMeta.task = input.task;
      const committed = await commitCheckpoint(core, {
        component,
        scope: resolved.scope,
        live,
        kind: "manual",
        primaries: resolved.primaries,
        reason: input.reason,
        callerMeta,
        git: await git,
        retentionDays: input.retentionDays,
        pinned: input.pinned,
        actor,
        startedAt,
        startedAtMs,
        saveComponentMetadata: statusCleared !== null,
        databases,
        builtTree,
        history: (checkpoint) => ({
          kind: "checkpoint.create",
          component: checkpoint.component,
          checkpointId: checkpoint.id,
          actor,
          outcome: "succeeded",
          startedAt,
          durationMs: checkpoint.durationMs,
          files: checkpoint.files,
          bytes: checkpoint.bytes,
          checksum: checkpoint.manifestSha256,
          details: {
            newBytes: checkpoint.newBytes,
            filesRead: checkpoint.filesRead,
            paths: input.paths ?? [],
            reason: input.reason ?? null,
            ...callerDetails(callerMeta),
            // A history row stays small: the first paths and how many (the manifest has them all).
            ...(checkpoint.unstable.length > 0 ? { unstable: checkpoint.unstable.slice(0, 100), unstableCount: checkpoint.unstable.length } : {}),
            ...(statusCleared ? { statusCleared } : {}),
            ...(checkpoint.databases.length > 0 ? { databases: checkpoint.databases } : {}),
          },
        }),
      });
      remember?.(committed.manifestSha256, await git);
      return committed;
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
      // Best effort: on a full disk this write fails too, and the original error is the one to report.
    }).catch(() => undefined);
    throw error;
  }
}

/**
 * Scans and stores the scope. A whole-component checkpoint in the server first
 * asks Watchman what changed since its last one: when nothing did, its tree is
 * reused (unchanged-capture.ts); when a few paths did, its tree is patched with
 * them (patched-capture.ts). Otherwise, and whenever a patch cannot be made, the
 * scope is scanned and stored whole. A file deleted between the scan and its read
 * means the workspace is changing: scan once more (the deletion may be all there
 * was), and when a file vanishes again, refuse with 409 naming it.
 */
async function captureScope(core: Core, component: ComponentView, input: CheckpointCreateInput, options: CreateOptions): Promise<CapturedScope> {
  const probe = (input.paths ?? []).length === 0 ? await probeChanges(core, component) : null;
  // Asked after the probe's token was taken: a change git did not see is reported to the next probe.
  const { git, signature } = askGit(component.root, probe);
  const gitOf = (info: GitInfo | null): RememberedGit | null => (signature === null ? null : { info, signature });
  const wholeComponent: ResolvedScope = { scope: { kind: "all" }, reasons: new Map(), entries: [], primaries: [] };
  if (probe?.unchanged) {
    unchangedCaptureStats.reused++;
    const { root, totals } = probe.unchanged;
    const live: LiveState = { entries: [], bytes: totals.bytes, newBytes: 0, filesRead: 0, unstable: [] };
    const remember: Remember = (_sha, info) => rememberCapture(core, component.id, probe.token, root, null, 0, gitOf(info));
    return { resolved: wholeComponent, live, builtTree: { root, totals }, remember, git };
  }
  if (probe?.changed) {
    const patched = await tryCapturePatched(core, component, probe.changed, { storeObjects: true, onProgress: options.onProgress });
    if (patched) {
      unchangedCaptureStats.patched++;
      const { tree, live, scanned } = patched;
      const remember: Remember = (_sha, info) => rememberCapture(core, component.id, probe.token, tree.root, scanned, live.unstable.length, gitOf(info));
      return { resolved: wholeComponent, live, builtTree: tree, remember, git };
    }
  }
  for (let attempt = 1; ; attempt++) {
    try {
      if ((input.paths ?? []).length === 0 && !changeTracker()) {
        // Nothing tells what changed: walk, folder by folder, storing as it goes.
        const streamed = await captureStreamed(core, component, { onProgress: options.onProgress });
        return { resolved: wholeComponent, live: streamed.live, builtTree: streamed.tree, remember: undefined, git };
      }
      const depth = input.depth ?? 1;
      const rules = { include: component.include, exclude: component.exclude, extraExcludes: scanExcludes(core, component) };
      // Some paths: no walk of the whole component (their related files are found from the disk, bounded).
      const pathScope = await resolvePathScope(component.root, input.paths, depth, {
        scanPaths: (paths) => scanScope(core, component, { kind: "paths", paths }),
        candidates: () => candidatesOnDisk(component.root, rules),
      });
      const fullScan = pathScope ? null : await scanScope(core, component, { kind: "all" });
      const resolved = pathScope ?? resolveScope(component.root, fullScan ?? [], input.paths, depth);
      const live = await captureLiveState(core, component, resolved.scope, { storeObjects: true, reasons: resolved.reasons, onProgress: options.onProgress }, resolved.entries);
      const remember: Remember | undefined = probe
        ? (manifestSha256, info) => rememberCapture(core, component.id, probe.token, openManifest(core.store, manifestSha256).root, fullScan, live.unstable.length, gitOf(info))
        : undefined;
      return { resolved, live, builtTree: undefined, remember, git };
    } catch (error) {
      if (!(error instanceof FileVanishedError)) throw error;
      if (attempt < 2) continue;
      const file = typeof error.details.path === "string" ? error.details.path : "a file";
      throw new ConflictError(
        `checkpoint of "${component.name}" refused: ${file} vanished while it was being read, also on a second try; something is deleting files in the component: try again when it is done`,
        { ...error.details, component: component.name, attempts: attempt },
        { cause: error },
      );
    }
  }
}

interface CapturedScope {
  resolved: ResolvedScope;
  live: LiveState;
  builtTree: CommitRequest["builtTree"];
  remember: Remember | undefined;
  /** Git's answer for the root (null outside a work tree). */
  git: Promise<GitInfo | null>;
}

/** Remembers the capture once committed, with git's answer for it. */
type Remember = (manifestSha256: string, git: GitInfo | null) => void;

/**
 * Git's answer for the root: the last one again when Watchman vouched that the
 * work tree did not change since it was given and the repository's signature is
 * the same (no commit, checkout, reset or add since); else `git status`, started
 * now so that it overlaps with the capture. The signature is read only in the
 * server (where there is a probe), and before git runs: a commit made while it
 * runs changes it, so that answer is not reused.
 */
function askGit(root: string, probe: ChangeProbe | null): { git: Promise<GitInfo | null>; signature: string | null } {
  const signature = probe?.token ? gitSignature(root) : null;
  const last = probe?.unchanged?.git;
  if (signature !== null && last && last.signature === signature) return { git: Promise.resolve(last.info), signature };
  return { git: readGitInfo(root), signature };
}
