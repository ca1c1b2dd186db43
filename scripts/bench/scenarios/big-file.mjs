// Peak RSS of the CLI on a tree holding one --big-mb file (1 GB by default): files are
// streamed, so memory must not grow with a file's size.
import fs from "node:fs";
import path from "node:path";
import { gnuTimeWorks } from "../processes.mjs";
import { cliOn } from "../tools/cli.mjs";
import { EngineDriver } from "../tools/engine.mjs";
import { makeTree, sha256 } from "../tree.mjs";

export async function bigFileScenario(opts, ctx) {
  const dir = path.join(ctx.work, "big");
  const tree = path.join(dir, "tree");
  process.stderr.write(`bench: generating a tree with one ${opts.bigMb} MB file ...\n`);
  makeTree(tree, ["--files", "100", "--mb", "1", "--big-mb", String(opts.bigMb)]);
  const dataDir = path.join(dir, "data");
  const target = path.join(dir, "restored");
  const results = {};
  if (gnuTimeWorks()) {
    const cli = cliOn(dataDir, { allowedRoots: ctx.work, server: false });
    cli.json("component", "add", "big", "--root", tree);
    results.method = "GNU time %M of the whole CLI process";
    results.checkpoint = cli.measured("checkpoint", "create", "big");
    results.restore = cli.measured("checkpoint", "restore", results.checkpoint.value.id, "--to", target);
    for (const r of [results.checkpoint, results.restore]) delete r.value;
  } else {
    // No GNU time: the in-process driver reports its own peak (process.resourceUsage().maxRSS).
    results.method = "process.resourceUsage().maxRSS of the in-process engine driver";
    const driver = new EngineDriver({ SAFETYNET_ALLOWED_ROOTS: ctx.work });
    await driver.request({ op: "open", dataDir, cwd: dir });
    await driver.request({ op: "add", name: "big", root: tree });
    const created = await driver.request({ op: "checkpoint", component: "big" });
    results.checkpoint = { sec: created.ms / 1000, peakMb: (await driver.request({ op: "rss" })).maxRssKb / 1024 };
    const restored = await driver.request({ op: "restore", id: created.id, to: target });
    results.restore = { sec: restored.ms / 1000, peakMb: (await driver.request({ op: "rss" })).maxRssKb / 1024 };
    await driver.close();
  }
  const file = (root) => fs.readFileSync(path.join(root, "assets", "model.bin"));
  if (sha256(file(tree)) !== sha256(file(target))) throw new Error("BENCH ABORTED: the restored big file differs from the original");
  if (!opts.keep) fs.rmSync(dir, { recursive: true, force: true });
  return results;
}
