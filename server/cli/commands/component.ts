import path from "node:path";
import type { Command } from "commander";
import { componentByName, componentUpsertInput } from "../../schemas";
import { contextFor } from "../context";
import { collect, emit, parseInput, parseKeyValues } from "../io";
import { formatTable } from "../format";

export function registerComponentCommands(program: Command): void {
  const component = program.command("component").description("register and list components (named roots an agent may change)");

  component
    .command("add <name>")
    .description("register a component, or update it if the name exists")
    .requiredOption("--root <dir>", "the component's root directory (inside SAFETYNET_ALLOWED_ROOTS)")
    .option("--include <glob>", "only files matching this glob (repeatable)", collect)
    .option("--exclude <glob>", "skip files matching this glob (repeatable)", collect)
    .option("--meta <key=value>", "metadata document entry, e.g. owner=alice (repeatable)", collect)
    .option(
      "--db <target>",
      "a database to snapshot with `checkpoint create --db` (repeatable; replaces the list): sqlite:<path in the root>, or postgres:<ENV_VAR>[?schema=a,b][&tables=t1,t2] where ENV_VAR holds the URL",
      collect,
    )
    .option("--no-db", "remove the component's database targets")
    .action(async (name: string, opts: { root: string; include?: string[]; exclude?: string[]; meta?: string[]; db?: string[] | false }, command: Command) => {
      const ctx = contextFor(command, { remote: true });
      const dbTargets = opts.db === false ? [] : opts.db;
      const input = parseInput(componentUpsertInput, { name, root: opts.root, include: opts.include, exclude: opts.exclude, metadata: parseKeyValues(opts.meta, "--meta"), dbTargets });
      const remote = await ctx.remoteClient();
      let view;
      if (remote) {
        // A relative --root means relative to where the command runs, as in local mode.
        view = await remote.upsertComponent({ ...input, root: path.resolve(input.root) });
      } else {
        const { upsertComponent } = await import("../../registry/components");
        view = await upsertComponent(await ctx.core(), input, ctx.actor);
      }
      emit(ctx.mode, view, () => [`component ${view.name} -> ${view.root}`, ...view.dbTargets.map((t) => `  database ${t}`)].join("\n"));
    });

  component
    .command("list")
    .description("list registered components")
    .action(async (_opts: unknown, command: Command) => {
      const ctx = contextFor(command, { remote: true });
      const remote = await ctx.remoteClient();
      let items;
      if (remote) {
        items = (await remote.listComponents()).items;
      } else {
        const { listComponents } = await import("../../registry/components");
        items = await listComponents(await ctx.core());
      }
      emit(ctx.mode, { items }, () =>
        items.length === 0
          ? "no components yet: safetynet component add <name> --root <dir>"
          : formatTable(
              ["NAME", "ROOT", "DATABASES", "STATUS", "UPDATED"],
              items.map((c) => [c.name, c.root, c.dbTargets.length, String(c.metadata.status ?? "-"), c.updatedAt]),
            ),
      );
    });

  component
    .command("show <name>")
    .description("show one component with its metadata document")
    .action(async (name: string, _opts: unknown, command: Command) => {
      const ctx = contextFor(command);
      const input = parseInput(componentByName, { name });
      const { getComponent } = await import("../../registry/components");
      const view = await getComponent(await ctx.core(), input.name);
      emit(ctx.mode, view, () => JSON.stringify(view, null, 2));
    });

  component
    .command("remove <name>")
    .description("unregister a component and its checkpoints (stored objects are freed by the retention sweep)")
    .option("--yes", "do not ask for confirmation")
    .action(async (name: string, opts: { yes?: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const input = parseInput(componentByName, { name });
      const { confirmOrRefuse } = await import("../confirm");
      await confirmOrRefuse(`Remove component ${input.name} and all its checkpoints?`, Boolean(opts.yes));
      const { removeComponent } = await import("../../registry/components");
      await removeComponent(await ctx.core(), input.name, ctx.actor);
      emit(ctx.mode, { removed: input.name }, () => `removed component ${input.name}`);
    });
}
