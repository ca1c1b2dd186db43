import type { Command } from "commander";
import { fileHistoryInput } from "../../schemas";
import { displayPath } from "../../byte-paths";
import { contextFor } from "../context";
import { emit, parseInput, parseInteger } from "../io";
import { formatBytes, formatTable, shortSha } from "../format";

const MODE = (mode: number | null) => (mode === null ? "" : mode.toString(8).padStart(4, "0"));

export function registerLogCommand(program: Command): void {
  program
    .command("log <component> <path>")
    .description("every checkpoint in which a file (or folder) changed, newest first: the change, content hash, size, who, agent, task and reason")
    .option("--limit <n>", "how many", "50")
    .option("--cursor <id>", "continue after this checkpoint (from nextCursor)")
    .action(async (component: string, filePath: string, opts: { limit: string; cursor?: string }, command: Command) => {
      const ctx = contextFor(command, { remote: true });
      const input = parseInput(fileHistoryInput, { component, path: filePath, limit: parseInteger(opts.limit, "--limit"), cursor: opts.cursor });
      const remote = await ctx.remoteClient();
      let page;
      if (remote) {
        page = await remote.fileHistory(input);
      } else {
        const { fileHistory } = await import("../../checkpoints/file-history");
        page = await fileHistory(await ctx.core(), input);
      }
      emit(ctx.mode, page, () =>
        page.items.length === 0
          ? `no checkpoint of ${page.component} changed ${displayPath(page.path)}`
          : formatTable(
              ["CHECKPOINT", "WHEN", "CHANGE", "SHA256", "SIZE", "MODE", "ACTOR", "AGENT", "TASK", "REASON"],
              page.items.map((e) => [
                e.checkpointId,
                e.createdAt,
                e.change === "present" ? "present (first checkpoint)" : e.change === "mode" ? `mode ${MODE(e.previousMode)} -> ${MODE(e.mode)}` : e.change,
                shortSha(e.sha256 ?? e.previousSha256),
                e.size === null ? null : formatBytes(e.size),
                MODE(e.mode ?? e.previousMode),
                e.actor,
                e.agent,
                e.task,
                e.reason,
              ]),
            ) +
            (page.nextCursor ? `\nmore: --cursor ${page.nextCursor}` : "") +
            `\nrestore a version: safetynet rollback <checkpoint> --path ${shellWord(displayPath(page.path))}`,
      );
    });
}

/** A path as one shell word: as it is when that is safe, else in single quotes. */
function shellWord(text: string): string {
  return /^[\w./@%+=:,-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}
