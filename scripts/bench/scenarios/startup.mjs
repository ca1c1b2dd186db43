// The start-up row: `safetynet component list` on an existing data directory (cold, and
// warm through a server) against a bare `node -e ''`, interleaved, medians of N runs.
import fs from "node:fs";
import path from "node:path";
import { run, wall } from "../processes.mjs";
import { assertServed, startServer } from "../server.mjs";
import { cliOn } from "../tools/cli.mjs";

export async function startupScenario(opts, ctx, { warm }) {
  const dir = path.join(ctx.work, "startup");
  const tree = path.join(dir, "tree");
  fs.mkdirSync(path.join(tree, "src"), { recursive: true });
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(tree, "src", `f${i}.ts`), `export const v${i} = ${i};\n`);
  const dataDir = path.join(dir, "data");
  const cold = cliOn(dataDir, { allowedRoots: ctx.work, server: false });
  cold.json("component", "add", "app", "--root", tree);
  cold.json("checkpoint", "create", "app");

  const samples = { node: [], cold: [], coldPeakMb: [], warm: [], warmPeakMb: [] };
  const bareNode = () => wall(() => run(process.execPath, ["-e", ""])).sec;
  const list = (cli) => cli.measured("component", "list");
  let server = null;
  try {
    let warmCli = null;
    if (warm) {
      server = await startServer({ via: "serve", dataDir, allowedRoots: ctx.work, logFile: path.join(dir, "server.log") });
      warmCli = cliOn(dataDir, { allowedRoots: ctx.work, server: true });
    }
    // One untimed round first: the page cache then holds node, the bundle and the database.
    bareNode();
    list(cold);
    if (warmCli) list(warmCli);
    for (let i = 0; i < opts.startupRuns; i++) {
      samples.node.push(bareNode());
      const c = list(cold);
      samples.cold.push(c.sec);
      if (c.peakMb != null) samples.coldPeakMb.push(c.peakMb);
      if (warmCli) {
        const w = list(warmCli);
        samples.warm.push(w.sec);
        if (w.peakMb != null) samples.warmPeakMb.push(w.peakMb);
      }
    }
    if (server) await assertServed(server, opts.startupRuns + 1, "start-up: safetynet component list (warm)");
  } finally {
    await server?.stop();
    if (!opts.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
  return samples;
}
