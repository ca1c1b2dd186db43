/**
 * The --json contract holds in every case, through the CLI as a process: stdout is
 * exactly one JSON object and nothing else, for help, a missing command, usage
 * errors, and commands whose stdout is not theirs to print JSON on (refused).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, jsonOf, makeWorkspaceDirs, runCli, type CliErrorJson } from "../support/workspace";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

describe("--json without a command to run", () => {
  it.each([
    [["--json"], /^Usage: safetynet \[options\] \[command\]/],
    [["--help", "--json"], /^Usage: safetynet \[options\] \[command\]/],
    [["--json", "help"], /^Usage: safetynet \[options\] \[command\]/],
    [["checkpoint", "--json"], /^Usage: safetynet checkpoint \[options\] \[command\]/],
    [["help", "checkpoint", "--json"], /^Usage: safetynet checkpoint \[options\] \[command\]/],
    [["rollback", "--help", "--json"], /^Usage: safetynet rollback \[options\] <checkpoint-id>/],
  ])("safetynet %j prints the help as {\"help\": ...}, exit 0", async (args, usage) => {
    const ws = makeWorkspaceDirs("json-help");

    const run = await runCli(ws, args);

    expect(run.status, run.stderr).toBe(0);
    const printed = jsonOf<{ help: string }>(run);
    expect(Object.keys(printed)).toEqual(["help"]);
    expect(printed.help).toMatch(usage);
    expect(printed.help).toMatch(/\nOptions:\n/);
  });
});

describe("commands that cannot print JSON", () => {
  it.each([
    ["serve", /^`safetynet serve` prints no JSON: it runs the server in the foreground, its log on stdout, until stopped; run it without --json$/],
    ["mcp", /^`safetynet mcp` prints no JSON: its stdout carries the MCP protocol to the client that started it; run it without --json$/],
  ])("safetynet %s --json is refused with a JSON error naming --json (exit 2), and starts nothing", async (command, message) => {
    const ws = makeWorkspaceDirs("json-refused");

    const run = await runCli(ws, [command, "--json"]);

    expect(run.status).toBe(2);
    expect(jsonOf<CliErrorJson>(run).error).toEqual({ code: "INVALID_INPUT", message: expect.stringMatching(message), details: { field: "--json" } });
    expect(run.stderr).toBe("");
  });
});

describe("usage errors with --json", () => {
  it.each([
    [["bogus", "--json"], "unknown command 'bogus'"],
    [["checkpoint", "create", "--json"], "missing required argument 'component'"],
    [["checkpoint", "list", "--bogus", "--json"], "unknown option '--bogus'"],
  ])("safetynet %j prints one JSON error (exit 2) and the usage on stderr", async (args, message) => {
    const ws = makeWorkspaceDirs("json-usage");

    const run = await runCli(ws, args);

    expect(run.status).toBe(2);
    expect(jsonOf<CliErrorJson>(run).error).toEqual({ code: "INVALID_INPUT", message, details: { field: "usage" } });
    expect(run.stderr).toMatch(/^error: .*\n[\s\S]*Usage: safetynet/);
  });
});
