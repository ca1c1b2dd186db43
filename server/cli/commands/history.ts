import type { Command } from "commander";
import { historyListInput } from "../../schemas";
import { contextFor } from "../context";
import { emit, parseInput, parseInteger } from "../io";
import { formatBytes, formatDuration, formatTable, shortSha } from "../format";

export function registerHistoryCommand(program: Command): void {
  program
    .command("history [component]")
    .description("the audit history: who did what, when, how long it took, and how it ended")
    .option("--kind <kind>", "only this kind (checkpoint.create, rollback, ...)")
    .option("--outcome <outcome>", "succeeded or failed")
    .option("--actor <actor>", "only this actor")
    .option("--agent <agent>", "only events of checkpoints this agent took (exact)")
    .option("--task <task>", "only events of checkpoints of this task, the session's key (exact)")
    .option("--limit <n>", "how many", "50")
    .option("--cursor <id>", "continue after this id (from nextCursor)")
    .action(async (component: string | undefined, opts: { kind?: string; outcome?: string; actor?: string; agent?: string; task?: string; limit: string; cursor?: string }, command: Command) => {
      const ctx = contextFor(command, { remote: true });
      const input = parseInput(historyListInput, { component, kind: opts.kind, outcome: opts.outcome, actor: opts.actor, agent: opts.agent, task: opts.task, limit: parseInteger(opts.limit, "--limit"), cursor: opts.cursor });
      const remote = await ctx.remoteClient();
      let page;
      if (remote) {
        page = await remote.listHistory(input);
      } else {
        const { listHistory } = await import("../../audit/history");
        page = await listHistory(await ctx.core(), input);
      }
      emit(ctx.mode, page, () =>
        page.items.length === 0
          ? "no history"
          : formatTable(
              ["WHEN", "KIND", "COMPONENT", "ACTOR", "OUTCOME", "TOOK", "FILES", "BYTES", "CHECKSUM", "CHECKPOINT", "ERROR"],
              page.items.map((e) => [
                e.startedAt,
                e.kind,
                e.component,
                e.actor,
                e.outcome,
                formatDuration(e.durationMs),
                e.files,
                e.bytes === null ? null : formatBytes(e.bytes),
                shortSha(e.checksum),
                e.checkpointId,
                e.error,
              ]),
            ) + (page.nextCursor ? `\nmore: --cursor ${page.nextCursor}` : ""),
      );
    });
}
