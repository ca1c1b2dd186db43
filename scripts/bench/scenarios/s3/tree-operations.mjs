// Rows 1 and 2 of --s3, one run: on a local side and a bucket side, each a fresh data directory
// (and a fresh prefix of the bucket) with a fresh copy of the same tree, through the API:
//   first     the first checkpoint of the tree (everything uploaded, for the bucket)
//   changed   a checkpoint after a C-file change (mutate-tree.mjs, one seed per run)
//   rollback  the rollback of that change to the first checkpoint (plan + execute, safety checkpoint included)
//   again     the same change made again, rolled back again: the cache is warm
//   cold      the same change made a third time (bucket only), the cache emptied, rolled back:
//             everything the rollback reads comes from the bucket
// Every rollback is checked: the tree (every path's kind, content, executable bit) and every mode.
import { sleep } from "../../processes.mjs";
import { assertSameModes, assertSameTree, mutateTree, SETTLE_MS } from "../../tree.mjs";
import { measureOn } from "./measure.mjs";

export const TREE_OPERATIONS = [
  ["first", "first checkpoint"],
  ["changed", "checkpoint after a C-file change"],
  ["rollback", "rollback of that change (plan + execute, safety checkpoint included)"],
  ["again", "the same change again, rolled back with a warm cache"],
  ["cold", "the same change again, rolled back with the cache emptied first"],
];

/** Seeds of mutate-tree.mjs, one per run (as the change-cost scenario does). */
const SEED_BASE = 1000;

function check(side, expected, expectedModes, what) {
  assertSameTree(side.tree, expected, `${what} (${side.name})`, { known: side.known });
  assertSameModes(side.tree, expectedModes, `${what}: modes (${side.name})`);
}

/**
 * `sides`: started sides (side.mjs), local first. Returns {op: {side: measurement}}, and for the
 * cold rollback what the cache held after it (what it downloaded, plus what its safety checkpoint stored).
 */
export async function treeRun({ run, sides, s3, expected, expectedModes, changes, log }) {
  // Alternate who goes first, so neither always pays for the other's write-back.
  const order = run % 2 === 0 ? sides : [...sides].reverse();
  const seed = SEED_BASE + run;
  const out = Object.fromEntries(TREE_OPERATIONS.map(([op]) => [op, {}]));
  const firstId = {};
  const each = async (op, operation, only = order) => {
    for (const side of only) out[op][side.name] = await measureOn(side, s3, () => operation(side));
  };

  await each("first", (side) => side.tool.checkpoint());
  for (const side of order) firstId[side.name] = out.first[side.name].id;
  for (const side of order) mutateTree(side.tree, changes, { seed });
  await each("changed", (side) => side.tool.checkpoint());
  await each("rollback", (side) => side.tool.rollback(firstId[side.name]));
  for (const side of order) check(side, expected, expectedModes, `run ${run + 1}: the tree after the rollback`);
  // Files the rollbacks wrote are too new for the stat cache: let them age before the next change.
  await sleep(SETTLE_MS);

  for (const side of order) mutateTree(side.tree, changes, { seed });
  await each("again", (side) => side.tool.rollback(firstId[side.name]));
  for (const side of order) check(side, expected, expectedModes, `run ${run + 1}: the tree after the rollback with a warm cache`);
  await sleep(SETTLE_MS);

  const bucket = sides.find((side) => side.name === "bucket");
  mutateTree(bucket.tree, changes, { seed });
  const before = bucket.cachedBytes();
  bucket.emptyCache();
  await each("cold", (side) => side.tool.rollback(firstId[side.name]), [bucket]);
  check(bucket, expected, expectedModes, `run ${run + 1}: the tree after the rollback with an emptied cache`);
  const after = bucket.cachedBytes();
  out.cold.bucket.cacheBefore = { files: before.files, bytes: before.bytes };
  out.cold.bucket.cacheAfter = { files: after.files, bytes: after.bytes };

  const fmt = (op) => order.map((side) => (out[op][side.name] ? `${side.name} ${out[op][side.name].ms.toFixed(0)}` : null)).filter(Boolean).join(" / ");
  log(`run ${run + 1}: ${TREE_OPERATIONS.map(([op]) => `${op} ${fmt(op)} ms`).join("; ")}; every rollback checked; the emptied cache held ${after.files} objects (${(after.bytes / 1024 / 1024).toFixed(1)} MB) after the cold rollback`);
  return out;
}
