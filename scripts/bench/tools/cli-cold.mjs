// Column "safetynet CLI": no server, every command starts, opens the database and walks the tree.
import path from "node:path";
import { cliOn, cliOperations } from "./cli.mjs";

export function cliCold(ctx) {
  let cli;
  return {
    name: "cli",
    label: "safetynet CLI",
    skipsIgnored: true,
    setup({ tree, scratch }) {
      cli = cliOn(path.join(scratch, "data"), { allowedRoots: ctx.work, server: false });
      cli.json("component", "add", "bench", "--root", tree);
    },
    ...cliOperations(() => cli),
    restore(id, target) {
      const { sec, peakMb } = cli.measured("checkpoint", "restore", id, "--to", target);
      return { sec, peakMb };
    },
    teardown() {},
  };
}
