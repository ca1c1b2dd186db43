// --change-cost: checkpoints that cost what changed. On one generated tree (--files,
// --mb), with the server of `npm start` running on a data directory (SAFETYNET_WATCH at
// the product's default) and every measured call one tRPC request over HTTP from this
// process, side by side with a shadow git repository on its own copy of the tree, given
// the same changes in the same run:
//   1. unchanged checkpoint, checkpoint after a C-file change (mutate-tree.mjs), rollback
//      of that change (plan + execute): medians of R runs, against git's whole processes;
//      every rollback checked against the tree before the change;
//   2. bytes a checkpoint after a 1-file change adds to the data directory, against .git;
//   3. the data directory's growth over S checkpoints with 5 files changed before each,
//      against the changed content plus 64 KB per checkpoint (and .git's growth);
//   4. file.history of one path over H checkpoints of a small component, against git log;
//   5. `safetynet retention run` expiring 90% of the S checkpoints, then `verify --all`;
//   6. the server's RSS after 1-3, and the cold CLI's peak RSS for the first checkpoint of
//      the tree and for one after a C-file change.
// Details of each in change-cost/*.mjs; the README's Performance section says what each row means.
import os from "node:os";
import path from "node:path";
import { sleep } from "../processes.mjs";
import { ensureWebBuild } from "../server.mjs";
import { changeCostTargets } from "../targets.mjs";
import { cliOn } from "../tools/cli.mjs";
import { shadowGit } from "../tools/git.mjs";
import { fingerprint, freshCopy, makeTree, modesOf, removeTree, SETTLE_MS, sourceFiles, statBaseline } from "../tree.mjs";
import { apiOperations } from "./change-cost/api-operations.mjs";
import { historyRows } from "./change-cost/history.mjs";
import { changeCostTables, changeCostVerdicts, mediansOfSides } from "./change-cost/report.mjs";
import { retentionSweep } from "./change-cost/retention.mjs";
import { apiTool, changeSource, openSession } from "./change-cost/session.mjs";
import { fileChanger, oneFileGrowth, stepsGrowth } from "./change-cost/storage.mjs";

const COMPONENT = "bench";
const FILES_PER_STEP = 5;
/** Retention keeps this fraction of the step checkpoints (the newest 100 of 1,000). */
const KEEP_FRACTION = 0.1;
const HISTORY_QUERIES = 20;

const log = (message) => process.stderr.write(`bench --change-cost: ${message}\n`);
const elapsed = (since) => `${((Date.now() - since) / 1000).toFixed(0)} s`;

/** Two fresh copies of one generated tree, old enough for both stat caches. */
async function prepareTrees(opts, dir) {
  const pristine = path.join(dir, "pristine");
  log(`generating ${opts.files} files / ${opts.mb} MB ...`);
  const made = makeTree(pristine, ["--files", String(opts.files), "--mb", String(opts.mb)]);
  const expected = fingerprint(pristine);
  const expectedModes = modesOf(pristine);
  const files = sourceFiles(pristine);
  const ours = { tree: path.join(dir, "ours", "tree"), scratch: path.join(dir, "ours") };
  const git = { tree: path.join(dir, "git", "tree"), scratch: path.join(dir, "git") };
  freshCopy(pristine, ours.tree);
  freshCopy(pristine, git.tree, { move: true });
  ours.known = statBaseline(ours.tree, expected);
  git.known = statBaseline(git.tree, expected);
  await sleep(SETTLE_MS);
  return { made, expected, expectedModes, files, ours, git };
}

/** Rows 1-3 and the memory figures, on one server; it is stopped before the retention row. */
async function onTheTree(opts, ctx, trees, dataDir) {
  const cc = opts.changeCost;
  const { ours, git } = trees;
  const gitTool = shadowGit();
  gitTool.setup(git);
  git.tool = gitTool;
  const session = await openSession({ dir: ours.scratch, dataDir, allowedRoots: ctx.work, component: COMPONENT, root: ours.tree });
  log(`server ${session.server.baseUrl} (pid ${session.server.pid}), SAFETYNET_WATCH ${session.server.watch ?? "unset (the product's default)"}`);
  ours.tool = apiTool(session);
  const cli = cliOn(dataDir, { allowedRoots: ctx.work, server: false });
  const out = {};
  try {
    // The first checkpoint by the cold CLI: on a large tree it can take longer than fetch
    // waits for an answer (5 min), and it gives the CLI's peak RSS on a whole tree. Then
    // one through the API, untimed, which warms the server up.
    let started = Date.now();
    const firstCli = cli.measured("checkpoint", "create", COMPONENT);
    out.cliFirst = { sec: firstCli.sec, peakMb: firstCli.peakMb };
    const firstGit = gitTool.checkpoint();
    await ours.tool.checkpoint();
    out.firstCheckpoint = { cliMs: firstCli.sec * 1000, gitMs: firstGit.sec * 1000 };
    log(`first checkpoints (not in the rows): cold CLI ${firstCli.sec.toFixed(1)} s (peak RSS ${firstCli.peakMb?.toFixed(0) ?? "—"} MB), git ${firstGit.sec.toFixed(1)} s (${elapsed(started)})`);

    started = Date.now();
    const ops = await apiOperations({ ours, git, expected: trees.expected, expectedModes: trees.expectedModes, runs: cc.runs, changes: opts.changes, log });
    out.apiOperations = { samples: ops.samples, medians: mediansOfSides(ops.samples), details: ops.details, seconds: (Date.now() - started) / 1000 };

    const change = fileChanger([ours.tree, git.tree], trees.files);
    const dirs = { dataDir, gitDir: gitTool.gitDir() };
    out.oneFile = await oneFileGrowth({ api: ours.tool, git: gitTool, change, dirs, runs: cc.runs, log });

    // The cold CLI, on the same data directory while the server idles: a change of C files, then `checkpoint create`.
    const coldChange = change(opts.changes, "cold-cli");
    gitTool.commitPaths(coldChange.paths);
    const cold = cli.measured("checkpoint", "create", COMPONENT);
    out.cliCold = { sec: cold.sec, peakMb: cold.peakMb, filesRead: cold.value.filesRead };
    log(`cold CLI checkpoint after a ${opts.changes}-file change: ${cold.sec.toFixed(2)} s, peak RSS ${cold.peakMb?.toFixed(0) ?? "—"} MB`);

    log(`${cc.steps} checkpoints with ${FILES_PER_STEP} files changed before each ...`);
    const steps = await stepsGrowth({ api: ours.tool, git: gitTool, change, dirs, steps: cc.steps, filesPerStep: FILES_PER_STEP, log });
    out.stepIds = steps.ids;
    delete steps.ids;
    out.steps = steps;
    out.serverMemory = session.server.memory();
    out.changeSource = changeSource(session.server);
  } finally {
    await session.server.stop();
  }
  return out;
}

export async function changeCostScenario(opts, ctx, env) {
  const cc = opts.changeCost;
  const started = Date.now();
  ensureWebBuild();
  const dir = path.join(ctx.work, "change-cost");
  // Where the scenario's time goes (seconds per phase): what a longer run can be estimated from.
  const phases = {};
  let since = Date.now();
  const phaseDone = (name) => {
    phases[name] = (Date.now() - since) / 1000;
    since = Date.now();
  };
  const trees = await prepareTrees(opts, dir);
  log(`trees ready in ${elapsed(started)}`);
  phaseDone("trees");
  const dataDir = path.join(trees.ours.scratch, "data");
  const targets = changeCostTargets(opts);
  const onTree = await onTheTree(opts, ctx, trees, dataDir);
  phaseDone("onTheTree");

  const keep = Math.max(1, Math.round(cc.steps * KEEP_FRACTION));
  const retention = retentionSweep({ dataDir, allowedRoots: ctx.work, component: COMPONENT, stepIds: onTree.stepIds, keep, log });
  if (!opts.keep) removeTree(path.join(dir, "git"));
  phaseDone("retention");

  const history = await historyRows({ dir: path.join(dir, "history"), allowedRoots: ctx.work, checkpoints: cc.historyCheckpoints, via: cc.historyVia, queries: HISTORY_QUERIES, log });
  if (!opts.keep) removeTree(dir);
  phaseDone("history");
  log(
    `time: trees ${phases.trees.toFixed(0)} s, rows 1-3 ${phases.onTheTree.toFixed(0)} s (API rows ${onTree.apiOperations.seconds.toFixed(0)} s, ` +
      `${cc.steps} steps ${onTree.steps.seconds.toFixed(0)} s), retention + verify ${phases.retention.toFixed(0)} s, ` +
      `history ${phases.history.toFixed(0)} s (${cc.historyCheckpoints} checkpoints ${history.makeSeconds.toFixed(0)} s)`,
  );

  const steps = { ...onTree.steps, allowancePerCheckpoint: targets.stepAllowanceBytes, allowance: onTree.steps.changedBytes + targets.stepAllowanceBytes * onTree.steps.steps };
  const result = {
    files: opts.files,
    mb: opts.mb,
    tree: trees.made,
    runs: cc.runs,
    changes: opts.changes,
    watch: process.env.SAFETYNET_WATCH ?? null,
    changeSource: onTree.changeSource,
    firstCheckpoint: onTree.firstCheckpoint,
    apiOperations: onTree.apiOperations,
    oneFile: onTree.oneFile,
    steps,
    retention,
    history,
    memory: { server: onTree.serverMemory, cliFirst: onTree.cliFirst, cliCold: onTree.cliCold },
    seconds: (Date.now() - started) / 1000,
    phaseSeconds: phases,
  };
  const verdicts = changeCostVerdicts(result, targets);
  env.loadAvgAtEnd = os.loadavg();
  const load = (l) => l.map((x) => x.toFixed(1)).join("/");
  const header =
    `Safety Net bench --change-cost: ${opts.files} files / ${opts.mb} MB, ${opts.changes}-file change, median of ${cc.runs} runs, ${cc.steps} step checkpoints, ` +
    `${cc.historyCheckpoints} history checkpoints; SAFETYNET_WATCH ${result.watch ?? "default"}; node ${env.node}, ${env.git}, ${env.cpus} CPUs, ` +
    `load ${load(env.loadAvgAtStart)} -> ${load(env.loadAvgAtEnd)}; ${(result.seconds / 60).toFixed(1)} min\n` +
    `The server's change source: ${result.changeSource.startedWith}${result.changeSource.walksReported ? ` (then ${result.changeSource.walksReported} scan(s) walked the tree after all)` : ""}`;
  const text = [header, "", changeCostTables(result, verdicts)].join("\n");
  return { result: { ...result, targets: verdicts }, text, missed: verdicts.filter((v) => v.pass === false).length };
}
