/**
 * The Python smolagents tools (agents/smolagents/safetynet_tools.py) against the
 * running test server: runs their unittest suite with the server's URL, an admin
 * token and a workspace folder inside the server's allowed roots.
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
    expect(output).toMatch(/test_tools_call_the_server .* ok/);
    expect(output).toMatch(/test_a_query_cut_before_the_answer_is_sent_once_more .* ok/);
    expect(output).toMatch(/test_a_mutation_cut_before_the_answer_is_not_repeated .* ok/);
  });
});
