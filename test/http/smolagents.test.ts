/**
 * The Python smolagents tools (agents/smolagents/safetynet_tools.py) against the
 * running test server: runs their unittest suite with the server's URL, an admin
 * token and a workspace folder inside the server's allowed roots. The suite drives
 * the tools through smolagents' machinery (the real package when installed, else
 * the stand-in in agents/smolagents/stand_in): as a ToolCallingAgent calls them,
 * rebuilt by Tool.from_dict(tool.to_dict()), saved by tool.save() and imported
 * from tool.py by a fresh python3, and defined from the remote executors' code in a
 * bare interpreter.
 */
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, inject, it } from "vitest";
import { PACKAGE_ROOT } from "./server";

const server = inject("main");

function run(command: string, args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PACKAGE_ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

describe("smolagents tools (Python, standard library HTTP) against the server", () => {
  it("python3 -m unittest agents/smolagents/test_safetynet_tools.py passes, none skipped", async () => {
    const workspace = path.join(server.workspace, "python");
    mkdirSync(workspace, { recursive: true });
    const result = await run("python3", ["-m", "unittest", "-v", "agents/smolagents/test_safetynet_tools.py"], {
      SAFETYNET_URL: server.baseUrl,
      SAFETYNET_TOKEN: server.adminToken,
      SAFETYNET_TEST_WORKSPACE: workspace,
      PYTHONDONTWRITEBYTECODE: "1",
      PYTHONUNBUFFERED: "1",
    });
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.status, output).toBe(0);
    expect(output).toMatch(/^OK$/m);
    expect(output).not.toMatch(/skipped/);
    expect(output).toMatch(/test_agent_flow_with_the_plain_functions .* ok/);
    expect(output).toMatch(/^smolagents \S+ from /m);
    for (const test of [
      "test_as_a_tool_calling_agent_calls_them",
      "test_rebuilt_with_from_dict_of_to_dict",
      "test_saved_with_save_and_imported_from_tool_py_by_a_fresh_interpreter",
      "test_defined_by_the_remote_executor_code_in_a_bare_interpreter",
      "test_array_inputs_say_what_their_items_are",
      "test_optional_inputs_are_nullable_default_to_None_and_say_optional_in_both_prompts",
      "test_to_dict_refuses_methods_that_are_not_self_contained",
      "test_a_query_cut_before_the_answer_is_sent_once_more",
      "test_a_mutation_cut_before_the_answer_is_not_repeated",
      "test_a_tool_query_cut_before_the_answer_is_sent_once_more",
      "test_a_tool_mutation_cut_before_the_answer_is_not_repeated",
    ]) {
      expect(output).toMatch(new RegExp(`^${test} .* \\.\\.\\. ok$`, "m"));
    }
  });
});
