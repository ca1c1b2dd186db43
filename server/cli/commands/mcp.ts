import type { Command } from "commander";
import { contextFor } from "../context";
import { notice, refuseJson } from "../io";
import { DEFAULT_MAX_RESULT_BYTES, MIN_MAX_RESULT_BYTES, resolveMaxResultBytes } from "../../mcp/result-budget";

/** Who local MCP calls are recorded as in history (remote calls are recorded as the token's name by the server). */
export function mcpActor(): string {
  return process.env.SAFETYNET_ACTOR || "mcp";
}

export function registerMcpCommand(program: Command): void {
  program
    .command("mcp")
    .description("serve the Safety Net tools to an MCP client over stdio (on the data directory, or a server with --url/--token)")
    .option(
      "--max-result-bytes <n>",
      `bytes of text a tool result may hold (default ${DEFAULT_MAX_RESULT_BYTES}, at least ${MIN_MAX_RESULT_BYTES}; env SAFETYNET_MCP_MAX_RESULT_BYTES)`,
    )
    .action(async (opts: { maxResultBytes?: string }, command: Command) => {
      const ctx = contextFor(command, { remote: true });
      refuseJson(ctx.mode, "mcp", "its stdout carries the MCP protocol to the client that started it");
      // Checked before anything starts: a bad budget is a usage error (exit 2).
      const maxResultBytes = resolveMaxResultBytes(opts.maxResultBytes);
      const client = await ctx.client(mcpActor());
      const { serveStdio } = await import("../../mcp/server");
      // stdout carries the protocol: anything for people goes to stderr.
      notice(`safetynet mcp: serving tools on stdio (${client.mode}: ${client.target}; results up to ${maxResultBytes} bytes)`);
      await serveStdio(client, { maxResultBytes });
    });
}
