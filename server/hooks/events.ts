/**
 * An agent's hook event (the JSON on the hook's stdin) read into the one thing
 * Safety Net does with it: take a checkpoint before the step, or not. The event
 * shapes are the agents' documented ones (server/hooks/agents.ts); fields we do
 * not use are ignored, so newer agent releases that add fields keep working.
 */
import path from "node:path";
import { z } from "zod";
import { InvalidInputError } from "../errors";
import { CLAUDE_CHANGING_TOOLS, CURSOR_EVENTS, type HookAgent } from "./agents";
import { redactAndTruncate } from "./redact";

/** A step the agent is about to take, and what its checkpoint records. */
export interface HookStep {
  agent: HookAgent;
  /** The agent's event name (PreToolUse, beforeShellExecution, ...). */
  event: string;
  /** null: this step changes nothing worth a checkpoint (a Read, an unknown event). */
  checkpoint: {
    /** Folders (absolute) that name the component, the most specific first: the file a tool edits, the working folder, the workspace roots. */
    folders: string[];
    /** session_id / conversation_id. */
    task: string | undefined;
    reason: string;
    /** Redacted and shortened: never a secret, never a whole prompt. */
    metadata: Record<string, unknown>;
  } | null;
}

const text = z.string().max(1_000_000);
const claudeEvent = z.object({
  hook_event_name: z.string().min(1).max(200),
  session_id: text.optional(),
  transcript_path: text.optional(),
  cwd: text.optional(),
  tool_name: z.string().max(500).optional(),
  tool_input: z.record(z.string(), z.unknown()).optional(),
  prompt: text.optional(),
});

const cursorEvent = z.object({
  hook_event_name: z.string().min(1).max(200),
  conversation_id: text.optional(),
  generation_id: text.optional(),
  workspace_roots: z.array(text).max(1000).optional(),
  cwd: text.optional(),
  command: text.optional(),
  prompt: text.optional(),
  tool_name: z.string().max(500).optional(),
  // A JSON string in some releases, an object in others.
  tool_input: z.unknown().optional(),
});

/** Parses the stdin text; a clear InvalidInputError naming what is wrong otherwise. */
function parseEvent<T>(schema: z.ZodType<T>, stdin: string, agent: HookAgent): T {
  let value: unknown;
  try {
    value = JSON.parse(stdin);
  } catch (error) {
    throw new InvalidInputError(`the ${agent} hook event on stdin is not JSON (${error instanceof Error ? error.message : String(error)})`, { field: "stdin" });
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join(".") || "event";
  throw new InvalidInputError(`the ${agent} hook event on stdin is not one this hook reads: ${field}: ${issue?.message ?? "bad input"}`, { field });
}

/** An absolute folder for a path an event gives (relative ones are taken against the event's working folder). */
function absolute(p: string | undefined, cwd: string | undefined): string | null {
  if (!p || p.includes("\0")) return null;
  if (path.isAbsolute(p)) return p;
  return cwd && path.isAbsolute(cwd) ? path.resolve(cwd, p) : null;
}

const task = (id: string | undefined) => (id ? id.slice(0, 200) : undefined);
const present = <T>(values: (T | null | undefined)[]): T[] => values.filter((v): v is T => v !== null && v !== undefined);

function claudeStep(stdin: string): HookStep {
  const event = parseEvent(claudeEvent, stdin, "claude-code");
  const base = { agent: "claude-code" as const, event: event.hook_event_name };
  const cwd = absolute(event.cwd, undefined);
  const common = { agent: "claude-code", event: event.hook_event_name, ...(event.transcript_path ? { transcript: event.transcript_path.slice(0, 1000) } : {}) };
  if (event.hook_event_name === "UserPromptSubmit") {
    return {
      ...base,
      checkpoint: {
        folders: present([cwd]),
        task: task(event.session_id),
        reason: "before prompt",
        metadata: { hook: { ...common, prompt: redactAndTruncate(event.prompt ?? "") } },
      },
    };
  }
  const tool = event.tool_name ?? "";
  if (event.hook_event_name !== "PreToolUse" || !(CLAUDE_CHANGING_TOOLS as readonly string[]).includes(tool)) return { ...base, checkpoint: null };
  const input = event.tool_input ?? {};
  const str = (key: string) => (typeof input[key] === "string" ? (input[key] as string) : undefined);
  if (tool === "Bash") {
    const command = redactAndTruncate(str("command") ?? "");
    return {
      ...base,
      checkpoint: { folders: present([cwd]), task: task(event.session_id), reason: `before Bash: ${command}`, metadata: { hook: { ...common, tool, command } } },
    };
  }
  // Edit, Write, MultiEdit: file_path; NotebookEdit: notebook_path. The file's folder names the component first.
  const file = str("file_path") ?? str("notebook_path");
  const fileAbs = absolute(file, event.cwd);
  const shown = file ? redactAndTruncate(file) : "";
  return {
    ...base,
    checkpoint: {
      folders: present([fileAbs ? path.dirname(fileAbs) : null, cwd]),
      task: task(event.session_id),
      reason: `before ${tool}${shown ? `: ${shown}` : ""}`,
      metadata: { hook: { ...common, tool, ...(shown ? { file: shown } : {}) } },
    },
  };
}

function cursorStep(stdin: string): HookStep {
  const event = parseEvent(cursorEvent, stdin, "cursor");
  const base = { agent: "cursor" as const, event: event.hook_event_name };
  if (!(CURSOR_EVENTS as readonly string[]).includes(event.hook_event_name)) return { ...base, checkpoint: null };
  const cwd = absolute(event.cwd, undefined);
  const folders = present([cwd, ...(event.workspace_roots ?? []).map((r) => absolute(r, undefined))]);
  const common = { agent: "cursor", event: event.hook_event_name, ...(event.generation_id ? { generation: event.generation_id.slice(0, 200) } : {}) };
  const checkpoint = (reason: string, extra: Record<string, unknown>) => ({ ...base, checkpoint: { folders, task: task(event.conversation_id), reason, metadata: { hook: { ...common, ...extra } } } });
  if (event.hook_event_name === "beforeSubmitPrompt") return checkpoint("before prompt", { prompt: redactAndTruncate(event.prompt ?? "") });
  if (event.hook_event_name === "beforeShellExecution") {
    const command = redactAndTruncate(event.command ?? "");
    return checkpoint(`before shell: ${command}`, { tool: "shell", command });
  }
  const tool = redactAndTruncate(event.tool_name ?? "");
  const toolInput = event.tool_input === undefined ? undefined : redactAndTruncate(typeof event.tool_input === "string" ? event.tool_input : JSON.stringify(event.tool_input) ?? "");
  return checkpoint(`before MCP: ${tool}`, { tool, ...(toolInput !== undefined ? { input: toolInput } : {}) });
}

/** The step an event announces. Throws InvalidInputError for text that is not such an event. */
export function readHookEvent(agent: HookAgent, stdin: string): HookStep {
  return agent === "claude-code" ? claudeStep(stdin) : cursorStep(stdin);
}
