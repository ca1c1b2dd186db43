import type { Command } from "commander";
import { sessionListInput } from "../../schemas";
import { contextFor } from "../context";
import { emit, parseInput, parseInteger } from "../io";
import { formatTable } from "../format";
import type { SessionView } from "../../sessions/list-sessions";

function changesOf(session: SessionView): string {
  const { added, modified, deleted } = session.changes;
  return `+${added} ~${modified} -${deleted}${session.closedBy ? "" : " (last step not yet checkpointed)"}`;
}

function rollbackHint(session: SessionView): string {
  return session.rollbackTo ? `safetynet rollback ${session.rollbackTo}` : `(first checkpoint ${session.firstCheckpointId} expired)`;
}

export function registerSessionsCommand(program: Command): void {
  program
    .command("sessions [component]")
    .description("checkpoints grouped by session (the task they name), latest first: agent, steps, files changed, and the rollback that undoes the session")
    .option("--limit <n>", "how many sessions", "50")
    .option("--cursor <cursor>", "continue after the previous page (from nextCursor)")
    .action(async (component: string | undefined, opts: { limit: string; cursor?: string }, command: Command) => {
      const ctx = contextFor(command, { remote: true });
      const input = parseInput(sessionListInput, { component, limit: parseInteger(opts.limit, "--limit"), cursor: opts.cursor });
      const remote = await ctx.remoteClient();
      let page;
      if (remote) {
        page = await remote.listSessions(input);
      } else {
        const { listSessions } = await import("../../sessions/list-sessions");
        page = await listSessions(await ctx.core(), input);
      }
      const several = component === undefined;
      emit(ctx.mode, page, () =>
        page.items.length === 0
          ? `no sessions${component ? ` of ${component}` : ""}: checkpoints join a session when they name a task (--task or --meta task=...)`
          : formatTable(
              [...(several ? ["COMPONENT"] : []), "STARTED", "AGENT", "TASK", "STEPS", "CHANGES", "ROLL BACK WITH"],
              page.items.map((s) => [...(several ? [s.component] : []), s.startedAt, s.agent, s.task, s.steps, changesOf(s), rollbackHint(s)]),
            ) + (page.nextCursor ? `\nmore: --cursor ${page.nextCursor}` : ""),
      );
    });
}
