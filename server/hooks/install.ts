/**
 * `safetynet hooks install|uninstall|status`: where an agent's hook
 * configuration lives (a component's root, or the home directory with --user),
 * which command it runs, and the component it checkpoints.
 */
import { existsSync, realpathSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Core } from "../core";
import { InvalidInputError, NotFoundError, OperationFailedError } from "../errors";
import { packageRoot } from "../config";
import { componentName } from "../schemas";
import { getComponent, listComponents, upsertComponent } from "../registry/components";
import { isInside } from "../scan/paths";
import { configFileOf, type HookAgent } from "./agents";
import { ourHooks, readConfig, withOurHooks, withoutOurHooks, writeConfig } from "./config-file";

export type HookScope = "project" | "user";

export interface HookTarget {
  agent: HookAgent;
  scope: HookScope;
  /** The configuration file (absolute). */
  file: string;
  /** The component whose root holds a project file; null for the user's file. */
  component: { name: string; root: string } | null;
}

export interface HookInstallation extends HookTarget {
  /** false when the file already held exactly this (nothing was written). */
  changed: boolean;
  /** A component registered by this install (the folder was not one yet). */
  registered: boolean;
  events: string[];
  command: string;
}

export interface HookRemoval extends HookTarget {
  changed: boolean;
  removedEvents: string[];
}

export interface HookStatus extends HookTarget {
  installed: boolean;
  events: string[];
  commands: string[];
  /** Why the file could not be read (it is left as it is). */
  problem: string | null;
}

/** Quotes a word for a POSIX shell (both agents run hook commands through one). */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command the agent runs: this package's hook script (it hands the event to a
 * running server with curl, which starts far sooner than Node), then the Node CLI
 * it falls back to, this node and this package's bin by absolute path, the data
 * directory and allowed roots spelled out, so it works from whatever folder the
 * agent runs hooks in and whatever PATH it has.
 */
export function hookCommand(agent: HookAgent, dataDir: string, allowedRoots: string[]): string {
  const bins = path.join(packageRoot(), "bin");
  for (const file of ["safetynet-hook", "safetynet.mjs"]) {
    const bin = path.join(bins, file);
    if (!existsSync(bin)) throw new OperationFailedError(`cannot find this package's bin/${file} (looked at ${bin}) to point the hook at`, { bin });
  }
  const nodeCli = [process.execPath, path.join(bins, "safetynet.mjs"), "--data-dir", dataDir, "hook", agent, "--allowed-roots", allowedRoots.join(path.delimiter)];
  return ["/bin/sh", path.join(bins, "safetynet-hook"), dataDir, agent, ...nodeCli].map(shellWord).join(" ");
}

function fileIn(base: string, agent: HookAgent): string {
  return path.join(base, ...configFileOf(agent));
}

function realCwd(): string {
  return realpathSync(process.cwd());
}

/** The component the current folder (or --component) names: its root holds the folder. null when none does. */
async function currentComponent(core: Core, name: string | undefined): Promise<{ name: string; root: string } | null> {
  if (name !== undefined) {
    try {
      const c = await getComponent(core, name);
      return { name: c.name, root: c.root };
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }
  const cwd = realCwd();
  let best: { name: string; root: string } | null = null;
  for (const c of await listComponents(core)) if (isInside(c.root, cwd) && (!best || c.root.length > best.root.length)) best = c;
  return best;
}

/**
 * Registers the current folder (name: --component or the folder's name) with the
 * checks of `component add`.
 */
async function registerCurrentFolder(core: Core, name: string | undefined, actor: string): Promise<{ name: string; root: string }> {
  const cwd = realCwd();
  const chosen = name ?? path.basename(cwd);
  if (!componentName.safeParse(chosen).success) {
    throw new InvalidInputError(`the folder name "${chosen}" is not a valid component name (1-64 letters, digits, '.', '_' or '-'); name it with --component <name>`, { field: "--component" });
  }
  const view = await upsertComponent(core, { name: chosen, root: cwd }, actor);
  return { name: view.name, root: view.root };
}

/**
 * Refuses, before anything is created, an install that would register the current
 * folder while the data directory (not there yet) would be made inside it: the
 * registration would be refused anyway, after the data directory was made there.
 */
export function assertDataDirOutsideNewRoot(dataDir: string, options: HookOptions): void {
  if (existsSync(dataDir) || (options.user && options.component === undefined)) return;
  const cwd = realCwd();
  if (!isInside(cwd, path.resolve(dataDir))) return;
  throw new InvalidInputError(
    `the data directory ${dataDir} would lie inside ${cwd}, the folder this install registers as a component; keep it outside: pass --data-dir (e.g. --data-dir ~/.safetynet) or set SAFETYNET_DATA_DIR`,
    { field: "--data-dir", dataDir, root: cwd },
  );
}

export interface HookOptions {
  agent: HookAgent;
  component?: string;
  user?: boolean;
}

/**
 * Writes our hooks into the agent's configuration, registering the component
 * first when needed (--user alone configures every project of this user and
 * registers nothing). The file is read and checked before anything changes: one
 * that cannot be parsed leaves everything as it was.
 */
export async function installHooks(core: Core, options: HookOptions, actor: string): Promise<HookInstallation> {
  const wantsComponent = !options.user || options.component !== undefined;
  const existing = wantsComponent ? await currentComponent(core, options.component) : null;
  const command = hookCommand(options.agent, core.config.dataDir, core.config.allowedRoots);
  const base = options.user ? os.homedir() : (existing?.root ?? realCwd());
  const file = fileIn(base, options.agent);
  const document = readConfig(options.agent, file);
  const next = withOurHooks(options.agent, document.value, command);
  const component = wantsComponent && !existing ? await registerCurrentFolder(core, options.component, actor) : existing;
  const changed = next !== document.value || !document.exists;
  if (changed) writeConfig(document, next, options.user ? null : base);
  return {
    agent: options.agent,
    scope: options.user ? "user" : "project",
    file,
    component,
    changed,
    registered: wantsComponent && !existing,
    events: ourHooks(options.agent, next).events,
    command,
  };
}

/** Removes our hooks from the agent's configuration (nothing else; the component stays registered). */
export async function uninstallHooks(core: Core | null, options: HookOptions): Promise<HookRemoval> {
  let component: { name: string; root: string } | null = null;
  let base: string;
  if (options.user) base = os.homedir();
  else {
    component = core ? await currentComponent(core, options.component) : null;
    if (!component && options.component !== undefined) throw new NotFoundError(`no component named "${options.component}"`, { component: options.component });
    base = component?.root ?? realCwd();
  }
  const file = fileIn(base, options.agent);
  const document = readConfig(options.agent, file);
  const removedEvents = ourHooks(options.agent, document.value).events;
  const next = withoutOurHooks(options.agent, document.value);
  const changed = document.exists && next !== document.value;
  if (changed) writeConfig(document, next, options.user ? null : base);
  return { agent: options.agent, scope: options.user ? "user" : "project", file, component, changed, removedEvents };
}

function statusOf(target: HookTarget): HookStatus {
  try {
    const document = readConfig(target.agent, target.file);
    const found = ourHooks(target.agent, document.value);
    return { ...target, installed: found.events.length > 0, events: found.events, commands: found.commands, problem: null };
  } catch (error) {
    return { ...target, installed: false, events: [], commands: [], problem: error instanceof Error ? error.message : String(error) };
  }
}

/** For each agent: the user's file, and the file in every registered component's root (and in the current folder when it is none). */
export async function hookStatus(core: Core | null, agents: HookAgent[]): Promise<HookStatus[]> {
  const components = core ? (await listComponents(core)).map((c) => ({ name: c.name, root: c.root })) : [];
  const cwd = realCwd();
  const cwdIsRoot = components.some((c) => c.root === cwd);
  const items: HookStatus[] = [];
  for (const agent of agents) {
    items.push(statusOf({ agent, scope: "user", file: fileIn(os.homedir(), agent), component: null }));
    for (const component of components) items.push(statusOf({ agent, scope: "project", file: fileIn(component.root, agent), component }));
    if (!cwdIsRoot && cwd !== os.homedir()) items.push(statusOf({ agent, scope: "project", file: fileIn(cwd, agent), component: null }));
  }
  return items;
}
