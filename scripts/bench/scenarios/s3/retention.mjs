// Row group 4 of --s3: a retention sweep over the bucket against the same sweep of a local store.
// Both sides get the same S checkpoints through the API, each after the same F files changed
// (retentionDays 0); the servers are stopped; then the change-cost scenario's sweep (a keep-last
// policy keeping the newest tenth, `retention run` with grace 0, timed as a whole CLI process,
// then `verify --all`, which must pass) runs on each data directory. For the bucket, the keys
// under its objects/ are counted before and after with an S3 client: the sweep must have
// deleted from the bucket what it says it deleted.
import { retentionSweep } from "../change-cost/retention.mjs";
import { progressLine } from "../change-cost/progress.mjs";
import { fileChanger } from "../change-cost/storage.mjs";
import { median } from "../../stats.mjs";
import { COMPONENT } from "./side.mjs";

/** Checkpoints `steps` times on every side, after the same `filesPerStep` files changed in each tree. */
export async function stepCheckpoints({ sides, files, steps, filesPerStep, log }) {
  const change = fileChanger(sides.map((side) => side.tree), files);
  const ids = Object.fromEntries(sides.map((side) => [side.name, []]));
  const ms = Object.fromEntries(sides.map((side) => [side.name, []]));
  const tick = progressLine(steps, "step checkpoints", log);
  for (let s = 0; s < steps; s++) {
    change(filesPerStep, `s3-step-${s}`);
    for (const side of sides) {
      const created = await side.tool.checkpoint({ retentionDays: 0 });
      ids[side.name].push(created.id);
      ms[side.name].push(created.ms);
    }
    tick(s);
  }
  return { ids, medianMs: Object.fromEntries(sides.map((side) => [side.name, median(ms[side.name])])), samples: ms };
}

/** The sweep on every (stopped) side; `prefix`: the bucket side's prefix in s3rver. */
export async function sweepSides({ sides, ids, keep, allowedRoots, s3, prefix, log }) {
  const out = {};
  for (const side of sides) {
    const inBucket = side.name === "bucket" ? () => s3.countKeys(prefix, "objects/") : async () => null;
    const before = await inBucket();
    const sweep = retentionSweep({ dataDir: side.dataDir, allowedRoots, component: COMPONENT, stepIds: ids[side.name], keep, log: (m) => log(`${side.name}: ${m}`), env: side.env });
    const after = await inBucket();
    if (before && before.keys - after.keys < sweep.objectsDeleted) {
      throw new Error(`BENCH ABORTED: retention run reports ${sweep.objectsDeleted} objects deleted, but the bucket holds only ${before.keys - after.keys} keys fewer under objects/ (${before.keys} -> ${after.keys})`);
    }
    out[side.name] = { ...sweep, bucketKeys: before ? { before: before.keys, after: after.keys, bytesBefore: before.bytes, bytesAfter: after.bytes } : null };
  }
  return out;
}
