/**
 * `safetynet hooks install|uninstall|status` (the agent's hook configuration)
 * and `safetynet hook <agent>`, the command that configuration runs before
 * every step: it reads the agent's event on stdin, checkpoints the component the
 * step works in, and answers in the agent's protocol. It never blocks the agent
 * and never fails its step: whatever goes wrong is one line on stderr, exit 0.
 */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { loadConfig } from "../../config";
import { NotFoundError } from "../../errors";
import { AGENT_TITLES, answerFor, HOOK_AGENTS, hookAgentInput, type HookAgent } from "../../hooks/agents";
import { contextFor, type GlobalOptions } from "../context";
import { emit, parseInput } from "../io";
import { formatTable } from "../format";
import { terminal } from "../terminal";

/** The data directory a command works on (a server running it for a CLI: its own). */
function dataDirOf(command: Command): string {
  return terminal().dataDir ?? loadConfig({ dataDir: command.optsWithGlobals<GlobalOptions>().dataDir }).dataDir;
}

async function readStdin(): Promise<string> {
  const given = terminal().stdinText;
  if (given !== null) return given;
  // A server never reads its own stdin for a CLI's command.
  if (terminal().hosted) return "";
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

const oneLine = (message: string) => message.replace(/\s*\n\s*/g, " ").trim();

export function registerHookCommands(program: Command): void {
  const hooks = program.command("hooks").description("install Safety Net into Claude Code or Cursor: a checkpoint before every agent step");
  const agents = HOOK_AGENTS.join("|");

  hooks
    .command("install <agent>")
    .usage(`${agents} [--component <name>] [--user]`)
    .description("write the agent's hook configuration (.claude/settings.json or .cursor/hooks.json in the component's root), registering the current folder as a component when it is none")
    .option("--component <name>", "the component to checkpoint (registered with the current folder as root when it does not exist; default: the current folder's)")
    .option("--user", "configure the agent for every project of this user (~/.claude/settings.json or ~/.cursor/hooks.json)")
    .action(async (agentArg: string, opts: { component?: string; user?: boolean }, command: Command) => {
      const { agent } = parseInput(hookAgentInput, { agent: agentArg });
      const ctx = contextFor(command);
      const { assertDataDirOutsideNewRoot, installHooks } = await import("../../hooks/install");
      const options = { agent, component: opts.component, user: opts.user };
      assertDataDirOutsideNewRoot(dataDirOf(command), options);
      const core = await ctx.core();
      const result = await installHooks(core, options, ctx.actor);
      const dataDirFlag = `--data-dir ${core.config.dataDir}`;
      emit(ctx.mode, result, () =>
        [
          result.changed
            ? `installed ${AGENT_TITLES[agent]} hooks in ${result.file} (${result.events.join(", ")})`
            : `${AGENT_TITLES[agent]} hooks already installed in ${result.file} (${result.events.join(", ")}); nothing changed`,
          ...(result.component ? [`  component ${result.component.name} -> ${result.component.root}${result.registered ? " (registered now)" : ""}`] : []),
          ...(result.scope === "user" && !result.component ? ["  every registered component the agent works in is checkpointed; register one with `safetynet hooks install " + agent + "` in its folder"] : []),
          `  the agent now takes a checkpoint before each step; see them with: safetynet ${dataDirFlag} checkpoint list${result.component ? ` ${result.component.name}` : ""}`,
          `  undo a step with: safetynet ${dataDirFlag} rollback <checkpoint-id>`,
        ].join("\n"),
      );
    });

  hooks
    .command("uninstall <agent>")
    .usage(`${agents} [--component <name>] [--user]`)
    .description("remove Safety Net's hooks from the agent's configuration (other hooks and settings stay; the component stays registered)")
    .option("--component <name>", "the component whose root holds the configuration (default: the current folder's)")
    .option("--user", "the user's configuration (~/.claude/settings.json or ~/.cursor/hooks.json)")
    .action(async (agentArg: string, opts: { component?: string; user?: boolean }, command: Command) => {
      const { agent } = parseInput(hookAgentInput, { agent: agentArg });
      const ctx = contextFor(command);
      const { uninstallHooks } = await import("../../hooks/install");
      // No data directory yet: nothing is registered, and none is created for this.
      const core = existsSync(dataDirOf(command)) ? await ctx.core() : null;
      const result = await uninstallHooks(core, { agent, component: opts.component, user: opts.user });
      emit(ctx.mode, result, () =>
        result.changed ? `removed Safety Net's ${AGENT_TITLES[agent]} hooks from ${result.file} (${result.removedEvents.join(", ")})` : `no Safety Net ${AGENT_TITLES[agent]} hooks in ${result.file}; nothing changed`,
      );
    });

  hooks
    .command("status [agent]")
    .usage(`[${agents}]`)
    .description("which agent configurations run Safety Net's hook: the user's, and each registered component's")
    .action(async (agentArg: string | undefined, _opts: unknown, command: Command) => {
      const chosen: HookAgent[] = agentArg === undefined ? [...HOOK_AGENTS] : [parseInput(hookAgentInput, { agent: agentArg }).agent];
      const ctx = contextFor(command);
      const { hookStatus } = await import("../../hooks/install");
      const core = existsSync(dataDirOf(command)) ? await ctx.core() : null;
      const items = await hookStatus(core, chosen);
      emit(ctx.mode, { items }, () =>
        formatTable(
          ["AGENT", "SCOPE", "COMPONENT", "INSTALLED", "FILE"],
          items.map((s) => [s.agent, s.scope, s.component?.name ?? "-", s.problem ? `unreadable: ${oneLine(s.problem)}` : s.installed ? `yes (${s.events.join(", ")})` : "no", s.file]),
        ),
      );
    });

  program
    .command("hook <agent>")
    .usage(`${agents} < event.json`)
    .description("run by the agent's hook configuration before each step: reads its event JSON on stdin, checkpoints the component the step works in; never blocks the agent (problems: one line on stderr, exit 0)")
    .option("--allowed-roots <list>", "the workspace roots components may live in, as when the hook was installed (path-delimited)")
    .action(async (agentArg: string, opts: { allowedRoots?: string }, command: Command) => {
      const out = terminal();
      const parsed = hookAgentInput.safeParse({ agent: agentArg });
      if (!parsed.success) {
        // Even a configuration naming no agent we know must not block the agent's step.
        out.stderr.write(`safetynet hook: no checkpoint taken: unknown agent "${oneLine(agentArg)}" (one of: ${HOOK_AGENTS.join(", ")})\n`);
        out.stdout.write(answerFor("cursor"));
        return;
      }
      const { agent } = parsed.data;
      try {
        const stdin = await readStdin();
        // The hook runs in whatever folder the agent is in: the roots recorded at install apply (a server uses its own).
        if (opts.allowedRoots && !out.hosted) process.env.SAFETYNET_ALLOWED_ROOTS = opts.allowedRoots;
        const { readHookEvent } = await import("../../hooks/events");
        const step = readHookEvent(agent, stdin);
        if (step.checkpoint) {
          const dataDir = dataDirOf(command);
          if (!existsSync(dataDir)) throw new NotFoundError(`the data directory ${dataDir} does not exist (run \`safetynet hooks install ${agent}\` again)`, { dataDir });
          const ctx = contextFor(command);
          const [{ checkpointBeforeStep }, core] = await Promise.all([import("../../hooks/checkpoint-step"), ctx.core()]);
          await checkpointBeforeStep(core, step, ctx.actor);
        }
      } catch (error) {
        out.stderr.write(`safetynet hook: no checkpoint taken: ${oneLine(error instanceof Error ? error.message : String(error))}\n`);
      }
      out.stdout.write(answerFor(agent));
    });
}
