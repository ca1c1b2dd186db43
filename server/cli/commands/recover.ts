import type { Command } from "commander";
import { contextFor } from "../context";
import { emit, setExitCode } from "../io";

export function registerRecoverCommand(program: Command): void {
  program
    .command("recover")
    .description("complete rollbacks interrupted by a crash (also runs automatically before every command)")
    .action(async (_opts: unknown, command: Command) => {
      const ctx = contextFor(command, { recoverFirst: false });
      const { recoverInterruptedRollbacks, RECOVER_WAIT_MS } = await import("../../rollback/recover");
      const results = await recoverInterruptedRollbacks(await ctx.core(), ctx.actor, { waitMs: RECOVER_WAIT_MS });
      const describe = (r: (typeof results)[number]) =>
        r.outcome === "recovered"
          ? `completed rollback ${r.rollbackId} of ${r.component} to ${r.checkpointId}: ${r.restored} restored, ${r.deleted} deleted`
          : r.outcome === "in-progress"
            ? `rollback ${r.rollbackId} of ${r.component} is still running in another process: ${r.error}`
            : (r.message ?? `rollback ${r.rollbackId} of ${r.component} to ${r.checkpointId} is still pending: ${r.error}`);
      emit(ctx.mode, { recovered: results }, () => (results.length === 0 ? "nothing to recover" : results.map(describe).join("\n")));
      if (results.some((r) => r.outcome === "failed")) setExitCode(1);
      else if (results.some((r) => r.outcome === "in-progress")) setExitCode(3);
    });
}
