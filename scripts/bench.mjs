#!/usr/bin/env node
// `npm run bench`: Safety Net side by side with what agent tools use today.
//
// For each tool, on the same generated tree (scripts/generators/make-tree.mjs), the
// median of R runs of: (1) first checkpoint, (2) unchanged re-checkpoint, (3)
// checkpoint after a 50-file change (scripts/generators/mutate-tree.mjs), (4) rollback of that change,
// (5) full restore into an empty directory. Tools: the `safetynet` CLI (whole
// process, start-up included), the engine in-process (a bundled driver timing the
// engine calls only), a shadow git repository the way agent tools keep one, `cp -a`,
// and restic when it is installed. Every rollback and restore is checked against
// the tree's content before the change: a benchmark of a broken rollback is worthless.
// Then a separate scenario measures the CLI's peak RSS on a tree holding one 1 GB file.
// With --db-pg, another one (not run by default): a PostgreSQL table of --db-mb MB
// (default 1024) checkpointed with `checkpoint create --db`, changed by a destructive
// migration, and rolled back, each CLI process timed with its peak RSS, the table
// checked against its checksum afterwards (server: --pg-url, default
// postgresql://postgres@127.0.0.1:5432/postgres; a database is made and dropped).
//
// Usage: node scripts/bench.mjs [--files N] [--mb M] [--runs R] [--changes C]
//                               [--skip-big] [--big-mb M] [--tools cli,engine,git,cp,restic] [--keep]
//        node scripts/bench.mjs --console [--console-checkpoints N] [--console-days D] [--runs R]
//                               [--db-pg [--db-mb M] [--pg-url URL] [--skip-main]]
// Prints a markdown table (paste it into the README) and writes .bench/results.json.
// --console measures the operator's console instead (scripts/bench-console.mjs): the
// first screen of a component with 10,000 checkpoints, and writes .bench/console.json.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const GENERATORS = path.join(repoRoot, "scripts", "generators");
const MAKE_TREE = path.join(GENERATORS, "make-tree.mjs");
const MUTATE_TREE = path.join(GENERATORS, "mutate-tree.mjs");
const CLI = path.join(repoRoot, "bin", "safetynet.mjs");
const DRIVER_SOURCE = path.join(repoRoot, "scripts", "bench-engine-driver.ts");
// dist/ is git- and lint-ignored, and from there the bundle finds prisma/migrations and node_modules.
const DRIVER_BUNDLE = path.join(repoRoot, "dist", "bench", "engine-driver.mjs");
const RESULTS_FILE = path.join(repoRoot, ".bench", "results.json");
const GNU_TIME = "/usr/bin/time";

// What make-tree.mjs writes as noise: ignored by Safety Net (defaults + .gitignore files) and by git,
// copied by cp -a and restic. A restore by the former is complete without these: the top-level
// entries below, and what src/codegen/.gitignore hides (*.generated.ts, out/).
const IGNORED_NOISE = new Set([".git", "node_modules", "dist", "debug.log"]);
const NESTED_IGNORED = /^src\/codegen\/(?:[^/]+\/)*(?:[^/]+\.generated\.ts$|out(?:\/|$))/;
// Safety Net's stat cache (like git's racy-clean rule) does not trust a file changed less than 2 s
// before it was hashed, judged by max(mtime, ctime). utimes can backdate mtime but sets ctime to now,
// so after preparing the trees we also wait this long before the first checkpoint.
const SETTLE_MS = 2500;
const BACKDATE_S = 10;

// ---------------------------------------------------------------- options

function parseOptions() {
  const { values } = parseArgs({
    options: {
      files: { type: "string", default: "10000" },
      mb: { type: "string", default: "100" },
      runs: { type: "string", default: "5" },
      changes: { type: "string", default: "50" },
      "skip-big": { type: "boolean", default: false },
      "big-mb": { type: "string", default: "1024" },
      tools: { type: "string", default: "cli,engine,git,cp,restic" },
      keep: { type: "boolean", default: false },
      console: { type: "boolean", default: false },
      "console-checkpoints": { type: "string", default: "10000" },
      "console-days": { type: "string", default: "200" },
      "db-pg": { type: "boolean", default: false },
      "db-mb": { type: "string", default: "1024" },
      "pg-url": { type: "string", default: process.env.SAFETYNET_BENCH_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres" },
      "skip-main": { type: "boolean", default: false },
    },
  });
  const num = (name) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} expects a positive number, got ${values[name]}`);
    return n;
  };
  return {
    files: num("files"),
    mb: num("mb"),
    runs: Math.round(num("runs")),
    changes: Math.round(num("changes")),
    skipBig: values["skip-big"],
    bigMb: num("big-mb"),
    tools: values.tools.split(",").map((t) => t.trim()).filter(Boolean),
    keep: values.keep,
    console: values.console ? { checkpoints: Math.round(num("console-checkpoints")), days: Math.round(num("console-days")) } : null,
    dbPg: values["db-pg"],
    dbMb: num("db-mb"),
    pgUrl: values["pg-url"],
    skipMain: values["skip-main"],
  };
}

// ---------------------------------------------------------------- processes

/** Runs a command to completion; throws with its output if it fails. */
function run(cmd, args, { cwd, env } = {}) {
  const r = spawnSync(cmd, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} exited with ${r.status ?? r.signal}\n${(r.stderr || "").slice(-3000)}\n${(r.stdout || "").slice(-2000)}`);
  }
  return r.stdout;
}

/** Wall-clock seconds of `work` (synchronous process runs: start-up included). */
function wall(work) {
  const t0 = performance.now();
  const value = work();
  return { sec: (performance.now() - t0) / 1000, value };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function toolVersion(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim().split("\n")[0] : null;
}

// ---------------------------------------------------------------- trees

function makeTree(dir, args) {
  return JSON.parse(run(process.execPath, [MAKE_TREE, dir, ...args]));
}

function mutateTree(dir, changes) {
  const summary = JSON.parse(run(process.execPath, [MUTATE_TREE, dir, "--changes", String(changes)]));
  if (summary.modified + summary.deleted + summary.added !== changes) throw new Error(`mutate-tree did ${JSON.stringify(summary)}, expected ${changes} changes`);
  return summary;
}

function walk(dir, visit, rel = "") {
  for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const childRel = rel ? `${rel}/${entry.name}` : entry.name;
    visit(childRel, entry);
    if (entry.isDirectory()) walk(dir, visit, childRel);
  }
}

/** Sets every mtime BACKDATE_S seconds into the past, the same way for every tool's copy. */
function backdate(dir) {
  const when = new Date(Date.now() - BACKDATE_S * 1000);
  walk(dir, (rel) => fs.lutimesSync(path.join(dir, rel), when, when));
  fs.utimesSync(dir, when, when);
}

/** A fresh copy of the pristine tree (new inodes, so no tool benefits from an earlier run). */
function freshCopy(pristine, dest) {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  run("cp", ["-a", pristine, dest]);
  backdate(dest);
}

/**
 * What a correct rollback or restore must reproduce: path -> kind plus, for
 * files, the content hash and the executable bit (the only mode bit git keeps).
 */
function fingerprint(dir) {
  const out = new Map();
  walk(dir, (rel, entry) => {
    const abs = path.join(dir, rel);
    if (entry.isDirectory()) out.set(rel, "dir");
    else if (entry.isSymbolicLink()) out.set(rel, `link ${fs.readlinkSync(abs)}`);
    else {
      const exec = fs.statSync(abs).mode & 0o111 ? "x" : "-";
      out.set(rel, `file ${exec} ${createHash("sha256").update(fs.readFileSync(abs)).digest("hex")}`);
    }
  });
  return out;
}

const isNoise = (rel) => IGNORED_NOISE.has(rel.split("/")[0]) || NESTED_IGNORED.test(rel);

/** The folders of `tree` with no file or symlink anywhere below (git cannot keep them). */
function foldersWithoutFiles(tree) {
  const holding = new Set();
  for (const [rel, value] of tree) {
    if (value === "dir") continue;
    for (let i = rel.indexOf("/"); i >= 0; i = rel.indexOf("/", i + 1)) holding.add(rel.slice(0, i));
  }
  return [...tree].filter(([rel, value]) => value === "dir" && !holding.has(rel)).map(([rel]) => rel);
}

/**
 * Aborts the bench loudly when `dir` does not hold exactly `expected` (minus the ignored noise
 * when `withoutNoise`, minus the folders holding no file when `withoutEmptyDirs`).
 */
function assertSameTree(dir, expected, what, { withoutNoise = false, withoutEmptyDirs = false } = {}) {
  const actual = fingerprint(dir);
  const want = withoutNoise ? new Map([...expected].filter(([rel]) => !isNoise(rel))) : new Map(expected);
  if (withoutEmptyDirs) for (const rel of foldersWithoutFiles(want)) want.delete(rel);
  const problems = [];
  for (const [rel, value] of want) if (actual.get(rel) !== value) problems.push(`${actual.has(rel) ? "differs" : "missing"}: ${rel}`);
  for (const rel of actual.keys()) if (!want.has(rel)) problems.push(`unexpected: ${rel}`);
  if (problems.length > 0) {
    throw new Error(`BENCH ABORTED: ${what} is wrong (${problems.length} problems): a benchmark of a broken rollback is worthless.\n  ${problems.slice(0, 15).join("\n  ")}`);
  }
}

// ---------------------------------------------------------------- the in-process engine driver

async function bundleDriver() {
  const { build } = await import("esbuild");
  // Same shape as scripts/build-cli.mjs: native or worker-based packages stay in node_modules.
  await build({
    entryPoints: [DRIVER_SOURCE],
    outfile: DRIVER_BUNDLE,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    external: ["better-sqlite3", "pino", "prom-client"],
    banner: { js: "import { createRequire as __snCreateRequire } from 'node:module'; const require = __snCreateRequire(import.meta.url);" },
    logLevel: "warning",
    legalComments: "none",
  });
}

/** A long-lived engine process: one JSON request per line in, one answer per line out. */
class EngineDriver {
  constructor(env) {
    this.child = spawn(process.execPath, [DRIVER_BUNDLE], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "inherit"] });
    this.waiting = [];
    createInterface({ input: this.child.stdout }).on("line", (line) => this.waiting.shift()?.resolve(JSON.parse(line)));
    this.child.on("exit", (code) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`engine driver exited with ${code}`));
    });
  }

  async request(message) {
    const answer = await new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(JSON.stringify(message) + "\n");
    });
    if (!answer.ok) throw new Error(`engine ${message.op} failed: ${answer.error}`);
    return answer;
  }

  async close() {
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    await this.request({ op: "close" });
    this.child.stdin.end();
    await exited;
  }
}

// ---------------------------------------------------------------- tools
// Each tool: setup (untimed), checkpoint -> {sec, id}, rollback(id) -> {sec}, restore(id, emptyDir) -> {sec},
// teardown. `skipsIgnored`: a restore holds the tracked files only (not node_modules/, dist/, ...).
// `keepsEmptyDirs: false`: the tool cannot store a folder with no file below (git), so the checks
// leave those folders out (and say so once).

function safetynetCli(ctx) {
  const env = { SAFETYNET_ALLOWED_ROOTS: ctx.work };
  let dataDir;
  const cli = (...args) => JSON.parse(run(process.execPath, [CLI, "--data-dir", dataDir, "--json", ...args], { env }));
  return {
    name: "cli",
    label: "safetynet CLI",
    skipsIgnored: true,
    setup({ tree, scratch }) {
      dataDir = path.join(scratch, "data");
      cli("component", "add", "bench", "--root", tree);
    },
    checkpoint() {
      const { sec, value } = wall(() => cli("checkpoint", "create", "bench"));
      return { sec, id: value.id, filesRead: value.filesRead };
    },
    rollback(id) {
      const { sec, value } = wall(() => cli("rollback", id, "--yes"));
      if (value.outcome !== "succeeded") throw new Error(`CLI rollback outcome ${value.outcome}`);
      return { sec };
    },
    restore(id, target) {
      return { sec: wall(() => cli("checkpoint", "restore", id, "--to", target)).sec };
    },
    teardown() {},
  };
}

function safetynetEngine(ctx) {
  let driver;
  return {
    name: "engine",
    label: "engine in-process",
    skipsIgnored: true,
    async setup({ tree, scratch }) {
      driver = new EngineDriver({ SAFETYNET_ALLOWED_ROOTS: ctx.work });
      await driver.request({ op: "open", dataDir: path.join(scratch, "data"), cwd: scratch });
      await driver.request({ op: "add", name: "bench", root: tree });
    },
    async checkpoint() {
      const answer = await driver.request({ op: "checkpoint", component: "bench" });
      return { sec: answer.ms / 1000, id: answer.id, filesRead: answer.filesRead };
    },
    async rollback(id) {
      return { sec: (await driver.request({ op: "rollback", id })).ms / 1000 };
    },
    async restore(id, target) {
      return { sec: (await driver.request({ op: "restore", id, to: target })).ms / 1000 };
    },
    async teardown() {
      await driver.close();
    },
  };
}

/** A shadow repository beside the tree (GIT_DIR elsewhere, GIT_WORK_TREE = the tree), as agent tools keep one. */
function shadowGit() {
  let env;
  let tree;
  let scratch;
  const git = (args, extraEnv = {}, cwd = tree) => run("git", args, { cwd, env: { ...env, ...extraEnv } });
  return {
    name: "git",
    label: "git (shadow repo)",
    skipsIgnored: true,
    keepsEmptyDirs: false,
    setup(paths) {
      ({ tree, scratch } = paths);
      // HOME and NOSYSTEM keep the user's own git configuration out of the measurement.
      env = { GIT_DIR: path.join(scratch, "shadow.git"), GIT_WORK_TREE: tree, HOME: scratch, GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0" };
      git(["init", "-q"]);
      for (const [key, value] of [
        ["user.name", "bench"],
        ["user.email", "bench@example.invalid"],
        ["core.autocrlf", "false"],
        ["commit.gpgSign", "false"],
        // A background auto-gc after the first 10k-object commit would run during the next measurements.
        ["gc.auto", "0"],
      ]) git(["config", key, value]);
    },
    checkpoint() {
      const { sec } = wall(() => {
        git(["add", "-A"]);
        git(["commit", "-q", "-m", "x", "--allow-empty"]);
      });
      // The id is read outside the timing: agent tools get it from commit's output.
      return { sec, id: git(["rev-parse", "HEAD"]).trim() };
    },
    rollback(commit) {
      return {
        sec: wall(() => {
          git(["reset", "-q", "--hard", commit]);
          git(["clean", "-fdq"]);
        }).sec,
      };
    },
    restore(commit, target) {
      // A throwaway index, so the shadow repo's own index (the live tree's) is not rewritten.
      const index = path.join(scratch, "restore.index");
      const { sec } = wall(() => git(["checkout", commit, "--", "."], { GIT_WORK_TREE: target, GIT_INDEX_FILE: index }, target));
      fs.rmSync(index, { force: true });
      return { sec };
    },
    teardown() {},
  };
}

/** The naive reference: a full copy per checkpoint; a rollback replaces the tree with a copy. */
function cpA() {
  let tree;
  let scratch;
  let count = 0;
  return {
    name: "cp",
    label: "cp -a",
    skipsIgnored: false,
    setup(paths) {
      ({ tree, scratch } = paths);
    },
    checkpoint() {
      const snapshot = path.join(scratch, `snapshot-${++count}`);
      return { sec: wall(() => run("cp", ["-a", tree, snapshot])).sec, id: snapshot };
    },
    rollback(snapshot) {
      return {
        sec: wall(() => {
          fs.rmSync(tree, { recursive: true, force: true });
          run("cp", ["-a", snapshot, tree]);
        }).sec,
      };
    },
    restore(snapshot, target) {
      return { sec: wall(() => run("cp", ["-a", `${snapshot}/.`, target])).sec };
    },
    teardown() {},
  };
}

/** restic 0.14: backups of "." from inside the tree, so snapshots restore without the absolute path. */
function restic() {
  let tree;
  let env;
  const restic = (args, cwd = tree) => run("restic", args, { cwd, env });
  return {
    name: "restic",
    label: "restic",
    skipsIgnored: false,
    setup(paths) {
      tree = paths.tree;
      env = { RESTIC_REPOSITORY: path.join(paths.scratch, "restic-repo"), RESTIC_PASSWORD: "bench", RESTIC_CACHE_DIR: path.join(paths.scratch, "restic-cache") };
      restic(["init", "-q"], paths.scratch);
    },
    checkpoint() {
      const { sec, value } = wall(() => restic(["backup", "--json", "."]));
      const summary = value.trim().split("\n").map((l) => JSON.parse(l)).find((m) => m.message_type === "summary");
      return { sec, id: summary.snapshot_id };
    },
    rollback(snapshot) {
      // restic has no in-place rollback: clear the tree and restore the snapshot into it.
      const parent = path.dirname(tree);
      return {
        sec: wall(() => {
          fs.rmSync(tree, { recursive: true, force: true });
          restic(["restore", "-q", snapshot, "--target", tree], parent);
        }).sec,
      };
    },
    restore(snapshot, target) {
      return { sec: wall(() => restic(["restore", "-q", snapshot, "--target", target], path.dirname(target))).sec };
    },
    teardown() {},
  };
}

// ---------------------------------------------------------------- one cycle

const OPERATIONS = [
  ["first", "first checkpoint"],
  ["recheck", "unchanged re-checkpoint"],
  ["changed", "checkpoint after 50-file change"],
  ["rollback", "rollback of the 50-file change"],
  ["restore", "full restore into empty dir"],
];

/**
 * Flushes dirty pages (untimed) before each measured operation: otherwise the
 * write-back of one tool's copies or loose objects lands in the next operation
 * that calls fsync (Safety Net's store does, git and cp do not), whoever it is.
 */
function flushDirtyPages() {
  run("sync", []);
}

/** The five operations on one fresh copy of the tree, each rollback and restore verified. */
async function runCycle(tool, paths, expected, changes) {
  await tool.setup(paths);
  const t = {};
  flushDirtyPages();
  const first = await tool.checkpoint();
  t.first = first.sec;
  flushDirtyPages();
  const recheck = await tool.checkpoint();
  t.recheck = recheck.sec;
  // Safety Net reports how many files it had to read: an unchanged tree should need none (stat cache).
  if (recheck.filesRead > 0) process.stderr.write(`\nbench: WARNING ${tool.label} re-read ${recheck.filesRead} files of an unchanged tree (stat cache missed)\n`);
  mutateTree(paths.tree, changes);
  flushDirtyPages();
  t.changed = (await tool.checkpoint()).sec;
  flushDirtyPages();
  t.rollback = (await tool.rollback(first.id)).sec;
  const withoutEmptyDirs = tool.keepsEmptyDirs === false;
  if (withoutEmptyDirs && !tool.warnedEmptyDirs) {
    tool.warnedEmptyDirs = true;
    const n = foldersWithoutFiles(expected).length;
    if (n > 0) process.stderr.write(`\nbench: note: ${tool.label} cannot keep folders without files (${n} here); its checks leave them out\n`);
  }
  assertSameTree(paths.tree, expected, `${tool.label}: the tree after the rollback`, { withoutEmptyDirs });
  const target = path.join(paths.scratch, "restored");
  fs.mkdirSync(target);
  flushDirtyPages();
  t.restore = (await tool.restore(first.id, target)).sec;
  assertSameTree(target, expected, `${tool.label}: the full restore`, { withoutNoise: tool.skipsIgnored, withoutEmptyDirs });
  await tool.teardown();
  return t;
}

// ---------------------------------------------------------------- the main scenario

async function mainScenario(opts, ctx, tools) {
  const pristine = path.join(ctx.work, "pristine");
  process.stderr.write(`bench: generating ${opts.files} files / ${opts.mb} MB ...\n`);
  const made = makeTree(pristine, ["--files", String(opts.files), "--mb", String(opts.mb)]);
  const expected = fingerprint(pristine);
  const samples = Object.fromEntries(tools.map((tool) => [tool.name, Object.fromEntries(OPERATIONS.map(([op]) => [op, []]))]));

  for (let r = 0; r < opts.runs; r++) {
    // Rotate the order each run, so no tool always runs first (or right after the copies).
    const order = tools.map((_, i) => tools[(i + r) % tools.length]);
    const runDir = path.join(ctx.work, `run-${r}`);
    // All copies first, then one wait: every tree is old enough for the stat cache before any checkpoint.
    const paths = new Map();
    for (const tool of order) {
      const scratch = path.join(runDir, tool.name);
      const tree = path.join(scratch, "tree");
      freshCopy(pristine, tree);
      paths.set(tool.name, { tree, scratch });
    }
    await sleep(SETTLE_MS);
    for (const tool of order) {
      process.stderr.write(`bench: run ${r + 1}/${opts.runs} ${tool.label} ...`);
      const t = await runCycle(tool, paths.get(tool.name), expected, opts.changes);
      for (const [op] of OPERATIONS) samples[tool.name][op].push(t[op]);
      process.stderr.write(` ${OPERATIONS.map(([op]) => `${op} ${t[op].toFixed(3)}s`).join(", ")}\n`);
    }
    if (!opts.keep) fs.rmSync(runDir, { recursive: true, force: true });
  }
  return { tree: made, samples };
}

// ---------------------------------------------------------------- peak RSS on a 1 GB file

function gnuTimeWorks() {
  const r = spawnSync(GNU_TIME, ["-f", "%M", "true"], { encoding: "utf8" });
  return r.status === 0 && /^\d+\s*$/.test(r.stderr.trim().split("\n").pop() ?? "");
}

/** Runs a CLI command under GNU time; returns wall seconds and peak RSS in MB. */
function cliUnderTime(args, env) {
  const out = path.join(os.tmpdir(), `safetynet-bench-rss-${process.pid}`);
  const { sec } = wall(() => run(GNU_TIME, ["-f", "%M", "-o", out, process.execPath, CLI, ...args], { env }));
  const kb = Number(fs.readFileSync(out, "utf8").trim().split("\n").pop());
  fs.rmSync(out, { force: true });
  return { sec, peakMb: kb / 1024 };
}

async function bigFileScenario(opts, ctx) {
  const dir = path.join(ctx.work, "big");
  const tree = path.join(dir, "tree");
  process.stderr.write(`bench: generating a tree with one ${opts.bigMb} MB file ...\n`);
  makeTree(tree, ["--files", "100", "--mb", "1", "--big-mb", String(opts.bigMb)]);
  const dataDir = path.join(dir, "data");
  const target = path.join(dir, "restored");
  const env = { SAFETYNET_ALLOWED_ROOTS: ctx.work };
  const results = {};
  if (gnuTimeWorks()) {
    const base = ["--data-dir", dataDir, "--json"];
    run(process.execPath, [CLI, ...base, "component", "add", "big", "--root", tree], { env });
    results.method = "GNU time %M of the whole CLI process";
    results.checkpoint = cliUnderTime([...base, "checkpoint", "create", "big"], env);
    const id = JSON.parse(run(process.execPath, [CLI, ...base, "checkpoint", "list", "big"], { env })).items[0].id;
    results.restore = cliUnderTime([...base, "checkpoint", "restore", id, "--to", target], env);
  } else {
    // No GNU time: the in-process driver reports its own peak (process.resourceUsage().maxRSS).
    results.method = "process.resourceUsage().maxRSS of the in-process engine driver";
    const driver = new EngineDriver(env);
    await driver.request({ op: "open", dataDir, cwd: dir });
    await driver.request({ op: "add", name: "big", root: tree });
    const created = await driver.request({ op: "checkpoint", component: "big" });
    results.checkpoint = { sec: created.ms / 1000, peakMb: (await driver.request({ op: "rss" })).maxRssKb / 1024 };
    const restored = await driver.request({ op: "restore", id: created.id, to: target });
    results.restore = { sec: restored.ms / 1000, peakMb: (await driver.request({ op: "rss" })).maxRssKb / 1024 };
    await driver.close();
  }
  const want = createHash("sha256").update(fs.readFileSync(path.join(tree, "assets", "model.bin"))).digest("hex");
  const got = createHash("sha256").update(fs.readFileSync(path.join(target, "assets", "model.bin"))).digest("hex");
  if (want !== got) throw new Error("BENCH ABORTED: the restored 1 GB file differs from the original");
  if (!opts.keep) fs.rmSync(dir, { recursive: true, force: true });
  return results;
}

// ---------------------------------------------------------------- a PostgreSQL table with --db

const PSQL = "psql";

function psql(url, sql) {
  return run(PSQL, ["--no-psqlrc", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]).trim();
}

function withDatabase(url, name) {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** What the table holds: row count, columns and a checksum of every row. */
function tableChecksum(url) {
  return psql(url, "SELECT count(*) || ':' || (SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'big'::regclass AND attnum > 0 AND NOT attisdropped) || ':' || md5(string_agg(md5(t::text), '' ORDER BY id)) FROM big t");
}

async function postgresScenario(opts, ctx) {
  if (!gnuTimeWorks()) throw new Error("--db-pg measures peak RSS with GNU time (/usr/bin/time): install it (apt-get install time)");
  const name = `sn_bench_${process.pid}`;
  const admin = opts.pgUrl;
  const url = withDatabase(admin, name);
  psql(admin, `DROP DATABASE IF EXISTS ${name}`);
  psql(admin, `CREATE DATABASE ${name}`);
  const dir = path.join(ctx.work, "db-pg");
  const root = path.join(dir, "app");
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(root, "migration.sql"), "-- the agent's migration\n");
  try {
    process.stderr.write(`bench: filling a ${opts.dbMb} MB PostgreSQL table ...\n`);
    psql(url, "CREATE TABLE big (id bigint PRIMARY KEY, payload text NOT NULL)");
    // About 1 KiB of hex per row: random enough that the dump does not shrink to nothing.
    const rowsPerBatch = 100_000;
    for (let next = 1; ; next += rowsPerBatch) {
      const bytes = Number(psql(url, "SELECT pg_total_relation_size('big')"));
      if (bytes >= opts.dbMb * 1024 * 1024) break;
      psql(url, `INSERT INTO big SELECT g, (SELECT string_agg(md5(g::text || ':' || k || random()::text), '') FROM generate_series(1, 32) k) FROM generate_series(${next}, ${next + rowsPerBatch - 1}) g`);
    }
    psql(url, "VACUUM ANALYZE big");
    const tableBytes = Number(psql(url, "SELECT pg_total_relation_size('big')"));
    const before = tableChecksum(url);
    const dataDir = path.join(dir, "data");
    const env = { SAFETYNET_ALLOWED_ROOTS: ctx.work, SAFETYNET_DATABASE_URL: "sqlite", BENCH_DATABASE_URL: url };
    const base = ["--data-dir", dataDir, "--json"];
    run(process.execPath, [CLI, ...base, "component", "add", "app", "--root", root, "--db", "postgres:BENCH_DATABASE_URL?tables=big"], { env });
    const checkpoint = cliUnderTime([...base, "checkpoint", "create", "app", "--db"], env);
    const created = JSON.parse(run(process.execPath, [CLI, ...base, "checkpoint", "list", "app"], { env })).items[0];
    const detail = JSON.parse(run(process.execPath, [CLI, ...base, "checkpoint", "show", created.id], { env }));
    // The agent's bad migration: half the rows gone, a column added.
    psql(url, "DELETE FROM big WHERE id % 2 = 0; ALTER TABLE big ADD COLUMN migrated boolean DEFAULT true");
    const rollback = cliUnderTime([...base, "rollback", created.id, "--yes"], env);
    const after = tableChecksum(url);
    if (after !== before) throw new Error(`BENCH ABORTED: the restored table differs from the checkpointed one (${before} vs ${after})`);
    return { tableBytes, dumpBytes: detail.databases[0]?.size ?? 0, format: detail.databases[0]?.format, checkpoint, rollback, rows: Number(before.split(":")[0]) };
  } finally {
    psql(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    if (!opts.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

function postgresTable(result) {
  const mb = (bytes) => (bytes / 1024 / 1024).toFixed(0);
  const row = (title, r) => `| ${title} | ${r.peakMb.toFixed(0)} | ${r.sec.toFixed(2)} | < ${RSS_TARGET_MB} MB: ${r.peakMb < RSS_TARGET_MB ? "PASS" : "MISS"} |`;
  return [
    `| CLI, PostgreSQL table of ${mb(result.tableBytes)} MB (${result.rows} rows; ${result.format} snapshot ${mb(result.dumpBytes)} MB) | peak RSS (MB) | wall (s) | target |`,
    "| --- | --- | --- | --- |",
    row("checkpoint create --db", result.checkpoint),
    row("rollback --yes (safety snapshot of the migrated table, then restore)", result.rollback),
  ].join("\n");
}

// ---------------------------------------------------------------- report

function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** min and max per tool and operation: with a busy machine the spread says how far to trust a median. */
function rangesOf(samples) {
  const range = (values) => ({ min: Math.min(...values), max: Math.max(...values) });
  return Object.fromEntries(Object.entries(samples).map(([tool, ops]) => [tool, Object.fromEntries(Object.entries(ops).map(([op, v]) => [op, range(v)]))]));
}

const ratio = (a, b) => (a == null || b == null || b === 0 ? null : a / b);

// The issue's targets: [operation, numerator tool, denominator tool, limit].
const TARGETS = [
  ["first", "cli", "git", 0.5],
  ["recheck", "engine", "git", 0.5],
  ["recheck", "cli", "git", 2.0],
  ["rollback", "engine", "git", 0.25],
  ["rollback", "cli", "git", 1.0],
  ["restore", "cli", "cp", 1.5],
];
const RSS_TARGET_MB = 300;

function evaluate(medians) {
  return TARGETS.map(([op, num, den, limit]) => {
    const value = ratio(medians[num]?.[op], medians[den]?.[op]);
    return { op, num, den, limit, ratio: value, pass: value == null ? null : value <= limit };
  });
}

const fmtSec = (s) => (s == null ? "—" : s.toFixed(3));
const fmtRatio = (x) => (x == null ? "—" : `${x.toFixed(2)}×`);
const toolTitle = { cli: "CLI", engine: "engine", git: "git", cp: "cp -a", restic: "restic" };

function markdownTable(tools, medians, targets, changes) {
  const head = ["operation (median s)", ...tools.map((t) => t.label), "engine/git", "cli/git", "restore cli/cp -a", "target"];
  const rows = OPERATIONS.map(([op, label]) => {
    const title = label.replace("50-file", `${changes}-file`);
    const verdicts = targets
      .filter((t) => t.op === op)
      .map((t) => `${toolTitle[t.num]} ≤ ${t.limit}× ${toolTitle[t.den]}: ${t.pass == null ? "n/a" : t.pass ? "PASS" : "MISS"} (${fmtRatio(t.ratio)})`);
    return [
      title,
      ...tools.map((t) => fmtSec(medians[t.name][op])),
      fmtRatio(ratio(medians.engine?.[op], medians.git?.[op])),
      fmtRatio(ratio(medians.cli?.[op], medians.git?.[op])),
      op === "restore" ? fmtRatio(ratio(medians.cli?.restore, medians.cp?.restore)) : "",
      verdicts.join("; ") || "—",
    ];
  });
  return [head, head.map(() => "---"), ...rows].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

function rssTable(big, bigMb) {
  const row = (title, r) => `| ${title} | ${r.peakMb.toFixed(0)} | ${r.sec.toFixed(2)} | < ${RSS_TARGET_MB} MB: ${r.peakMb < RSS_TARGET_MB ? "PASS" : "MISS"} |`;
  return [
    `| CLI, tree with one ${bigMb} MB file | peak RSS (MB) | wall (s) | target |`,
    "| --- | --- | --- | --- |",
    row("checkpoint create", big.checkpoint),
    row("full restore into empty dir", big.restore),
  ].join("\n");
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseOptions();
  if (opts.console) {
    const { consoleScenario, consoleTable } = await import("./bench-console.mjs");
    const results = await consoleScenario({ ...opts.console, runs: opts.runs });
    process.stdout.write(consoleTable(results) + "\n");
    process.stderr.write(`bench --console: results written to ${path.relative(process.cwd(), path.join(repoRoot, ".bench", "console.json"))}\n`);
    return;
  }
  for (const script of [MAKE_TREE, MUTATE_TREE]) if (!fs.existsSync(script)) throw new Error(`missing ${script}`);
  const env = {
    node: process.version,
    git: toolVersion("git", ["--version"]),
    restic: toolVersion("restic", ["version"]),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    platform: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
    // Other work on the machine skews every column; the load average says how much there was.
    loadAvgAtStart: os.loadavg(),
  };
  if (!env.git) throw new Error("git is required for the comparison");

  process.stderr.write("bench: building the CLI and the in-process driver ...\n");
  run(process.execPath, [path.join(repoRoot, "scripts", "build-cli.mjs")], { cwd: repoRoot });
  await bundleDriver();

  const work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-bench-")));
  const ctx = { work };
  const factories = { cli: safetynetCli, engine: safetynetEngine, git: shadowGit, cp: cpA, restic };
  const tools = opts.tools
    .filter((name) => {
      if (!factories[name]) throw new Error(`unknown tool ${name} (cli, engine, git, cp, restic)`);
      if (name === "restic" && !env.restic) {
        process.stderr.write("bench: restic is not on PATH; skipping it\n");
        return false;
      }
      return true;
    })
    .map((name) => factories[name](ctx));

  try {
    if (opts.skipMain) {
      if (!opts.dbPg) throw new Error("--skip-main runs nothing without --db-pg");
      const postgres = await postgresScenario(opts, ctx);
      process.stdout.write(postgresTable(postgres) + "\n\npeak RSS measured with GNU time %M of the whole CLI process\n");
      fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
      fs.writeFileSync(RESULTS_FILE, JSON.stringify({ options: opts, environment: env, postgres }, null, 2) + "\n");
      return;
    }
    const scenario = await mainScenario(opts, ctx, tools);
    const big = opts.skipBig ? null : await bigFileScenario(opts, ctx);
    const postgres = opts.dbPg ? await postgresScenario(opts, ctx) : null;
    const medians = Object.fromEntries(tools.map((t) => [t.name, Object.fromEntries(OPERATIONS.map(([op]) => [op, median(scenario.samples[t.name][op])]))]));
    const targets = evaluate(medians);
    env.loadAvgAtEnd = os.loadavg();

    const load = (l) => l.map((x) => x.toFixed(1)).join("/");
    const header =
      `Safety Net bench: ${opts.files} files / ${opts.mb} MB, ${opts.changes}-file change, median of ${opts.runs} runs; ` +
      `node ${env.node}, ${env.git}${env.restic ? `, ${env.restic.split(" compiled")[0]}` : ""}, ${env.cpus} CPUs, load ${load(env.loadAvgAtStart)} -> ${load(env.loadAvgAtEnd)}`;
    const lines = [header, "", markdownTable(tools, medians, targets, opts.changes)];
    if (big) lines.push("", rssTable(big, opts.bigMb), "", `peak RSS measured with ${big.method}`);
    if (postgres) lines.push("", postgresTable(postgres));
    process.stdout.write(lines.join("\n") + "\n");

    fs.mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
    fs.writeFileSync(
      RESULTS_FILE,
      JSON.stringify({ options: opts, environment: env, tree: scenario.tree, operations: Object.fromEntries(OPERATIONS), tools: tools.map((t) => ({ name: t.name, label: t.label })), samples: scenario.samples, medians, ranges: rangesOf(scenario.samples), targets, bigFile: big, postgres }, null, 2) + "\n",
    );
    process.stderr.write(`bench: results written to ${path.relative(process.cwd(), RESULTS_FILE)}\n`);
    const missed = targets.filter((t) => t.pass === false).length;
    if (missed > 0) process.stderr.write(`bench: ${missed} target(s) missed\n`);
  } finally {
    if (opts.keep) process.stderr.write(`bench: kept ${work}\n`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`\n${error.stack ?? error}\n`);
  process.exit(1);
});
