/**
 * The MCP server (`safetynet mcp`, stdio): tools for an agent to checkpoint a
 * component before it changes it, see what it changed, and roll back with a
 * confirmation. A thin layer over a SafetyNetClient (local data dir or remote
 * server); the tool inputs are the API's zod schemas from server/schemas.ts.
 *
 * Every result is one text content holding the JSON result; a failure is
 * `isError: true` with the message (which names the field or the id at fault).
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import {
  checkpointCreateInput,
  checkpointDiffInput,
  checkpointListInput,
  historyListInput,
  rollbackExecuteInput,
  rollbackPlanInput,
} from "../schemas";
import type { SafetyNetClient } from "./client";

/** Long lists (diff entries, plan paths, history) are cut here for the agent's context; counts stay complete. */
export const MAX_LISTED = 200;

export const MCP_TOOLS = ["list_components", "create_checkpoint", "list_checkpoints", "diff_checkpoint", "plan_rollback", "rollback", "history"] as const;

/**
 * Cuts every top-level array longer than `max` and says so in `truncated`
 * ({field: total}); nested values are left alone.
 */
export function limitLists(value: unknown, max = MAX_LISTED): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  const truncated: Record<string, number> = {};
  for (const [key, item] of Object.entries(value)) {
    if (Array.isArray(item) && item.length > max) {
      out[key] = item.slice(0, max);
      truncated[key] = item.length;
    } else {
      out[key] = item;
    }
  }
  if (Object.keys(truncated).length > 0) out.truncated = truncated;
  return out;
}

function ok(value: unknown): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(limitLists(value), null, 2) }] };
}

function failed(error: unknown): CallToolResult {
  return { isError: true, content: [{ type: "text", text: error instanceof Error ? error.message : String(error) }] };
}

export interface McpServerHandle {
  server: McpServer;
  /** Resolves when every tool call in progress has finished. */
  idle(): Promise<void>;
}

export function createMcpServer(client: SafetyNetClient, version = "0.1.0"): McpServerHandle {
  const server = new McpServer(
    { name: "safetynet", version },
    {
      instructions:
        "Safety Net keeps verified checkpoints of components (named directories) and rolls them back atomically. " +
        "Before changing a component, call create_checkpoint. To undo, call plan_rollback, read the plan, then rollback with its confirmToken.",
    },
  );
  const running = new Set<Promise<unknown>>();

  /** Runs a tool body, turning errors into isError results and tracking it until done. */
  const run = async (body: () => Promise<unknown>): Promise<CallToolResult> => {
    const call = body();
    running.add(call);
    try {
      return ok(await call);
    } catch (error) {
      return failed(error);
    } finally {
      running.delete(call);
    }
  };

  const create = checkpointCreateInput.shape;
  const list = checkpointListInput.shape;
  const diff = checkpointDiffInput.shape;
  const history = historyListInput.shape;

  server.registerTool(
    "list_components",
    {
      description: "List the registered components (name, root directory, metadata, number of checkpoints). Component names are what the other tools take.",
      annotations: { readOnlyHint: true },
    },
    () => run(() => client.listComponents()),
  );

  server.registerTool(
    "create_checkpoint",
    {
      description:
        "Checkpoint a component before changing it: stores its files (or only `paths` plus their related tests, siblings and imports). " +
        "Returns {id, component, files, bytes, newBytes, durationMs, manifestSha256, ...}; keep the id to diff or roll back later.",
      inputSchema: {
        component: create.component.describe("the component's name (see list_components)"),
        paths: create.paths.describe("files or folders relative to the component root; leave out for the whole component"),
        reason: create.reason.describe("why the checkpoint is taken, e.g. the task about to be done"),
        agent: create.agent.describe("the agent about to make the change"),
        task: create.task.describe("the task or ticket the change is for"),
        metadata: create.metadata.describe("free JSON metadata stored with the checkpoint"),
        depth: create.depth.describe("hops of related-file discovery from `paths` (default 1)"),
        retentionDays: create.retentionDays.describe("keep at least this many days (default 7)"),
        pinned: create.pinned.describe("never delete by retention"),
        includeDb: create.includeDb.describe("also snapshot the component's database targets"),
      },
    },
    (input) => run(() => client.createCheckpoint(input)),
  );

  server.registerTool(
    "list_checkpoints",
    {
      description: "List checkpoints, newest first, optionally of one component. Pass nextCursor back as cursor for the next page.",
      inputSchema: {
        component: list.component.describe("only this component"),
        cursor: list.cursor.describe("nextCursor from the previous page"),
        limit: list.limit.describe("how many (default 50)"),
      },
      annotations: { readOnlyHint: true },
    },
    (input) => run(() => client.listCheckpoints(input)),
  );

  server.registerTool(
    "diff_checkpoint",
    {
      description: `What changed in the component since a checkpoint: added, modified, deleted, modeChanged, typeChanged, linkChanged (hard links) and mtimeChanged (only the modification time differs) paths and the unchanged count; a rollback changes exactly these paths (unstable: paths the checkpoint could not read, which it leaves alone). textDiff adds unified diffs of modified text files. Lists over ${MAX_LISTED} entries are cut (see truncated).`,
      inputSchema: {
        id: diff.id.describe("the checkpoint id (cp_...)"),
        textDiff: diff.textDiff.describe("include a unified diff for each modified text file"),
        maxTextBytes: diff.maxTextBytes.describe("skip text diffs of files larger than this (default 1 MiB)"),
      },
      annotations: { readOnlyHint: true },
    },
    (input) => run(() => client.diffCheckpoint(input)),
  );

  server.registerTool(
    "plan_rollback",
    {
      description:
        "Plan a rollback to a checkpoint without changing anything: the paths it would restore and delete, the unchanged count, " +
        "and a confirmToken (single-use, expires, refused if the workspace changes) that the rollback tool needs.",
      inputSchema: {
        checkpointId: rollbackPlanInput.shape.checkpointId.describe("the checkpoint id (cp_...)"),
        moveObstacles: rollbackPlanInput.shape.moveObstacles.describe(
          "when ignored or out-of-scope files stand where the rollback must put a path (the plan is refused and says so), plan to move them into the data directory's quarantine instead",
        ),
      },
    },
    (input) => run(() => client.planRollback(input)),
  );

  server.registerTool(
    "rollback",
    {
      description:
        "Roll the component back to a checkpoint, as planned by plan_rollback. Needs that plan's confirmToken. " +
        "A safety checkpoint of the current state is taken first (safetyCheckpointId): roll back to it to undo.",
      inputSchema: {
        checkpointId: rollbackExecuteInput.shape.checkpointId.describe("the checkpoint id (cp_...) given to plan_rollback"),
        confirmToken: rollbackExecuteInput.shape.confirmToken.describe("the confirmToken plan_rollback returned"),
        moveObstacles: rollbackExecuteInput.shape.moveObstacles.describe("true when plan_rollback was asked to move obstacles aside (the same plan)"),
      },
      annotations: { destructiveHint: true },
    },
    (input) => run(() => client.executeRollback(input)),
  );

  server.registerTool(
    "history",
    {
      description: "The audit history, newest first: who created, verified, rolled back or deleted what, when, how long it took and how it ended.",
      inputSchema: {
        component: history.component.describe("only this component"),
        kind: history.kind.describe("only this kind of operation"),
        outcome: history.outcome.describe("succeeded or failed"),
        actor: history.actor.describe("only this actor (mcp, cli:<user>, token:<name>)"),
        since: history.since.describe("ISO 8601 time: only records started at or after it"),
        until: history.until.describe("ISO 8601 time: only records started before it"),
        cursor: history.cursor.describe("nextCursor from the previous page"),
        limit: history.limit.describe("how many (default 50)"),
      },
      annotations: { readOnlyHint: true },
    },
    (input) => run(() => client.listHistory(input)),
  );

  return {
    server,
    idle: async () => {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}

/**
 * Serves the tools on stdin/stdout until stdin ends (the client went away) or
 * SIGINT/SIGTERM; waits for tool calls in progress before resolving.
 */
export async function serveStdio(client: SafetyNetClient, version?: string): Promise<void> {
  const { server, idle } = createMcpServer(client, version);
  const transport = new StdioServerTransport();
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  transport.onclose = () => stop();
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];
  for (const signal of signals) process.once(signal, stop);
  process.stdin.once("end", stop);
  process.stdin.once("close", stop);
  try {
    await server.connect(transport);
    await stopped;
    await idle();
  } finally {
    for (const signal of signals) process.off(signal, stop);
    process.stdin.off("end", stop);
    process.stdin.off("close", stop);
    await server.close().catch(() => undefined);
  }
}
