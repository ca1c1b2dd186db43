/**
 * Recorded hook events of Claude Code and Cursor (test/fixtures/hook-events, in
 * the shapes their documentation gives), placed in a test's folders, and the way
 * an agent runs a hook: the event on stdin of a `safetynet hook <agent>` process.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { REPO_ROOT, runCli, type CliOptions, type CliResult, type WorkspaceDirs } from "./workspace";

export type HookEventName =
  | "claude-code-pretooluse-bash"
  | "claude-code-pretooluse-read"
  | "claude-code-pretooluse-edit"
  | "claude-code-userpromptsubmit"
  | "cursor-beforeshellexecution"
  | "cursor-beforesubmitprompt"
  | "cursor-beforemcpexecution";

/** The recorded project folder and home of the fixtures. */
const RECORDED_PROJECT = "/home/dev/project";
const RECORDED_HOME = "/home/dev";

/**
 * A recorded event as JSON text, its project folder moved to `project` (and its
 * parent to `project`'s parent), with top-level fields (and tool_input's) replaced.
 */
export function hookEvent(name: HookEventName, project: string, changes: Record<string, unknown> = {}): string {
  const recorded = fs.readFileSync(path.join(REPO_ROOT, "test", "fixtures", "hook-events", `${name}.json`), "utf8");
  const moved = recorded.split(RECORDED_PROJECT).join(project).split(RECORDED_HOME).join(path.dirname(project));
  const event = JSON.parse(moved) as Record<string, unknown>;
  for (const [key, value] of Object.entries(changes)) {
    if (key === "tool_input" && typeof value === "object" && value !== null && typeof event.tool_input === "object") event.tool_input = { ...(event.tool_input as object), ...value };
    else if (value === undefined) delete event[key];
    else event[key] = value;
  }
  return JSON.stringify(event);
}

/** Runs `safetynet hook <agent>` with `input` on stdin, as the agent does. */
export function runHook(dirs: WorkspaceDirs, agent: string, input: string, options: CliOptions = {}): Promise<CliResult> {
  return runCli(dirs, ["hook", agent], { ...options, input });
}

/** A file's bytes, and for a compressed stored object (test/support/stored-objects.ts) its inflated content too. */
function contentsOf(file: string): Buffer[] {
  const bytes = fs.readFileSync(file);
  if (file.endsWith(".z") && bytes.subarray(0, 4).toString("latin1") === "SNZ1") return [bytes, zlib.brotliDecompressSync(bytes.subarray(16))];
  return [bytes];
}

/** Every file under `dir` whose bytes (inflated, for a compressed object) contain `needle`: the database, its log, stored objects, logs. */
export function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  const bytes = Buffer.from(needle, "utf8");
  const walk = (at: string) => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && contentsOf(full).some((content) => content.includes(bytes))) found.push(full);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return found;
}
