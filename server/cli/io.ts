/**
 * CLI input/output conventions: `--json` prints exactly one JSON object on stdout;
 * human output goes to stdout, progress and notices to stderr; errors map to the
 * documented exit codes (0 ok, 1 failed, 2 bad input, 3 conflict, 4 integrity, 5 not found).
 */
import { z } from "zod";
import { exitCodeOf, InvalidInputError, SafetyNetError } from "../errors";
import { terminal } from "./terminal";
import { displayPath } from "../byte-paths";

export interface OutputMode {
  json: boolean;
}

export function emit(mode: OutputMode, value: unknown, human: () => string): void {
  if (mode.json) terminal().stdout.write(JSON.stringify(value, null, 2) + "\n");
  // Names that are not UTF-8 are shown as \xHH (JSON keeps them exactly).
  else terminal().stdout.write(displayPath(human()) + "\n");
}

export function notice(message: string): void {
  terminal().stderr.write(displayPath(message) + "\n");
}

/** A command whose stdout is not its own to put one JSON object on (a server's log, the MCP protocol) refuses --json. */
export function refuseJson(mode: OutputMode, command: string, why: string): void {
  if (mode.json) throw new InvalidInputError(`\`safetynet ${command}\` prints no JSON: ${why}; run it without --json`, { field: "--json" });
}

/** Ends the command with `code` (printed output stays as it is). */
export function setExitCode(code: number): void {
  terminal().exitCode = code;
}

/** Parses a value with a shared zod schema, turning the first issue into a message naming the field. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join(".") || "input";
  throw new InvalidInputError(`invalid ${field}: ${issue?.message ?? "bad input"}`, { field });
}

export function reportError(mode: OutputMode, error: unknown): number {
  const code = exitCodeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  if (mode.json) {
    const body = error instanceof SafetyNetError ? { code: error.code, message, details: error.details } : { code: "FAILED", message };
    terminal().stdout.write(JSON.stringify({ error: body }, null, 2) + "\n");
  } else {
    terminal().stderr.write(`safetynet: ${displayPath(message)}\n`);
    if (process.env.SAFETYNET_DEBUG && error instanceof Error && error.stack) terminal().stderr.write(error.stack + "\n");
  }
  return code;
}

/** `k=v` pairs into a record (values stay strings). */
export function parseKeyValues(pairs: string[] | undefined, option: string): Record<string, string> {
  const record: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new InvalidInputError(`${option} expects key=value, got "${pair}"`, { field: option });
    record[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return record;
}

export function parseInteger(value: string, option: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidInputError(`${option} expects a whole number, got "${value}"`, { field: option });
  return Number(value);
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
