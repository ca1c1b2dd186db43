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
 * beforeMCPExecution) and may answer on stdout with `permission` ("allow",
 * "deny", "ask") for the shell and MCP events and `continue` for
 * beforeSubmitPrompt. Exit 2 blocks there too. Ours answers `{"continue": true}`
 * to every event and never a `permission`: an "allow" from a hook can skip the
 * approval the user asked Cursor for, and a safety net only watches; without a
 * permission the step goes through Cursor's own approval as it would without us.
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

/** What the hook prints on stdout, for every event, whether a checkpoint was taken or not: it never blocks. */
export function answerFor(agent: HookAgent): string {
  if (agent === "claude-code") return "";
  // Whatever the event (one we cannot read included): go on, and leave approval to Cursor.
  return JSON.stringify({ continue: true }) + "\n";
}

/** The agent argument of `safetynet hooks ...` and `safetynet hook`. */
export const hookAgentInput = z.object({ agent: z.enum(HOOK_AGENTS, { error: `the agent is one of: ${HOOK_AGENTS.join(", ")}` }) });

export const AGENT_TITLES: Record<HookAgent, string> = { "claude-code": "Claude Code", cursor: "Cursor" };
