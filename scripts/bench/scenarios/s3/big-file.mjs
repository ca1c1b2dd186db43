// Row group 3 of --s3: a tree holding one --s3-big-mb file (1 GB by default) of make-tree.mjs's
// seeded random bytes (they do not compress: every byte goes up and comes down), checkpointed
// through the API on a local side and a bucket side; then the file replaced by the agent, the
// bucket side's cache emptied, and the checkpoint rolled back (the bucket side downloads it all).
// The server's peak RSS during each (VmHWM, reset before each operation) must stay under the
// streaming target: objects stream to and from the bucket, memory must not grow with a file.
import fs from "node:fs";
import path from "node:path";
import { sleep } from "../../processes.mjs";
import { assertSameTree, BACKDATE_S, fingerprint, makeTree, SETTLE_MS } from "../../tree.mjs";
import { measureOn } from "./measure.mjs";
import { prepareSide, SIDES } from "./side.mjs";

export const BIG_FILE = path.join("assets", "model.bin");

export async function bigFileRows({ dir, bigMb, s3, allowedRoots, log }) {
  const pristine = path.join(dir, "pristine");
  log(`generating a tree with one ${bigMb} MB file ...`);
  makeTree(pristine, ["--files", "100", "--mb", "1", "--big-mb", String(bigMb)]);
  const expected = fingerprint(pristine);
  const when = new Date(Date.now() - BACKDATE_S * 1000);
  const sides = SIDES.map((name) => prepareSide({ name, dir: path.join(dir, name), pristine, expected, s3, prefix: "big-file", when }));
  fs.rmSync(pristine, { recursive: true, force: true });
  const out = {};
  try {
    for (const side of sides) await side.start(allowedRoots);
    await sleep(SETTLE_MS);
    for (const side of sides) {
      const idle = side.memory();
      const checkpoint = await measureOn(side, s3, () => side.tool.checkpoint());
      // The agent replaces the file; the rollback must bring all of it back.
      fs.writeFileSync(path.join(side.tree, BIG_FILE), "replaced by the agent\n");
      if (side.name === "bucket") side.emptyCache();
      const rollback = await measureOn(side, s3, () => side.tool.rollback(checkpoint.id));
      assertSameTree(side.tree, expected, `the tree with one ${bigMb} MB file after the rollback (${side.name})`, { known: side.known });
      out[side.name] = { idle, checkpoint, rollback };
      log(`${side.name}: checkpoint ${(checkpoint.ms / 1000).toFixed(1)} s (server peak ${checkpoint.serverPeakMb.toFixed(0)} MB), rollback ${(rollback.ms / 1000).toFixed(1)} s (server peak ${rollback.serverPeakMb.toFixed(0)} MB); checked`);
      await side.stop();
    }
  } finally {
    for (const side of sides) await side.stop();
  }
  return out;
}
