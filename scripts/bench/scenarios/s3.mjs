// --s3: what keeping the objects in an S3-compatible bucket (SAFETYNET_OBJECT_STORE=s3://…)
// costs an agent, against the local store, side by side in one run. s3rver (the emulator the
// tests use) runs on 127.0.0.1, so the rows measure our overhead (staging, uploads, downloads
// and their verification, the emulator's own CPU on the same 2 cores), not a network's latency.
// Every call is one tRPC request over HTTP to `npm start` (SAFETYNET_WATCH at the product's
// default), as change-cost.mjs makes them; every rollback is checked against the tree.
//   1-2. on a generated tree (--files, --mb), R runs (--runs, default 3), each with fresh data
//        directories and a fresh prefix: first checkpoint, checkpoint after a C-file change,
//        its rollback; the same change rolled back with a warm cache, and with the cache
//        emptied first (s3/tree-operations.mjs);
//   3.   a tree with one --s3-big-mb file (1024): checkpoint, rollback from an emptied cache,
//        the server's peak RSS against the streaming target (s3/big-file.mjs; --skip-big skips it);
//   4.   --s3-steps (200) checkpoints of 5 changed files on the last run's data directories,
//        then a retention sweep expiring 90% of them, timed, then `verify --all` (s3/retention.mjs).
// Writes .bench/s3.json.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { S3_RESULTS_FILE } from "../paths.mjs";
import { sleep } from "../processes.mjs";
import { writeResults } from "../report.mjs";
import { ensureWebBuild } from "../server.mjs";
import { STREAMING_RSS_TARGET_MB } from "../targets.mjs";
import { BACKDATE_S, fingerprint, makeTree, modesOf, removeTree, SETTLE_MS, sourceFiles } from "../tree.mjs";
import { bigFileRows } from "./s3/big-file.mjs";
import { bigFileTable, retentionTable, summarizeRuns, treeRssPass, treeTable } from "./s3/report.mjs";
import { stepCheckpoints, sweepSides } from "./s3/retention.mjs";
import { startS3rver } from "./s3/s3rver.mjs";
import { prepareSide, SIDES } from "./s3/side.mjs";
import { treeRun } from "./s3/tree-operations.mjs";

const FILES_PER_STEP = 5;
/** Retention keeps this fraction of the step checkpoints. */
const KEEP_FRACTION = 0.1;
const S3RVER_VERSION = JSON.parse(fs.readFileSync(new URL("../../../node_modules/s3rver/package.json", import.meta.url), "utf8")).version;

const log = (message) => process.stderr.write(`bench --s3: ${message}\n`);
const load = (l) => l.map((x) => x.toFixed(1)).join("/");

/** Rows 1-2 on `opts.s3.runs` pairs of fresh sides; the last pair also makes the step checkpoints and is swept. */
async function treeRows(opts, ctx, dir, s3) {
  const { runs, steps } = opts.s3;
  const pristine = path.join(dir, "pristine");
  log(`generating ${opts.files} files / ${opts.mb} MB ...`);
  const made = makeTree(pristine, ["--files", String(opts.files), "--mb", String(opts.mb)]);
  const expected = fingerprint(pristine);
  const expectedModes = modesOf(pristine);
  const files = sourceFiles(pristine);
  const results = [];
  let retention = null;
  for (let run = 0; run < runs; run++) {
    const last = run === runs - 1;
    const prefix = `run-${run + 1}`;
    const runDir = path.join(dir, prefix);
    const when = new Date(Date.now() - BACKDATE_S * 1000);
    const sides = SIDES.map((name) => prepareSide({ name, dir: path.join(runDir, name), pristine, expected, s3, prefix, when }));
    try {
      for (const side of sides) await side.start(ctx.work);
      await sleep(SETTLE_MS);
      results.push(await treeRun({ run, sides, s3, expected, expectedModes, changes: opts.changes, log }));
      if (last) {
        log(`${steps} checkpoints of ${FILES_PER_STEP} changed files on each side ...`);
        retention = { steps: await stepCheckpoints({ sides, files, steps, filesPerStep: FILES_PER_STEP, log }) };
      }
    } finally {
      for (const side of sides) await side.stop();
    }
    if (last) {
      const keep = Math.max(1, Math.round(steps * KEEP_FRACTION));
      retention.sweep = await sweepSides({ sides, ids: retention.steps.ids, keep, allowedRoots: ctx.work, s3, prefix, log });
      delete retention.steps.ids;
    }
    if (!opts.keep) removeTree(runDir);
  }
  if (!opts.keep) removeTree(pristine);
  return { tree: made, runs: results, retention };
}

/** The server's RSS line on the tree, the streaming target of the big file (either side, either operation), and `verify --all` after each sweep. */
function missedTargets(summary, big, retention) {
  const peaks = big ? SIDES.flatMap((side) => [big[side].checkpoint.serverPeakMb, big[side].rollback.serverPeakMb]) : [];
  const sweeps = Object.values(retention.sweep);
  return (treeRssPass(summary) ? 0 : 1) + peaks.filter((mb) => !(mb < STREAMING_RSS_TARGET_MB)).length + sweeps.filter((s) => s.verify.exitCode !== 0).length;
}

export async function s3Scenario(opts, ctx, env) {
  ensureWebBuild();
  const started = Date.now();
  const dir = path.join(ctx.work, "s3");
  const s3 = await startS3rver(path.join(dir, "s3rver"));
  log(`s3rver ${S3RVER_VERSION} at ${s3.endpoint} (pid ${s3.pid})`);
  let onTree;
  let big = null;
  try {
    onTree = await treeRows(opts, ctx, dir, s3);
    if (!opts.skipBig) big = await bigFileRows({ dir: path.join(dir, "big"), bigMb: opts.s3.bigMb, s3, allowedRoots: ctx.work, log });
  } finally {
    await s3.stop();
  }
  env.loadAvgAtEnd = os.loadavg();
  const summary = summarizeRuns(onTree.runs);
  const { runs, steps } = opts.s3;
  const header =
    `Safety Net bench --s3: ${opts.files} files / ${opts.mb} MB, ${opts.changes}-file change, median of ${runs} run${runs === 1 ? "" : "s"}, ${steps} step checkpoints; ` +
    `node ${env.node}, ${env.cpus} CPUs, load ${load(env.loadAvgAtStart)} -> ${load(env.loadAvgAtEnd)}; ${((Date.now() - started) / 60000).toFixed(1)} min\n` +
    `The bucket is s3rver ${S3RVER_VERSION}, a local emulator on 127.0.0.1 sharing these ${env.cpus} cores: the bucket rows measure our overhead ` +
    `(staging, uploads, downloads and their verification) plus the emulator's own work, not a real network's latency.`;
  const text = [header, "", treeTable(summary, { runs, changes: opts.changes })];
  if (big) text.push("", bigFileTable(big, opts.s3.bigMb));
  text.push("", retentionTable(onTree.retention, { steps, filesPerStep: FILES_PER_STEP }));
  text.push("", "Server: VmHWM of scripts/next-server.mjs, reset before each operation (/proc/<pid>/clear_refs). CPU: /proc/<pid>/stat of the server and of s3rver over each operation.");
  const result = { files: opts.files, mb: opts.mb, changes: opts.changes, s3rver: S3RVER_VERSION, tree: onTree.tree, summary, runs: onTree.runs, bigFile: big, retention: onTree.retention, seconds: (Date.now() - started) / 1000 };
  writeResults({ options: opts, environment: env, s3: result }, S3_RESULTS_FILE);
  return { result, text: text.join("\n"), missed: missedTargets(summary, big, onTree.retention) };
}
