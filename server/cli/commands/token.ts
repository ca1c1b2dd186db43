import type { Command } from "commander";
import { tokenByName, tokenCreateInput } from "../../schemas";
import { contextFor } from "../context";
import { collect, emit, notice, parseInput } from "../io";
import { formatTable } from "../format";

export function registerTokenCommands(program: Command): void {
  const token = program.command("token").description("API tokens for agents and people (works directly on the data directory)");

  token
    .command("create <name>")
    .description("create a token; the secret is printed once and only its hash is kept")
    .requiredOption("--role <role>", "viewer, agent, operator or admin")
    .option("--component <name>", "only this component (repeatable; default: every component)", collect)
    .action(async (name: string, opts: { role: string; component?: string[] }, command: Command) => {
      const ctx = contextFor(command);
      const input = parseInput(tokenCreateInput, { name, role: opts.role, components: opts.component });
      const { createApiToken } = await import("../../auth/tokens");
      const created = await createApiToken(await ctx.core(), input);
      emit(ctx.mode, created, () => {
        notice(`created ${created.role} token "${created.name}"${created.components.length ? ` for ${created.components.join(", ")}` : ""}; it is shown only now:`);
        return created.token;
      });
    });

  token
    .command("list")
    .description("list tokens (never their secrets)")
    .action(async (_opts: unknown, command: Command) => {
      const ctx = contextFor(command);
      const { listApiTokens } = await import("../../auth/tokens");
      const items = await listApiTokens(await ctx.core());
      emit(ctx.mode, { items }, () =>
        items.length === 0
          ? "no tokens yet: safetynet token create <name> --role agent"
          : formatTable(
              ["NAME", "ROLE", "COMPONENTS", "CREATED", "LAST USED", "REVOKED"],
              items.map((t) => [t.name, t.role, t.components.length ? t.components.join(",") : "*", t.createdAt, t.lastUsedAt, t.revokedAt]),
            ),
      );
    });

  token
    .command("revoke <name>")
    .description("revoke a token and end its browser sessions")
    .action(async (name: string, _opts: unknown, command: Command) => {
      const ctx = contextFor(command);
      const input = parseInput(tokenByName, { name });
      const { revokeApiToken } = await import("../../auth/tokens");
      const revoked = await revokeApiToken(await ctx.core(), input.name);
      emit(ctx.mode, revoked, () => `revoked token "${revoked.name}"`);
    });
}
