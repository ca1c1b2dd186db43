// Row group 1: checkpoints and rollbacks through the API, against a shadow git repository
// on its own copy of the same tree, with the same changes (mutate-tree.mjs, one seed per
// run). Each run: an unchanged checkpoint, a C-file change, a checkpoint of it, and the
// rollback of that change to the unchanged checkpoint (plan + execute, safety checkpoint
// included; git: reset --hard + clean -fd). Both trees are checked after every rollback
// (every path's kind and content, the executable bit; ours also every file's and folder's mode).
import { sleep } from "../../processes.mjs";
import { assertSameModes, assertSameTree, flushDirtyPages, mutateTree, SETTLE_MS } from "../../tree.mjs";

export const API_OPERATIONS = [
  ["unchanged", "unchanged checkpoint"],
  ["changed", "checkpoint after a 50-file change"],
  ["rollback", "rollback of that change (plan + execute)"],
];

/** Seeds of mutate-tree.mjs, one per run: each run changes other files (content new to both stores). */
const SEED_BASE = 1000;

/**
 * `ours` / `git`: {tool, tree, known} with `known` the stat baseline of the tree's fresh copy
 * (tree.mjs statBaseline); `expected` / `expectedModes`: the generated tree's fingerprint
 * and modes. Returns {samples: {api|git: {op: ms[]}}, details}.
 */
export async function apiOperations({ ours, git, expected, expectedModes, runs, changes, log }) {
  const samples = { api: {}, git: {} };
  for (const [op] of API_OPERATIONS) {
    samples.api[op] = [];
    samples.git[op] = [];
  }
  const details = { planMs: [], executeMs: [], filesReadUnchanged: [] };
  const sides = [
    { name: "api", side: ours },
    { name: "git", side: git },
  ];
  for (let r = 0; r < runs; r++) {
    // Alternate who goes first, so neither always pays for the other's write-back.
    const order = r % 2 === 0 ? sides : [...sides].reverse();
    // After a rollback the last checkpoint is its safety checkpoint (the changed tree): one
    // untimed checkpoint first, so that the timed one has nothing changed since the last.
    if (r > 0) for (const { side } of order) await side.tool.checkpoint();
    const before = new Map();
    for (const { name, side } of order) {
      flushDirtyPages();
      const result = await timed(side.tool.checkpoint());
      samples[name].unchanged.push(result.ms);
      before.set(name, result.id);
      if (name === "api") details.filesReadUnchanged.push(result.filesRead ?? null);
    }
    for (const { side } of order) mutateTree(side.tree, changes, { seed: SEED_BASE + r });
    for (const { name, side } of order) {
      flushDirtyPages();
      samples[name].changed.push((await timed(side.tool.checkpoint())).ms);
    }
    for (const { name, side } of order) {
      flushDirtyPages();
      const result = await timed(side.tool.rollback(before.get(name)));
      samples[name].rollback.push(result.ms);
      if (name === "api") {
        details.planMs.push(result.planMs);
        details.executeMs.push(result.executeMs);
      }
    }
    assertSameTree(ours.tree, expected, `run ${r + 1}: the tree after the rollback through the API`, { known: ours.known });
    assertSameModes(ours.tree, expectedModes, `run ${r + 1}: the modes after the rollback through the API`);
    assertSameTree(git.tree, expected, `run ${r + 1}: the tree after git reset --hard + clean -fd`, { known: git.known, withoutEmptyDirs: true });
    // An unchanged tree should need no file read again (stat cache); say so when it did.
    const reread = details.filesReadUnchanged[r] ? `; the unchanged checkpoint read ${details.filesReadUnchanged[r]} files again` : "";
    log(`run ${r + 1}/${runs}: ${API_OPERATIONS.map(([op]) => `${op} ${samples.api[op][r].toFixed(0)} ms (git ${samples.git[op][r].toFixed(0)} ms)`).join(", ")}; both rollbacks checked${reread}`);
    // Files the rollbacks wrote are too new for either stat cache: let them age before the next run's checkpoints.
    await sleep(SETTLE_MS);
  }
  return { samples, details };
}

/** Tools answer {ms} (the API) or {sec} (processes timed whole): milliseconds either way. */
async function timed(promise) {
  const result = await promise;
  return { ...result, ms: result.ms ?? result.sec * 1000 };
}
