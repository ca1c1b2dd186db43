import net from "node:net";
import path from "node:path";
import type { Command } from "commander";
import { contextFor } from "../context";
import { emit } from "../io";
import { createProgress } from "../progress";
import { ConflictError, InvalidInputError } from "../../errors";

/** Whether a server answers on the data directory's local socket (it keeps its own idea of where objects live). */
function serverListening(dataDir: string): Promise<boolean> {
  return new Promise((resolve) => {
    const connection = net.connect(path.join(dataDir, "server.sock"));
    connection.once("connect", () => {
      connection.destroy();
      resolve(true);
    });
    connection.once("error", () => resolve(false));
  });
}

export function registerStoreCommand(program: Command): void {
  const store = program.command("store").description("where the data directory's objects live");
  store
    .command("migrate")
    .description("copy the objects into an S3-compatible bucket (or back), each checked, resumable, then switch the data directory over")
    .requiredOption("--to <destination>", "s3://<bucket>[/<prefix>]?endpoint=…&region=…&forcePathStyle=true, or local")
    .action(async (opts: { to: string }, command: Command) => {
      const destination = opts.to.trim();
      if (destination !== "local" && !destination.startsWith("s3://")) throw new InvalidInputError(`--to must be an s3:// URL or local, got ${JSON.stringify(opts.to)}`, { field: "--to" });
      const ctx = contextFor(command, { storeAsRecorded: true });
      const core = await ctx.core();
      if (await serverListening(core.config.dataDir)) {
        throw new ConflictError(`a server is running on ${core.config.dataDir}: stop it before moving the objects (it would go on writing where they were), then start it again`, {
          lock: "the object store",
        });
      }
      const { migrateToBucket, migrateToLocal } = await import("../../store/migrate");
      const progress = await createProgress(ctx.mode, "copying objects");
      try {
        const result = destination === "local" ? await migrateToLocal(core.store, core.locks, progress.update) : await migrateToBucket(core.store, core.locks, destination, progress.update, async (id) => (await core.db.checkpoint.count({ where: { id } })) > 0);
        progress.stop();
        emit(ctx.mode, result, () =>
          [
            `moved to ${result.to}: ${result.objects} object(s) there, ${result.copied} copied now (${result.bytesCopied} bytes), ${result.records} snapshot record(s)`,
            result.note,
          ].join("\n"),
        );
      } finally {
        progress.stop();
      }
    });
}
