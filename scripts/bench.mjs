#!/usr/bin/env node
// `npm run bench`: Safety Net side by side with what agent tools use today.
//
// Main scenario: for each tool column, on its own fresh copy of one generated tree
// (scripts/generators/make-tree.mjs), the median of R runs of: (1) first checkpoint,
// (2) unchanged re-checkpoint, (3) checkpoint after a C-file change
// (scripts/generators/mutate-tree.mjs), (4) rollback of that change, (5) full restore
// into an empty directory. Every rollback and restore is checked against the tree's
// content before the change: a benchmark of a broken rollback is worthless.
// Columns (--tools, in this order):
//   cli     the `safetynet` CLI with no server (SAFETYNET_NO_SERVER=1): whole process, start-up included
//   warm    the same commands while `safetynet serve` runs on the data directory: the CLI hands
//           them over <data>/server.sock (checked in the server's log for every command; the bench
//           aborts if one ran cold). No restore: `checkpoint restore` is not handed over.
//   engine  the engine in-process (scripts/bench-engine-driver.ts): engine calls only
//   git     a shadow git repository the way agent tools keep one
//   cp      `cp -a` copies;  restic  restic, when installed (else a one-line note)
// Plus a start-up row (`safetynet component list` cold and warm vs `node -e ''`), the peak
// RSS of every Safety Net operation (GNU time %M of the CLI process, when /usr/bin/time is
// GNU time; VmRSS/VmHWM of the server behind the warm CLI), the issue's targets as ratios
// with ✓/✗, and a tree with one --big-mb file for the CLI's peak RSS (--skip-big skips it).
//
// Usage:
//   node scripts/bench.mjs [--files N] [--mb M] [--runs R] [--changes C] [--tools cli,warm,engine,git,cp,restic]
//                          [--startup-runs N] [--skip-big] [--big-mb M] [--skip-restore] [--keep]
//   node scripts/bench.mjs --quick       10,000 files / 100 MB, 3 runs, no big file (the README table)
//   node scripts/bench.mjs --files 250000 --mb 2000 --skip-big
//                          a tree of 100,000 files or more is a scale run: 1 run, the columns cli,warm,git
//                          and no full restore (--skip-restore) unless --runs / --tools say otherwise; the
//                          warm column runs on the CLI column's tree and data directory after it (no copy,
//                          no first checkpoint of its own), and checks read only the files written since
//                          the copy was made
//   node scripts/bench.mjs --load [--load-seconds S] [--agents A] [--load-files F] [--load-changes C]
//                          A agents (default 50), each on its own component of F files (200), loop for
//                          S seconds (60): checkpoint.create -> change C files (20) -> rollback.plan +
//                          rollback.execute, over the tRPC HTTP API of `npm start` (scripts/start.mjs,
//                          built first when stale); then checkpoint.verify of every checkpoint.
//                          Prints throughput, p50/p95/p99 per operation, the server's RSS, failures;
//                          exits non-zero when any request failed. Writes .bench/load.json.
//   node scripts/bench.mjs --change-cost [--files N] [--mb M] [--runs R] [--changes C] [--change-cost-steps S]
//                          [--change-cost-history H] [--change-cost-history-via api|engine]
//                          checkpoints that cost what changed (scripts/bench/scenarios/change-cost.mjs), instead
//                          of the main scenario: through the tRPC HTTP API of `npm start` (SAFETYNET_WATCH at its
//                          default) against a shadow git repository on a copy of the same tree with the same
//                          changes: unchanged checkpoint, checkpoint after a C-file change and its rollback (medians
//                          of R, default 5 whatever the tree's size); bytes added by a 1-file checkpoint; growth over
//                          S (1,000) checkpoints of 5 changed files; file.history over H (10,000) checkpoints vs git
//                          log; a retention sweep of 90% of the S checkpoints, then verify --all; server and cold CLI
//                          memory. Targets per the tree's size (100,000 files or more: the scale ones). Writes
//                          .bench/results.json ({changeCost}).
//   node scripts/bench.mjs --hooks [--files N] [--mb M] [--hook-runs H]
//                          only the agent-hook rows (scripts/bench/scenarios/hooks.mjs): the p95 and median wall
//                          time of H (50) runs of the command `hooks install claude-code` writes (and as many of
//                          the Node CLI's `safetynet hook claude-code`) fed a recorded PreToolUse event, each
//                          after a 1-file change, with `safetynet serve` running on the data directory
//                          (target p95 ≤ 150 ms at 10,000 files). Also part of the default run (not at scale,
//                          and only with the warm column)
//   node scripts/bench.mjs --s3 [--files N] [--mb M] [--runs R] [--changes C] [--s3-big-mb M] [--s3-steps S] [--skip-big]
//                          the local store against an S3-compatible bucket (scripts/bench/scenarios/s3.mjs), instead
//                          of the main scenario: s3rver (a local emulator, started by the bench on 127.0.0.1, so the
//                          bucket rows are our overhead, not a network's latency) behind `npm start`, every call one
//                          tRPC request: first checkpoint, checkpoint after a C-file change, its rollback, local vs
//                          bucket (medians of R, default 3, fresh data directories each); the same rollback with a
//                          warm cache vs the cache emptied first; a tree with one M MB file (1024; --skip-big skips
//                          it): checkpoint and rollback from an emptied cache, the server's peak RSS < 300 MB; S (200)
//                          checkpoints of 5 changed files, then `retention run` (grace 0) expiring 90% of them and
//                          `verify --all`, local vs bucket. Every rollback checked. Writes .bench/s3.json.
//   node scripts/bench.mjs --console [--console-checkpoints N] [--console-days D] [--runs R]
//                          the operator's console instead (scripts/bench-console.mjs), .bench/console.json
//   node scripts/bench.mjs --db-pg [--db-mb M] [--pg-url URL] [--skip-main]
//                          also a PostgreSQL table checkpointed with --db and rolled back
// Prints markdown tables (paste them into the README) and writes .bench/results.json.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseOptions } from "./bench/options.mjs";
import { BUILD_CLI, MAKE_TREE, MUTATE_TREE, REPO_ROOT } from "./bench/paths.mjs";
import { gnuTimeWorks, run, toolVersion } from "./bench/processes.mjs";
import { bigFileTable, memoryTable, mediansOf, postgresTable, timesTable, writeResults } from "./bench/report.mjs";
import { bigFileScenario } from "./bench/scenarios/big-file.mjs";
import { changeCostScenario } from "./bench/scenarios/change-cost.mjs";
import { runConsoleScenario } from "./bench/scenarios/console.mjs";
import { hooksScenario } from "./bench/scenarios/hooks.mjs";
import { loadScenario } from "./bench/scenarios/load.mjs";
import { mainScenario, OPERATIONS } from "./bench/scenarios/main.mjs";
import { postgresScenario } from "./bench/scenarios/postgres.mjs";
import { s3Scenario } from "./bench/scenarios/s3.mjs";
import { startupScenario } from "./bench/scenarios/startup.mjs";
import { ensureWebBuild } from "./bench/server.mjs";
import { mapSeries, range } from "./bench/stats.mjs";
import { evaluate, targetsFor } from "./bench/targets.mjs";
import { TOOL_FACTORIES, TOOL_NAMES } from "./bench/tools/index.mjs";
import { bundleDriver } from "./bench/tools/engine.mjs";

function environment() {
  return {
    node: process.version,
    git: toolVersion("git", ["--version"]),
    restic: toolVersion("restic", ["version"]),
    gnuTime: gnuTimeWorks(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    platform: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
    // Other work on the machine skews every column; the load average says how much there was.
    loadAvgAtStart: os.loadavg(),
  };
}

/** The selected tool columns; restic is left out with a note when it is not installed. */
function selectTools(opts, env, ctx) {
  return opts.tools
    .filter((name) => {
      if (!TOOL_FACTORIES[name]) throw new Error(`unknown tool ${name} (${TOOL_NAMES.join(", ")})`);
      if (name === "restic" && !env.restic) {
        process.stderr.write("bench: note: restic is not installed (apt-get install -y restic); its column is left out\n");
        return false;
      }
      return true;
    })
    .map((name) => TOOL_FACTORIES[name](ctx));
}

function header(opts, env) {
  const load = (l) => l.map((x) => x.toFixed(1)).join("/");
  return (
    `Safety Net bench: ${opts.files} files / ${opts.mb} MB, ${opts.changes}-file change, median of ${opts.runs} run${opts.runs === 1 ? "" : "s"}; ` +
    `node ${env.node}, ${env.git}${env.restic ? `, ${env.restic.split(" compiled")[0]}` : ""}, ${env.cpus} CPUs, load ${load(env.loadAvgAtStart)} -> ${load(env.loadAvgAtEnd)}`
  );
}

async function benchTrees(opts, env, ctx) {
  const tools = selectTools(opts, env, ctx);
  const names = new Set(tools.map((t) => t.name));
  if (names.has("warm")) ensureWebBuild();
  if (names.has("engine")) await bundleDriver();
  if (opts.skipMain) {
    if (!opts.dbPg) throw new Error("--skip-main runs nothing without --db-pg");
    const postgres = await postgresScenario(opts, ctx);
    process.stdout.write(postgresTable(postgres) + "\n\npeak RSS measured with GNU time %M of the whole CLI process\n");
    writeResults({ options: opts, environment: env, postgres });
    return 0;
  }
  const startup = names.has("cli") ? await startupScenario(opts, ctx, { warm: names.has("warm") }) : null;
  const scenario = await mainScenario(opts, ctx, tools);
  const big = opts.skipBig ? null : await bigFileScenario(opts, ctx);
  const postgres = opts.dbPg ? await postgresScenario(opts, ctx) : null;
  const hooks = names.has("warm") && !opts.huge ? await hooksScenario(opts, ctx) : null;
  const medians = mediansOf(scenario.samples, startup);
  const verdicts = evaluate(targetsFor(opts), medians);
  env.loadAvgAtEnd = os.loadavg();

  const lines = [header(opts, env), "", timesTable({ tools, medians, verdicts, changes: opts.changes, startupRuns: opts.startupRuns })];
  if (names.has("cli") || names.has("warm")) {
    lines.push("", memoryTable({ memory: scenario.memory, startup, changes: opts.changes }));
    lines.push("", env.gnuTime ? "CLI peak RSS: GNU time %M of the whole CLI process; server: VmRSS / VmHWM of the scripts/next-server.mjs process." : "CLI peak RSS: not measured (/usr/bin/time is not GNU time).");
  }
  if (names.has("warm")) lines.push("The warm column's full restore is not measured: `checkpoint restore` is not handed over to the server (it would be the cold CLI again).");
  if (big) lines.push("", bigFileTable(big, opts.bigMb), "", `peak RSS measured with ${big.method}`);
  if (postgres) lines.push("", postgresTable(postgres));
  if (hooks) lines.push("", hooks.text);
  process.stdout.write(lines.join("\n") + "\n");

  writeResults({
    options: opts,
    environment: env,
    tree: scenario.tree,
    operations: Object.fromEntries(OPERATIONS),
    tools: tools.map((t) => ({ name: t.name, label: t.label })),
    samples: scenario.samples,
    medians,
    ranges: mapSeries(scenario.samples, range),
    memory: scenario.memory,
    startup,
    targets: verdicts,
    bigFile: big,
    postgres,
    hooks: hooks?.result ?? null,
  });
  const missed = verdicts.filter((t) => t.pass === false).length + (hooks?.result.pass === false ? 1 : 0);
  if (missed > 0) process.stderr.write(`bench: ${missed} target(s) missed\n`);
  return 0;
}

async function benchChangeCost(opts, env, ctx) {
  const { result, text, missed } = await changeCostScenario(opts, ctx, env);
  process.stdout.write(text + "\n");
  writeResults({ options: opts, environment: env, changeCost: result });
  if (missed > 0) process.stderr.write(`bench: ${missed} target(s) missed\n`);
  return 0;
}

async function benchHooks(opts, env, ctx) {
  ensureWebBuild();
  const { result, text } = await hooksScenario(opts, ctx);
  env.loadAvgAtEnd = os.loadavg();
  const load = (l) => l.map((x) => x.toFixed(1)).join("/");
  process.stdout.write(`Safety Net bench --hooks: ${opts.files} files / ${opts.mb} MB; node ${env.node}, ${env.cpus} CPUs, load ${load(env.loadAvgAtStart)} -> ${load(env.loadAvgAtEnd)}\n\n${text}\n`);
  writeResults({ options: opts, environment: env, hooks: result });
  if (!result.pass) process.stderr.write("bench: 1 target(s) missed\n");
  return 0;
}

async function benchS3(opts, env, ctx) {
  const { text, missed } = await s3Scenario(opts, ctx, env);
  process.stdout.write(text + "\n");
  if (missed > 0) process.stderr.write(`bench: ${missed} target(s) missed\n`);
  return 0;
}

async function main() {
  const opts = parseOptions();
  if (opts.console) return runConsoleScenario(opts);
  for (const script of [MAKE_TREE, MUTATE_TREE]) if (!fs.existsSync(script)) throw new Error(`missing ${script}`);
  const env = environment();
  if (!env.git && !opts.load) throw new Error("git is required for the comparison");
  process.stderr.write("bench: building the CLI ...\n");
  run(process.execPath, [BUILD_CLI], { cwd: REPO_ROOT });

  const work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-bench-")));
  const ctx = { work };
  const t0 = Date.now();
  try {
    if (opts.load) process.exitCode = await loadScenario(opts, env, ctx);
    else if (opts.changeCost) process.exitCode = await benchChangeCost(opts, env, ctx);
    else if (opts.hooks) process.exitCode = await benchHooks(opts, env, ctx);
    else if (opts.s3) process.exitCode = await benchS3(opts, env, ctx);
    else process.exitCode = await benchTrees(opts, env, ctx);
  } finally {
    process.stderr.write(`bench: done in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    if (opts.keep) process.stderr.write(`bench: kept ${work}\n`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`\n${error.stack ?? error}\n`);
  process.exit(1);
});
