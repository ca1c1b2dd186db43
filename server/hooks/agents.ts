/**
 * The agents Safety Net hooks into, and what their hook configuration and
 * protocol look like. Formats relied on (each agent's published hooks reference,
 * checked when this was written):
 *
 * Claude Code: hooks live in
 * `settings.json` (`<project>/.claude/settings.json`, `~/.claude/settings.json`)
 * under `hooks.<Event>`: a list of `{matcher, hooks: [{type: "command", command,
 * timeout (seconds)}]}`; `matcher` is a regular expression over tool names and only
 * applies to PreToolUse/PostToolUse (UserPromptSubmit takes none). The command
 * runs through a shell with the event as JSON on stdin (`session_id`,
 * `transcript_path`, `cwd`, `hook_event_name`, plus `tool_name`/`tool_input` for
 * PreToolUse and `prompt` for UserPromptSubmit). Exit 0 lets the step proceed (any
 * stdout of UserPromptSubmit is added to the model's context, so we print none);
 * exit 2 blocks it, so a hook of ours never exits 2.
 *
 * Cursor: `<project>/.cursor/hooks.json` and
 * `~/.cursor/hooks.json` hold `{version: 1, hooks: {<event>: [{command}]}}`. The
 * command gets the event on stdin (`conversation_id`, `generation_id`,
 * `hook_event_name`, `workspace_roots`, and `prompt` for beforeSubmitPrompt,
 * `command`/`cwd` for beforeShellExecution, `tool_name`/`tool_input` for
 * beforeMCPExecution) and answers on stdout: `{"permission": "allow"}` for the
 * shell and MCP events (earlier releases read `continue` there too, so both are
 * sent), `{"continue": true}` for beforeSubmitPrompt. Exit 2 blocks there too.
 */
import { z } from "zod";

export const HOOK_AGENTS = ["claude-code", "cursor"] as const;
export type HookAgent = (typeof HOOK_AGENTS)[number];

export function isHookAgent(value: string): value is HookAgent {
  return (HOOK_AGENTS as readonly string[]).includes(value);
}

/** Claude Code tools that change files: a checkpoint is taken before each. Other tools (Read, Grep, ...) take none. */
export const CLAUDE_CHANGING_TOOLS = ["Edit", "Write", "MultiEdit", "NotebookEdit", "Bash"] as const;

/** Claude Code's hook timeout, in seconds: a first checkpoint of a large tree may take a while; the agent goes on after it in any case. */
export const CLAUDE_HOOK_TIMEOUT_SECONDS = 60;

/** The Cursor events a checkpoint is taken before. */
export const CURSOR_EVENTS = ["beforeSubmitPrompt", "beforeShellExecution", "beforeMCPExecution"] as const;

/** Where an agent keeps its hook configuration, relative to a project folder or to the home directory. */
export function configFileOf(agent: HookAgent): string[] {
  return agent === "claude-code" ? [".claude", "settings.json"] : [".cursor", "hooks.json"];
}

/** What the hook prints on stdout for `event` (the same whether a checkpoint was taken or not: it never blocks). */
export function answerFor(agent: HookAgent, event: string | null): string {
  if (agent === "claude-code") return "";
  if (event === "beforeShellExecution" || event === "beforeMCPExecution") return JSON.stringify({ continue: true, permission: "allow" }) + "\n";
  if (event === "beforeSubmitPrompt") return JSON.stringify({ continue: true }) + "\n";
  // An event we cannot read (or do not know): both answers at once, each field ignored where it does not apply.
  return JSON.stringify({ continue: true, permission: "allow" }) + "\n";
}

/** The agent argument of `safetynet hooks ...` and `safetynet hook`. */
export const hookAgentInput = z.object({ agent: z.enum(HOOK_AGENTS, { error: `the agent is one of: ${HOOK_AGENTS.join(", ")}` }) });

export const AGENT_TITLES: Record<HookAgent, string> = { "claude-code": "Claude Code", cursor: "Cursor" };
