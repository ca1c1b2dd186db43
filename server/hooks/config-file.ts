/**
 * An agent's hook configuration file, merged with what is there: everything
 * that is not ours (other hooks, other settings) is kept as it is, installing
 * twice changes nothing, and uninstalling removes only our entries. Ours are the
 * entries whose command runs `safetynet ... hook <agent>`. A file that cannot be
 * parsed, or whose hooks are not shaped as the agent documents them, is refused
 * and left untouched. Writes are atomic (temp file, fsync, rename).
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { writeFileAtomic } from "../atomic-file";
import { describeFsError, InvalidInputError } from "../errors";
import { CLAUDE_CHANGING_TOOLS, CLAUDE_HOOK_TIMEOUT_SECONDS, CURSOR_EVENTS, type HookAgent } from "./agents";

type JsonObject = Record<string, unknown>;

export interface ConfigDocument {
  file: string;
  exists: boolean;
  value: JsonObject;
}

const isObject = (value: unknown): value is JsonObject => typeof value === "object" && value !== null && !Array.isArray(value);

/** Is this hook command one of ours (for this agent)? */
export function isOurCommand(command: unknown, agent: HookAgent): boolean {
  return typeof command === "string" && /safetynet/.test(command) && new RegExp(String.raw`\shook\s+${agent}(\s|$)`).test(command);
}

/** The events our hooks are installed for in a Claude Code / Cursor configuration. */
export const INSTALLED_EVENTS: Record<HookAgent, readonly string[]> = {
  "claude-code": ["PreToolUse", "UserPromptSubmit"],
  cursor: CURSOR_EVENTS,
};

/** Our entry for one event: a Claude Code matcher group, or a Cursor command entry. */
function ourEntry(agent: HookAgent, event: string, command: string): JsonObject {
  if (agent === "cursor") return { command };
  const hook = { type: "command", command, timeout: CLAUDE_HOOK_TIMEOUT_SECONDS };
  return event === "PreToolUse" ? { matcher: CLAUDE_CHANGING_TOOLS.join("|"), hooks: [hook] } : { hooks: [hook] };
}

/** The commands of an entry: a Claude Code group's hooks, or a Cursor entry's own command. */
function commandsOf(agent: HookAgent, entry: unknown): unknown[] {
  if (!isObject(entry)) return [];
  if (agent === "cursor") return [entry.command];
  return Array.isArray(entry.hooks) ? entry.hooks.map((h) => (isObject(h) ? h.command : undefined)) : [];
}

/** The entry without our commands; null when nothing but ours was in it. */
function withoutOurs(agent: HookAgent, entry: unknown): unknown {
  if (!isObject(entry)) return entry;
  if (agent === "cursor") return isOurCommand(entry.command, agent) ? null : entry;
  if (!Array.isArray(entry.hooks) || !entry.hooks.some((h) => isObject(h) && isOurCommand(h.command, agent))) return entry;
  const hooks = entry.hooks.filter((h) => !(isObject(h) && isOurCommand(h.command, agent)));
  return hooks.length === 0 ? null : { ...entry, hooks };
}

/** Reads the file; refuses (InvalidInputError, nothing written) one that is not JSON or not shaped as the agent documents. */
export function readConfig(agent: HookAgent, file: string): ConfigDocument {
  if (!existsSync(file)) return { file, exists: false, value: agent === "cursor" ? { version: 1, hooks: {} } : {} };
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw describeFsError(error, file);
  }
  let value: unknown;
  try {
    value = text.trim() === "" ? {} : JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`${file} is not valid JSON (${error instanceof Error ? error.message : String(error)}); fix or remove it first: it was left untouched`, { field: "file", file });
  }
  if (!isObject(value)) throw new InvalidInputError(`${file} does not hold a JSON object; fix or remove it first: it was left untouched`, { field: "file", file });
  if (value.hooks !== undefined) {
    if (!isObject(value.hooks)) throw new InvalidInputError(`${file}: "hooks" is not an object; fix it first: the file was left untouched`, { field: "hooks", file });
    for (const [event, entries] of Object.entries(value.hooks)) {
      if (!Array.isArray(entries)) throw new InvalidInputError(`${file}: "hooks.${event}" is not a list; fix it first: the file was left untouched`, { field: `hooks.${event}`, file });
    }
  }
  return { file, exists: true, value };
}

/** The configuration with our hooks for every installed event, running `command`; the same object when they are there already. */
export function withOurHooks(agent: HookAgent, config: JsonObject, command: string): JsonObject {
  const hooks: JsonObject = { ...(isObject(config.hooks) ? config.hooks : {}) };
  let changed = !isObject(config.hooks);
  for (const event of INSTALLED_EVENTS[agent]) {
    const entries = Array.isArray(hooks[event]) ? (hooks[event] as unknown[]) : [];
    const wanted = ourEntry(agent, event, command);
    const ours = entries.filter((e) => commandsOf(agent, e).some((c) => isOurCommand(c, agent)));
    // Already there, exactly: left where it is.
    if (ours.length === 1 && isDeepStrictEqual(ours[0], wanted)) continue;
    hooks[event] = [...entries.map((e) => withoutOurs(agent, e)).filter((e) => e !== null), wanted];
    changed = true;
  }
  if (!changed) return config;
  const next: JsonObject = { ...config, hooks };
  if (agent === "cursor" && next.version === undefined) return { version: 1, ...next };
  return next;
}

/** The configuration without our hooks (events left empty by that are removed); the same object when there were none. */
export function withoutOurHooks(agent: HookAgent, config: JsonObject): JsonObject {
  if (!isObject(config.hooks)) return config;
  const hooks: JsonObject = {};
  let changed = false;
  for (const [event, entries] of Object.entries(config.hooks)) {
    if (!Array.isArray(entries)) {
      hooks[event] = entries;
      continue;
    }
    const kept = entries.map((e) => withoutOurs(agent, e)).filter((e) => e !== null);
    if (kept.length !== entries.length || kept.some((e, i) => e !== entries[i])) changed = true;
    if (kept.length > 0 || entries.length === 0) hooks[event] = kept;
  }
  return changed ? { ...config, hooks } : config;
}

/** Our hooks in a configuration: the events they are installed for and the commands they run. */
export function ourHooks(agent: HookAgent, config: JsonObject): { events: string[]; commands: string[] } {
  const events: string[] = [];
  const commands = new Set<string>();
  if (isObject(config.hooks)) {
    for (const [event, entries] of Object.entries(config.hooks)) {
      if (!Array.isArray(entries)) continue;
      const found = entries.flatMap((e) => commandsOf(agent, e)).filter((c): c is string => isOurCommand(c, agent));
      if (found.length === 0) continue;
      events.push(event);
      for (const c of found) commands.add(c);
    }
  }
  // Ours in the order they are installed in, then any other event a hand-edited file runs us for.
  const order = (event: string) => {
    const at = INSTALLED_EVENTS[agent].indexOf(event);
    return at === -1 ? INSTALLED_EVENTS[agent].length : at;
  };
  return { events: events.map((event, at) => ({ event, at })).sort((a, b) => order(a.event) - order(b.event) || a.at - b.at).map((e) => e.event), commands: [...commands] };
}

/**
 * Where to write `file`: itself, or, when it is a symlink (dotfile managers link
 * ~/.claude/settings.json), the file it points to, so the link stays a link. In a
 * project (`within` set) a link out of the folder is refused.
 */
function writeTarget(file: string, within: string | null): string {
  let real = file;
  try {
    if (lstatSync(file).isSymbolicLink()) real = realpathSync(file);
  } catch {
    // Not there yet: written where it is named.
  }
  const realDir = (() => {
    try {
      return realpathSync(path.dirname(real));
    } catch {
      return null;
    }
  })();
  if (within && realDir) {
    const root = realpathSync(within);
    const rel = path.relative(root, path.join(realDir, path.basename(real)));
    if (rel.startsWith("..") || path.isAbsolute(rel)) {
      throw new InvalidInputError(`${file} resolves to ${path.join(realDir, path.basename(real))}, outside ${within}; refusing to write through it`, { field: "file", file });
    }
  }
  return real;
}

/** Writes the configuration atomically (keeping the file's mode; a new one is 0644 like any project file), as 2-space JSON. */
export function writeConfig(document: ConfigDocument, value: JsonObject, within: string | null): void {
  const target = writeTarget(document.file, within);
  const dir = path.dirname(target);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw describeFsError(error, dir);
  }
  const mode = document.exists ? statSync(target).mode & 0o7777 : 0o644;
  writeFileAtomic(target, JSON.stringify(value, null, 2) + "\n", mode);
}
