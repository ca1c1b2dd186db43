/**
 * The model-based test of the whole safety net: random sequences of what agents
 * and operators do (workspace edits, checkpoints whole and partial, diffs, plans
 * and their confirm tokens, rollbacks, undos, pins, retention with the clock
 * moved, verifies, and rollbacks SIGKILLed half-way followed by whatever comes
 * next), through the CLI as a process and the app router's caller, checked
 * against the reference model after every step. The invariants it checks are
 * listed in the README ("How storage works").
 *
 * A share of the sequences (SAFETYNET_MODEL_S3_SHARE percent, 25 by default)
 * keep their objects in a bucket prefix of their own on one s3rver started for
 * the run, with commands of their own: the cache emptied or trimmed, the
 * objects migrated to the data directory and back, the bucket out during an
 * operation.
 *
 * `npm test` runs a bounded number of sequences with a fixed seed;
 * `npm run test:model -- --runs N --seed S [--path P] [--shrink]` runs more, and
 * replays a failure from the seed and path it prints.
 */
import { unchangedCaptureStats } from "../../server/checkpoints/unchanged-capture";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach } from "../support/workspace";
import { startS3Server, type S3TestServer } from "../support/s3-server";
import { bindTree, checkedCommands, finalChecks, type Model } from "./commands";
import { System, type Counters, type WatcherMode } from "./system";
import { onS3Pass } from "../support/object-store-location";

cleanUpAfterEach();

const RUNS = Number(process.env.SAFETYNET_MODEL_RUNS ?? 5);
const SEED = Number(process.env.SAFETYNET_MODEL_SEED ?? 20261129);
const PATH = process.env.SAFETYNET_MODEL_PATH || undefined;
const MAX_COMMANDS = Number(process.env.SAFETYNET_MODEL_MAX_COMMANDS ?? 30);
const SHRINK = process.env.SAFETYNET_MODEL_SHRINK === "1";
/** Keep the folders of a failing sequence (workspace, data directory) to look at. */
const KEEP = process.env.SAFETYNET_MODEL_KEEP === "1";
/**
 * Percent of the sequences in the S3 mode. A sequence draws a number below 100 and
 * is in the mode when it is below the share: a replay needs the same share.
 */
const S3_SHARE = Number(process.env.SAFETYNET_MODEL_S3_SHARE ?? 25);

/**
 * Walking, with Watchman, or with a Watchman daemon restarted mid-sequence; then the
 * commands. Only the app router's calls (the server's side) learn from Watchman, so
 * sequences with it go through the API more.
 */
const sequences = fc
  .tuple(fc.constantFrom<WatcherMode>("off", "watchman", "restart"), fc.nat(99).map((draw) => draw < S3_SHARE))
  .chain(([watcher, inBucket]) =>
    fc.tuple(
      fc.constant(watcher),
      fc.constant(inBucket),
      fc.array(checkedCommands({ crashes: true, watcher: watcher !== "off", restarts: watcher === "restart", bucket: inBucket }), {
        minLength: Math.min(15, MAX_COMMANDS),
        maxLength: MAX_COMMANDS,
      }),
    ),
  );

describe("the safety net under random sequences of agent and operator actions", () => {
  // The model chooses per sequence where the objects live (its own S3 mode): the S3 pass's setting would override it.
  it.skipIf(onS3Pass())(`holds every invariant (${RUNS} sequences, seed ${SEED})`, { timeout: Math.max(600_000, RUNS * 120_000) }, async () => {
    assertCliBundleFresh();
    const counters: Counters = { sequences: 0, withBucket: 0, cacheEmptied: 0, tinyCacheRuns: 0, cacheTrims: 0, migrations: 0, outages: 0, withWatcher: 0, withRestarts: 0, daemonRestarts: 0, watcherFallbacks: 0, steps: 0, cliCalls: 0, crashes: 0, rollbacks: 0, pathRollbacks: 0, refusals: 0, obstaclesCleared: 0, unstableFiles: 0, hardLinkCheckpoints: 0, sparseCheckpoints: 0, brokenStoresReplaced: 0, flatRewrites: 0 };
    // One s3rver for the run; each sequence in the S3 mode has a prefix of its own in its bucket.
    let s3: S3TestServer | null = null;
    const credentials = S3_SHARE > 0 ? await startS3Server().then((server) => ((s3 = server), server.env)) : {};
    // The server's side (the app router's core, in this process) finds them where the SDK looks.
    const saved = Object.fromEntries(Object.keys(credentials).map((key) => [key, process.env[key]]));
    Object.assign(process.env, credentials);
    try {
      await fc.assert(
        fc.asyncProperty(sequences, async ([watcher, inBucket, commands]) => {
          counters.sequences++;
          if (watcher !== "off") counters.withWatcher++;
          if (watcher === "restart") counters.withRestarts++;
          if (inBucket) counters.withBucket++;
          const bucket = inBucket && s3 ? { server: s3 as S3TestServer, prefix: `model-${SEED}-${counters.sequences}` } : null;
          const system = await System.open(counters, { watcher, bucket });
          bindTree(() => system.tree(), () => system.memoryIsDatabase());
          const model: Model = { checkpoints: [], undo: null, plan: null, crashed: null, reconcilePending: false, bucket: bucket ? { inBucket: true, mutation: null, killed: false } : null };
          try {
            await fc.asyncModelRun(() => ({ model, real: system }), commands);
            await finalChecks(model, system);
          } catch (error) {
            // The steps that ran, in order (fast-check prints the whole generated list, not where it stopped).
            if (error instanceof Error) error.message += `\n\n${watcher === "off" ? "walking" : `Watchman ${watcher}`}${bucket ? `, objects in ${system.bucket?.url} (replay with --s3-share ${S3_SHARE})` : ""}; steps run:\n  ${system.log.join("\n  ")}`;
            if (KEEP && error instanceof Error) error.message += `\n\nkept for inspection: ${system.dirs.base}`;
            // (What closing finds wrong matters less than the failure being reported.)
            await system.close({ keep: KEEP }).catch(() => undefined);
            throw error;
          }
          await system.close();
        }),
        { numRuns: RUNS, seed: SEED, path: PATH, endOnFailure: !SHRINK },
      );
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      await (s3 as S3TestServer | null)?.stop();
      process.stdout.write(
        `[model] ${counters.sequences} sequences (${counters.withBucket} with their objects in a bucket: ${counters.cacheEmptied} caches emptied, ${counters.cacheTrims} of ${counters.tinyCacheRuns} CLI processes with a tiny cache bound removed objects it held before, ${counters.migrations} migrations, ${counters.outages} outages; ${counters.withWatcher} with Watchman, ${counters.withRestarts} of them with ${counters.daemonRestarts} daemon restarts, ${counters.watcherFallbacks} walks Watchman could not spare), ${counters.steps} steps, ${counters.cliCalls} CLI processes, ${counters.rollbacks} rollbacks (${counters.pathRollbacks} of some paths), ${counters.refusals} refused plans, ${counters.crashes} crashes injected, ${counters.obstaclesCleared} recoveries unblocked by the operator, ${counters.unstableFiles} files recorded as unstable under a writer, ${counters.hardLinkCheckpoints} checkpoints holding hard links, ${counters.sparseCheckpoints} holding sparse files, ${counters.brokenStoresReplaced} broken memory stores replaced by rollbacks, ${counters.flatRewrites} checkpoints rewritten as flat manifests, ${unchangedCaptureStats.reused} captures (checkpoints, diffs, plans, rollbacks) that reused the last tree, ${unchangedCaptureStats.patched} patched from it with the reported changes\n`,
      );
    }
    expect(counters.sequences).toBeGreaterThanOrEqual(RUNS);
  });
});
