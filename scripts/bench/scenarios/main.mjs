// The main scenario: every tool column runs the same five operations on its own fresh
// copy of one generated tree, R times, and every rollback and restore is checked.
import fs from "node:fs";
import path from "node:path";
import { sleep } from "../processes.mjs";
import { assertSameTree, fingerprint, flushDirtyPages, foldersWithoutFiles, freshCopy, makeTree, mutateTree, removeTree, SETTLE_MS, statBaseline } from "../tree.mjs";

export const OPERATIONS = [
  ["first", "first checkpoint"],
  ["recheck", "unchanged re-checkpoint"],
  ["changed", "checkpoint after 50-file change"],
  ["rollback", "rollback of the 50-file change"],
  ["restore", "full restore into empty dir"],
];

/** What a tool reports about an operation besides its time (peak RSS, the server's memory). */
const MEMORY_FIELDS = ["peakMb", "serverRssMb", "serverPeakMb"];

/** The five operations on one fresh copy of the tree, each rollback and restore verified. */
async function runCycle(tool, paths, expected, { changes, skipRestore }) {
  const results = {};
  await tool.setup(paths);
  const known = statBaseline(paths.tree, expected);
  try {
    flushDirtyPages();
    const first = await tool.checkpoint();
    results.first = first;
    flushDirtyPages();
    results.recheck = await tool.checkpoint();
    // Safety Net reports how many files it had to read: an unchanged tree should need none (stat cache).
    if (results.recheck.filesRead > 0) process.stderr.write(`\nbench: WARNING ${tool.label} re-read ${results.recheck.filesRead} files of an unchanged tree (stat cache missed)\n`);
    mutateTree(paths.tree, changes);
    flushDirtyPages();
    results.changed = await tool.checkpoint();
    flushDirtyPages();
    results.rollback = await tool.rollback(first.id);
    const withoutEmptyDirs = tool.keepsEmptyDirs === false;
    if (withoutEmptyDirs && !tool.warnedEmptyDirs) {
      tool.warnedEmptyDirs = true;
      const n = foldersWithoutFiles(expected).length;
      if (n > 0) process.stderr.write(`\nbench: note: ${tool.label} cannot keep folders without files (${n} here); its checks leave them out\n`);
    }
    assertSameTree(paths.tree, expected, `${tool.label}: the tree after the rollback`, { withoutEmptyDirs, known });
    if (tool.restore && !skipRestore) {
      const target = path.join(paths.scratch, "restored");
      fs.mkdirSync(target);
      flushDirtyPages();
      results.restore = await tool.restore(first.id, target);
      assertSameTree(target, expected, `${tool.label}: the full restore`, { withoutNoise: tool.skipsIgnored, withoutEmptyDirs });
    }
  } finally {
    await tool.teardown();
  }
  return results;
}

/**
 * The warm column of a scale run, on the CLI column's tree and data directory once its
 * cycle is done (the tree is back as generated): a server starts there, takes one
 * checkpoint untimed (its first walk; the first checkpoint of a tree is the cold
 * column's row), then the measured unchanged re-checkpoint, checkpoint after the same
 * change and rollback, verified. Saves a copy and a first checkpoint of the whole tree.
 */
async function runWarmOnCliTree(tool, paths, expected, { changes }) {
  const results = {};
  await tool.setup({ ...paths, existing: true });
  const known = statBaseline(paths.tree, expected);
  try {
    const baseline = await tool.checkpoint();
    flushDirtyPages();
    results.recheck = await tool.checkpoint();
    mutateTree(paths.tree, changes);
    flushDirtyPages();
    results.changed = await tool.checkpoint();
    flushDirtyPages();
    results.rollback = await tool.rollback(baseline.id);
    assertSameTree(paths.tree, expected, `${tool.label}: the tree after the rollback`, { known });
  } finally {
    await tool.teardown();
  }
  return results;
}

const elapsed = (since) => `${((Date.now() - since) / 1000).toFixed(0)} s`;

export async function mainScenario(opts, ctx, tools) {
  const started = Date.now();
  const pristine = path.join(ctx.work, "pristine");
  process.stderr.write(`bench: generating ${opts.files} files / ${opts.mb} MB ...\n`);
  const made = makeTree(pristine, ["--files", String(opts.files), "--mb", String(opts.mb)]);
  const expected = fingerprint(pristine);
  // Where the time outside the measurements goes (it matters for a 250,000-file tree).
  process.stderr.write(`bench: tree generated and fingerprinted in ${elapsed(started)}\n`);
  const emptySeries = () => Object.fromEntries(OPERATIONS.map(([op]) => [op, []]));
  const samples = Object.fromEntries(tools.map((tool) => [tool.name, emptySeries()]));
  const memory = Object.fromEntries(tools.map((tool) => [tool.name, emptySeries()]));
  const record = (tool, results) => {
    for (const [op, result] of Object.entries(results)) {
      samples[tool.name][op].push(result.sec);
      const mem = Object.fromEntries(MEMORY_FIELDS.filter((f) => result[f] != null).map((f) => [f, result[f]]));
      if (Object.keys(mem).length > 0) memory[tool.name][op].push(mem);
    }
  };
  const report = (results, since) =>
    process.stderr.write(` ${Object.entries(results).map(([op, res]) => `${op} ${res.sec.toFixed(3)}s`).join(", ")} (cycle with checks ${elapsed(since)})\n`);
  // A scale run measures the warm column on the CLI column's tree (see runWarmOnCliTree).
  const cli = tools.find((t) => t.name === "cli");
  const warmOnCli = opts.huge && cli ? tools.find((t) => t.name === "warm") : undefined;
  const ownCopies = tools.filter((t) => t !== warmOnCli);

  for (let r = 0; r < opts.runs; r++) {
    // Rotate the order each run, so no tool always runs first (or right after the copies).
    const order = ownCopies.map((_, i) => ownCopies[(i + r) % ownCopies.length]);
    const runDir = path.join(ctx.work, `run-${r}`);
    // All copies first, then one wait: every tree is old enough for the stat cache before any checkpoint.
    // The last copy of the last run is the pristine tree itself, moved.
    const paths = new Map();
    const copying = Date.now();
    for (const [i, tool] of order.entries()) {
      const scratch = path.join(runDir, tool.name);
      const tree = path.join(scratch, "tree");
      freshCopy(pristine, tree, { move: r === opts.runs - 1 && i === order.length - 1 });
      paths.set(tool.name, { tree, scratch });
    }
    process.stderr.write(`bench: ${order.length} fresh copies in ${elapsed(copying)}\n`);
    await sleep(SETTLE_MS);
    for (const tool of order) {
      const cycleStarted = Date.now();
      process.stderr.write(`bench: run ${r + 1}/${opts.runs} ${tool.label} ...`);
      const results = await runCycle(tool, paths.get(tool.name), expected, opts);
      record(tool, results);
      report(results, cycleStarted);
      if (tool === cli && warmOnCli) {
        const warmStarted = Date.now();
        process.stderr.write(`bench: run ${r + 1}/${opts.runs} ${warmOnCli.label} (on the CLI's tree and data) ...`);
        const warm = await runWarmOnCliTree(warmOnCli, paths.get(tool.name), expected, opts);
        record(warmOnCli, warm);
        report(warm, warmStarted);
      }
      // The tool's copy is done with: free the disk now (a 2 GB tree per column adds up).
      if (!opts.keep) removeTree(paths.get(tool.name).scratch);
    }
    if (!opts.keep) removeTree(runDir);
  }
  if (!opts.keep) removeTree(pristine);
  return { tree: made, samples, memory };
}
