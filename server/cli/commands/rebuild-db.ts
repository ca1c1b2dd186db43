import { existsSync, realpathSync, renameSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { contextFor } from "../context";
import { emit, setExitCode } from "../io";
import { InvalidInputError } from "../../errors";

export function registerRebuildDbCommand(program: Command): void {
  program
    .command("rebuild-db")
    .description("rebuild a lost database from the store: components, checkpoints (pins, retention) and their change records")
    .option("--force", "start from a new, empty database even though one exists (the old file is kept as safetynet.db.replaced-<time>)")
    .option("--root <name=dir>", "the root of a component whose records predate keeping it (repeatable)", (value: string, all: string[]) => [...all, value], [] as string[])
    .action(async (opts: { force?: boolean; root: string[] }, command: Command) => {
      const roots: Record<string, string> = {};
      for (const pair of opts.root) {
        const eq = pair.indexOf("=");
        if (eq <= 0 || eq === pair.length - 1) throw new InvalidInputError(`invalid --root "${pair}": expected <component>=<dir>`, { field: "--root" });
        roots[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      const ctx = contextFor(command, { recoverFirst: false, freshDatabase: true });
      const { loadConfig } = await import("../../config");
      const { databasePath } = await import("../../db");
      const configured = loadConfig({ dataDir: command.optsWithGlobals<{ dataDir?: string }>().dataDir }).dataDir;
      const file = databasePath(existsSync(configured) ? realpathSync(configured) : configured);
      // Without --force an existing database is kept and only what it lacks is added back.
      if (opts.force && existsSync(file)) {
        const { closeCore } = await import("../../core");
        await closeCore(path.dirname(file));
        const aside = `${file}.replaced-${new Date().toISOString().replace(/[:.]/g, "-")}`;
        for (const suffix of ["", "-wal", "-shm"]) if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
      }
      const core = await ctx.core();
      const { rebuildDatabase } = await import("../../checkpoints/rebuild-db");
      const result = await rebuildDatabase(core, ctx.actor, { roots });
      emit(ctx.mode, result, () =>
        [
          `rebuilt ${result.checkpoints} checkpoint(s) (${result.pinned} pinned) of ${result.components.length} component(s) in ${result.durationMs} ms`,
          ...result.components.map((c) => `  ${c.name}  ${c.root}  ${c.checkpoints} checkpoint(s)`),
          ...result.skipped.map((s) => `  skipped ${s.id}: ${s.reason}`),
          "API tokens are not kept in the store: create new ones with `safetynet token create`.",
        ].join("\n"),
      );
      if (result.skipped.length > 0) setExitCode(1);
    });
}
