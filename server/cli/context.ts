/**
 * What every CLI command needs: global options and a lazily opened core. The
 * core (Prisma, the store) is imported on first use, so `--help` and usage
 * errors stay instant. Interrupted rollbacks are completed before any command.
 */
import os from "node:os";
import type { Command } from "commander";
import type { Core } from "../core";
import { notice, type OutputMode } from "./io";

export interface GlobalOptions {
  dataDir?: string;
  json?: boolean;
}

export interface CliContext {
  mode: OutputMode;
  actor: string;
  core(): Promise<Core>;
}

export function cliActor(): string {
  if (process.env.SAFETYNET_ACTOR) return process.env.SAFETYNET_ACTOR;
  try {
    return `cli:${os.userInfo().username}`;
  } catch {
    return "cli";
  }
}

let opened: Promise<Core> | undefined;

export function contextFor(command: Command, options: { recoverFirst?: boolean } = {}): CliContext {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const mode = { json: Boolean(globals.json) };
  return {
    mode,
    actor: cliActor(),
    core: () => {
      opened ??= (async () => {
        const [{ loadConfig }, { openCore }, { hasPendingJournals, recoverInterruptedRollbacks }] = await Promise.all([
          import("../config"),
          import("../core"),
          import("../rollback/recover"),
        ]);
        const core = openCore(loadConfig({ dataDir: globals.dataDir }));
        if (options.recoverFirst !== false && hasPendingJournals(core)) {
          const results = await recoverInterruptedRollbacks(core, cliActor());
          for (const r of results) {
            notice(
              r.outcome === "recovered"
                ? `safetynet: completed interrupted rollback ${r.rollbackId} of ${r.component} to ${r.checkpointId}`
                : `safetynet: could not complete interrupted rollback ${r.rollbackId}: ${r.error}`,
            );
          }
        }
        return core;
      })();
      return opened;
    },
  };
}

export async function closeCli(): Promise<void> {
  if (!opened) return;
  const core = await opened.catch(() => undefined);
  await core?.db.$disconnect();
}
