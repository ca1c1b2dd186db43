import type { Command } from "commander";
import { byCheckpointId, rollbackPlanInput } from "../../schemas";
import { contextFor } from "../context";
import { collect, emit, notice, parseInput } from "../io";
import { formatBytes, formatDuration } from "../format";
import { createProgress } from "../progress";
import type { RollbackPlanBody } from "../../rollback/plan";
import type { RollbackResult } from "../../rollback/execute";
import type { CheckpointPlan } from "../../rollback/preview";
import { planScopeSentence } from "../../rollback/plan-wording";

/** What `rollback` prints with --json, local or remote: the result with the paths as strings. */
type RollbackReport = Omit<RollbackResult, "restoredPaths" | "deletedPaths"> & { restoredPaths: string[]; deletedPaths: string[] };

function describePlannedDatabase(d: RollbackPlanBody["databases"][number]): string {
  if (d.action === "remove") return "it did not exist at the checkpoint";
  if (d.format === "raw") return `the raw bytes of a file SQLite would not read as a database, ${formatBytes(d.bytes)}, written back as they were: ${d.unreadable ?? "unreadable"}`;
  return `${d.tables} tables, ${d.rows} rows, ${formatBytes(d.bytes)}`;
}

function describePlan(plan: RollbackPlanBody & Pick<CheckpointPlan, "scope" | "integrity" | "undo">, limit = 50): string {
  const lines = [
    ...(plan.undo ? [`this undoes rollback ${plan.undo.rollbackId ?? "?"}${plan.undo.rolledBackTo ? ` (to ${plan.undo.rolledBackTo})` : ""}`] : []),
    planScopeSentence(plan.scope),
    ...(plan.scope.outside?.paths ?? []).map((p) => `  stays as it is: ${p}`),
    ...plan.databases.map((d) => `  database ${d.action.padEnd(7)} ${d.target} (${describePlannedDatabase(d)})`),
    ...plan.restore.map((r) => `  restore ${r.action.padEnd(8)} ${r.path}${r.hardlinkTo !== undefined ? ` (same file as ${r.hardlinkTo}: a hard link)` : ""}${r.sparse ? ` (sparse: ${formatBytes(r.size)}, of which ${formatBytes(r.sparse.dataBytes)} data)` : ""}`),
    ...plan.delete.map((d) => `  delete           ${d.path}`),
    ...plan.unstable.map((p) => `  left alone       ${p} (it kept changing while the checkpoint was taken: no content to restore)`),
    ...(plan.obstaclesToMove ?? []).map((o) => `  move aside       ${o.path} (in the way of ${o.inTheWayOf}; moved into the data directory's quarantine)`),
  ];
  const shown = lines.slice(0, limit);
  if (lines.length > limit) shown.push(`  ... and ${lines.length - limit} more`);
  const databases = plan.databases.length > 0 ? `, ${plan.databases.length} database(s) replaced whole` : "";
  shown.push(`${plan.restore.length} to restore (${formatBytes(plan.bytesToWrite)}), ${plan.delete.length} to delete, ${plan.unchanged} unchanged${plan.unstable.length > 0 ? `, ${plan.unstable.length} left alone (unstable in the checkpoint)` : ""}${databases}`);
  shown.push(`the ${plan.integrity.objectsChecked} stored object(s) it needs (${formatBytes(plan.integrity.bytesChecked)}) were re-hashed and match`);
  return shown.join("\n");
}

export function registerRollbackCommand(program: Command): void {
  program
    .command("rollback <checkpoint-id>")
    .description("put a component back to a checkpoint (a safety checkpoint of the current state is taken first)")
    .option("--dry-run", "print the plan and change nothing")
    .option("--yes", "do not ask for confirmation (required without a terminal)")
    .option("--path <p>", "restore only this path from the checkpoint (root-relative; a file, or a folder with everything under it; repeatable); a path the checkpoint does not hold is deleted", collect)
    .option("--move-obstacles", "move ignored or out-of-scope files that stand where the rollback must put a path into <data dir>/quarantine/<rollback id>/ instead of refusing")
    .action(async (checkpointId: string, opts: { dryRun?: boolean; yes?: boolean; moveObstacles?: boolean; path?: string[] }, command: Command) => {
      const ctx = contextFor(command, { remote: true });
      const input = parseInput(byCheckpointId, { id: checkpointId });
      const moveObstacles = opts.moveObstacles === true ? true : undefined;
      // Checked like the API's input (each refusal names paths.<index>), in both modes.
      const paths = opts.path ? parseInput(rollbackPlanInput, { checkpointId: input.id, paths: opts.path }).paths : undefined;
      const what = paths ? ` (only ${paths.length === 1 ? paths[0] : `${paths.length} paths`})` : "";
      const report = (result: RollbackReport) =>
        emit(ctx.mode, result, () =>
          [
            `rolled back ${result.paths ? `${result.paths.length === 1 ? result.paths[0] : `${result.paths.length} paths`} of ` : ""}${result.component} to ${result.checkpointId} in ${formatDuration(result.durationMs)}: ${result.restored} restored, ${result.deleted} deleted, ${result.unchanged} unchanged` +
              (result.restoredDatabases.length > 0 ? `; databases replaced: ${result.restoredDatabases.join(", ")}` : "") +
              (result.unstable.length > 0 ? `; left alone (unstable in the checkpoint): ${result.unstable.join(", ")}` : ""),
            ...result.movedObstacles.map((o) => `moved aside (it was in the way): ${o.path} -> ${o.to}`),
            `undo with: safetynet rollback ${result.safetyCheckpointId}`,
          ].join("\n"),
        );
      const remote = await ctx.remoteClient();
      if (remote) {
        // The server always confirms with a token: plan (which issues it), show, ask, execute.
        const { confirmToken, expiresAt: _expiresAt, ...plan } = await remote.planRollback({ checkpointId: input.id, moveObstacles, paths });
        if (opts.dryRun) {
          emit(ctx.mode, plan, () => `rollback of ${plan.component} to ${input.id}${what} (dry run)\n${describePlan(plan)}`);
          return;
        }
        if (!opts.yes && !ctx.mode.json) notice(`rollback of ${plan.component} (${plan.root}) to ${input.id}${what}\n${describePlan(plan)}`);
        const { confirmOrRefuse } = await import("../confirm");
        await confirmOrRefuse("Proceed with this rollback?", Boolean(opts.yes));
        report(await remote.executeRollback({ checkpointId: input.id, confirmToken, moveObstacles, paths }));
        return;
      }
      const core = await ctx.core();
      if (opts.dryRun) {
        const { computePlanForCheckpoint } = await import("../../rollback/preview");
        // The same shape as remote mode: the plan without the token (a dry run issues none).
        const { liveSha: _liveSha, ...plan } = await computePlanForCheckpoint(core, input.id, { moveObstacles, paths });
        emit(ctx.mode, plan, () => `rollback of ${plan.component} to ${input.id}${what} (dry run)\n${describePlan(plan)}`);
        return;
      }
      const { findCheckpointRow } = await import("../../checkpoints/queries");
      const { performRollback, executeRollback } = await import("../../rollback/execute");
      const progress = await createProgress(ctx.mode, "restoring");
      let result;
      try {
        if (opts.yes) {
          // Confirmed up front: plan and execute in one pass under the lock.
          result = await performRollback(core, await findCheckpointRow(core, input.id), ctx.actor, { onProgress: (d, t) => progress.update(d, t), moveObstacles, paths });
        } else {
          const { planRollback } = await import("../../rollback/preview");
          const { confirmOrRefuse } = await import("../confirm");
          const plan = await planRollback(core, input.id, ctx.actor, { moveObstacles, paths });
          if (!ctx.mode.json) notice(`rollback of ${plan.component} (${plan.root}) to ${input.id}${what}\n${describePlan(plan)}`);
          await confirmOrRefuse("Proceed with this rollback?", false);
          result = await executeRollback(core, { checkpointId: input.id, confirmToken: plan.confirmToken, moveObstacles, paths }, ctx.actor, { onProgress: (d, t) => progress.update(d, t) });
        }
      } finally {
        progress.stop();
      }
      const { restoredPaths, deletedPaths, ...summary } = result;
      report({ ...summary, restoredPaths: restoredPaths.map((r) => r.path), deletedPaths: deletedPaths.map((d) => d.path) });
    });
}
