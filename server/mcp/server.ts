/**
 * The MCP server (`safetynet mcp`, stdio): tools for an agent to checkpoint a
 * component before it changes it, see what it changed, and roll back with a
 * confirmation. A thin layer over a SafetyNetClient (local data dir or remote
 * server); the tool inputs are the API's zod schemas from server/schemas.ts, plus
 * the paging inputs of tool-inputs.ts.
 *
 * Every result is one text content of compact JSON within the result budget
 * (result-budget.ts): a summary with complete counts, the first entries, and a
 * cursor to get the rest. A failure is `isError: true` with the message (which
 * names the field or the id at fault), cut to the budget too.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { CallToolResult, JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import {
  byCheckpointId,
  checkpointCreateInput,
  checkpointDiffInput,
  checkpointEntriesInput,
  checkpointListInput,
  componentUpsertInput,
  fileHistoryInput,
  historyListInput,
  rollbackExecuteInput,
  rollbackPlanInput,
  sessionListInput,
} from "../schemas";
import type { SafetyNetClient } from "./client";
import { cutText, DEFAULT_MAX_RESULT_BYTES, fitToBudget, type CuttableResult } from "./result-budget";
import { detail, fields, keyCursor, pageLimit, pathPrefix } from "./tool-inputs";
import {
  checkpointListResult,
  componentResult,
  componentsResult,
  createdResult,
  diffResult,
  entriesResult,
  fileHistoryResult,
  historyResult,
  planResult,
  rollbackResult,
  sessionsResult,
  verifyResult,
} from "./tool-results";

export const MCP_TOOLS = [
  "list_components",
  "register_component",
  "create_checkpoint",
  "list_checkpoints",
  "list_checkpoint_entries",
  "diff_checkpoint",
  "verify_checkpoint",
  "file_history",
  "list_sessions",
  "plan_rollback",
  "rollback",
  "history",
] as const;

export const MCP_INSTRUCTIONS =
  "Safety Net keeps verified checkpoints of components (named directories) and rolls them back atomically. " +
  "Before changing a component, call create_checkpoint and keep its id. To see what changed, diff_checkpoint. " +
  "To undo, plan_rollback, read the plan, then rollback with its confirmToken; to undo a whole session (a task's steps), plan_rollback its rollbackTo from list_sessions. " +
  "Results are compact JSON of bounded size: a summary with complete counts first, then the first entries. " +
  "When a result has nextCursor, call the same tool with the same arguments and cursor=nextCursor for the rest " +
  "(or narrow the call: prefix, limit). Hashes and full entries only with detail: true.";

export interface McpServerOptions {
  version?: string;
  /** Bytes of text a tool result may hold (default 16 KiB). */
  maxResultBytes?: number;
}

function failed(error: unknown, budget: number): CallToolResult {
  return { isError: true, content: [{ type: "text", text: cutText(error instanceof Error ? error.message : String(error), budget) }] };
}

export interface McpServerHandle {
  server: McpServer;
  /** Resolves when every tool call in progress has finished. */
  idle(): Promise<void>;
}

export function createMcpServer(client: SafetyNetClient, options: McpServerOptions = {}): McpServerHandle {
  const budget = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
  const server = new McpServer({ name: "safetynet", version: options.version ?? "0.1.0" }, { instructions: MCP_INSTRUCTIONS });
  const running = new Set<Promise<unknown>>();

  /** Runs a tool body, fits its result to the budget, turns errors into isError results, and tracks it until done. */
  const run = async (body: () => Promise<CuttableResult>): Promise<CallToolResult> => {
    const call = body();
    running.add(call);
    try {
      return { content: [{ type: "text", text: fitToBudget(await call, budget) }] };
    } catch (error) {
      return failed(error, budget);
    } finally {
      running.delete(call);
    }
  };

  const create = checkpointCreateInput.shape;
  const list = checkpointListInput.shape;
  const diff = checkpointDiffInput.shape;
  const entries = checkpointEntriesInput.shape;
  const history = historyListInput.shape;
  const file = fileHistoryInput.shape;
  const sessions = sessionListInput.shape;
  const upsert = componentUpsertInput.shape;
  const checkpointIdInput = byCheckpointId.shape.id.describe("the checkpoint id (cp_...)");

  server.registerTool(
    "list_components",
    {
      description: "The registered components (name, root, globs, metadata, checkpoint count), by name. Paged: pass nextCursor as cursor.",
      inputSchema: { cursor: keyCursor, limit: pageLimit },
      annotations: { readOnlyHint: true },
    },
    ({ cursor, limit }) => run(async () => componentsResult(await client.listComponents(), { cursor, limit })),
  );

  server.registerTool(
    "register_component",
    {
      description: "Register a component (a directory to checkpoint), or update the one with this name. Returns the component.",
      inputSchema: {
        name: upsert.name.describe("the component's unique name"),
        root: upsert.root.describe("its root directory (absolute, inside an allowed workspace root)"),
        include: upsert.include.describe("globs of the files it covers (default all)"),
        exclude: upsert.exclude.describe("globs left out (besides .gitignore and the defaults)"),
        metadata: upsert.metadata.describe("free JSON metadata (status, version, owner, ...)"),
        dbTargets: upsert.dbTargets.describe("database targets: sqlite:<path in root> or postgres:<ENV_VAR>; [] removes them"),
      },
      annotations: { idempotentHint: true, destructiveHint: false },
    },
    (input) => run(async () => componentResult(await client.upsertComponent(input))),
  );

  server.registerTool(
    "create_checkpoint",
    {
      description:
        "Checkpoint a component before changing it: its files (or only `paths` plus their related tests, siblings and imports). " +
        "Returns {id, files, bytes, newBytes, manifestSha256, ...}; keep the id to diff or roll back later.",
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
    (input) => run(async () => createdResult(await client.createCheckpoint(input))),
  );

  server.registerTool(
    "list_checkpoints",
    {
      description: "Checkpoints, newest first, optionally of one component. Paged: pass nextCursor as cursor.",
      inputSchema: {
        component: list.component.describe("only this component"),
        cursor: list.cursor.describe("nextCursor from the previous result"),
        limit: list.limit.describe("how many (default 50; fewer when the result budget is reached)"),
        detail,
      },
      annotations: { readOnlyHint: true },
    },
    ({ detail: full, ...input }) => run(async () => checkpointListResult(await client.listCheckpoints(input), { detail: full })),
  );

  server.registerTool(
    "list_checkpoint_entries",
    {
      description: "The files, folders and links a checkpoint holds, in path order (path, kind, size by default). Paged: pass nextCursor as cursor; prefix narrows.",
      inputSchema: {
        id: checkpointIdInput,
        prefix: entries.prefix.describe("only paths starting with this text, e.g. src/"),
        cursor: entries.cursor.describe("nextCursor from the previous result"),
        limit: entries.limit.describe("how many (default 200; fewer when the result budget is reached)"),
        fields,
        detail,
      },
      annotations: { readOnlyHint: true },
    },
    ({ detail: full, fields: shown, ...input }) =>
      run(async () => entriesResult(input.id, await client.checkpointEntries(input), { detail: full, fields: shown, prefix: input.prefix })),
  );

  server.registerTool(
    "diff_checkpoint",
    {
      description:
        "What changed since a checkpoint (or against another): complete counts, then changed paths in path order by bucket " +
        "(added, modified, deleted, modeChanged, typeChanged, linkChanged, mtimeChanged); a rollback changes exactly these. " +
        "Paged: pass nextCursor as cursor; prefix narrows. textDiff adds unified diffs.",
      inputSchema: {
        id: checkpointIdInput,
        against: diff.against.describe("compare with this checkpoint of the same component instead of the live files"),
        prefix: pathPrefix,
        cursor: keyCursor,
        limit: pageLimit,
        detail,
        textDiff: diff.textDiff.describe("include a unified diff of each modified text file"),
        maxTextBytes: diff.maxTextBytes.describe("skip text diffs of files larger than this (default 1 MiB)"),
      },
      annotations: { readOnlyHint: true },
    },
    ({ prefix, cursor, limit, detail: full, ...input }) => run(async () => diffResult(await client.diffCheckpoint(input), { prefix, cursor, limit, detail: full })),
  );

  server.registerTool(
    "verify_checkpoint",
    {
      description: "Re-hash every stored object of a checkpoint: state verified, corrupt or missing, with the damaged files. Paged: pass nextCursor as cursor.",
      inputSchema: { id: checkpointIdInput, cursor: keyCursor, limit: pageLimit, detail },
    },
    ({ id, cursor, limit, detail: full }) => run(async () => verifyResult(await client.verifyCheckpoint({ id }), { cursor, limit, detail: full })),
  );

  server.registerTool(
    "file_history",
    {
      description: "Every checkpoint in which one path of a component changed, newest first: change, size, when, who, why. Paged: pass nextCursor as cursor.",
      inputSchema: {
        component: file.component.describe("the component's name"),
        path: file.path.describe("the path relative to the component root"),
        cursor: file.cursor.describe("nextCursor from the previous result"),
        limit: file.limit.describe("how many (default 50; fewer when the result budget is reached)"),
        detail,
      },
      annotations: { readOnlyHint: true },
    },
    ({ detail: full, ...input }) => run(async () => fileHistoryResult(await client.fileHistory(input), { detail: full })),
  );

  server.registerTool(
    "list_sessions",
    {
      description:
        "Checkpoints grouped by session (their task, e.g. an agent's conversation), most recent activity first: agent, when, steps, net files added/modified/deleted, " +
        "and rollbackTo, the checkpoint that puts the component back as it was before the session (use plan_rollback with it). Paged: pass nextCursor as cursor.",
      inputSchema: {
        component: sessions.component.describe("only this component's sessions"),
        cursor: sessions.cursor.describe("nextCursor from the previous result"),
        limit: sessions.limit.describe("how many (default 20; fewer when the result budget is reached)"),
      },
      annotations: { readOnlyHint: true },
    },
    (input) => run(async () => sessionsResult(await client.listSessions({ ...input, limit: input.limit ?? 20 }))),
  );

  server.registerTool(
    "plan_rollback",
    {
      description:
        "Plan a rollback without changing anything: complete counts, a confirmToken for the rollback tool (single-use, expires, refused if the workspace changes), " +
        "then the paths to restore and delete in path order. Paged: pass nextCursor as cursor (every page's token confirms the whole plan).",
      inputSchema: {
        checkpointId: rollbackPlanInput.shape.checkpointId.describe("the checkpoint id (cp_...)"),
        cursor: keyCursor,
        limit: pageLimit,
        detail: detail.describe("also list the related files of a partial checkpoint's scope"),
        moveObstacles: rollbackPlanInput.shape.moveObstacles.describe(
          "when ignored or out-of-scope files stand where the rollback must put a path (the plan is refused and says so), plan to move them into the data directory's quarantine instead",
        ),
        paths: rollbackPlanInput.shape.paths.describe(
          "restore only these paths (root-relative files, or folders with everything under them); a path the checkpoint does not hold but the workspace does is deleted. Pass the same paths to rollback (and to plan_rollback for a further page)",
        ),
      },
    },
    ({ cursor, limit, detail: full, ...input }) => run(async () => planResult(await client.planRollback(input), { cursor, limit, detail: full })),
  );

  server.registerTool(
    "rollback",
    {
      description:
        "Roll the component back to a checkpoint, as planned by plan_rollback, with that plan's confirmToken. " +
        "A safety checkpoint of the current state is taken first (safetyCheckpointId): roll back to it to undo. Returns a summary.",
      inputSchema: {
        checkpointId: rollbackExecuteInput.shape.checkpointId.describe("the checkpoint id (cp_...) given to plan_rollback"),
        confirmToken: rollbackExecuteInput.shape.confirmToken.describe("the confirmToken plan_rollback returned"),
        moveObstacles: rollbackExecuteInput.shape.moveObstacles.describe("true when plan_rollback was asked to move obstacles aside (the same plan)"),
        paths: rollbackExecuteInput.shape.paths.describe("the paths given to plan_rollback, if any (the same plan)"),
      },
      annotations: { destructiveHint: true },
    },
    (input) => run(async () => rollbackResult(await client.executeRollback(input))),
  );

  server.registerTool(
    "history",
    {
      description: "The audit history, newest first: who created, verified, rolled back or deleted what, when, and how it ended. Paged: pass nextCursor as cursor.",
      inputSchema: {
        component: history.component.describe("only this component"),
        kind: history.kind.describe("only this kind of operation"),
        outcome: history.outcome.describe("succeeded or failed"),
        actor: history.actor.describe("only this actor (mcp, cli:<user>, token:<name>)"),
        agent: history.agent.describe("only events of checkpoints this agent took (exact)"),
        task: history.task.describe("only events of checkpoints of this task: the session's key (exact)"),
        since: history.since.describe("ISO 8601 time: only records started at or after it"),
        until: history.until.describe("ISO 8601 time: only records started before it"),
        cursor: history.cursor.describe("nextCursor from the previous result"),
        limit: history.limit.describe("how many (default 50; fewer when the result budget is reached)"),
        detail: detail.describe("also the checkpoints the records name (status, verification)"),
      },
      annotations: { readOnlyHint: true },
    },
    ({ detail: full, ...input }) => run(async () => historyResult(await client.listHistory(input), { detail: full })),
  );

  return {
    server,
    idle: async () => {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}

/**
 * Tool errors the SDK raises itself (arguments that fail the input schema) never
 * reach a tool body: their text is cut to the budget here, as it is sent.
 */
function cutErrorResults(transport: StdioServerTransport, budget: number): void {
  const send = transport.send.bind(transport);
  transport.send = (message: JSONRPCMessage, ...rest) => {
    if ("result" in message) {
      const result = message.result as Partial<CallToolResult>;
      if (result.isError === true && Array.isArray(result.content)) {
        const content = result.content.map((c) => (c.type === "text" ? { ...c, text: cutText(c.text, budget) } : c));
        return send({ ...message, result: { ...result, content } } as JSONRPCMessage, ...rest);
      }
    }
    return send(message, ...rest);
  };
}

/**
 * Serves the tools on stdin/stdout until stdin ends (the client went away) or
 * SIGINT/SIGTERM; waits for tool calls in progress before resolving.
 */
export async function serveStdio(client: SafetyNetClient, options: McpServerOptions = {}): Promise<void> {
  const { server, idle } = createMcpServer(client, options);
  const transport = new StdioServerTransport();
  cutErrorResults(transport, options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES);
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
