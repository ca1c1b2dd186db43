// What an agent's hook adds to each tool call: `safetynet hook claude-code` as Claude Code
// runs it (a whole process, the configured command line, a recorded PreToolUse Bash event
// on stdin) on a generated tree of --files files, with `safetynet serve` running on the
// data directory (the warm path; the bench checks in the server's log that every hook
// went through the socket). Each of --hook-runs invocations follows a small change (one
// source file gets a line), so every hook takes a real checkpoint; the row is the p95 and
// median wall time of the hook process, against a bare `node -e ''` measured in the same
// minutes. Also a few hooks with no server (SAFETYNET_NO_SERVER=1), for reference.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { CLI } from "../paths.mjs";
import { run, sleep, wall } from "../processes.mjs";
import { assertServed, startServer } from "../server.mjs";
import { table } from "../report.mjs";
import { median, percentile } from "../stats.mjs";
import { cliOn } from "../tools/cli.mjs";
import { makeTree, SETTLE_MS, sourceFiles } from "../tree.mjs";

const COLD_RUNS = 5;
/** The target: what a hook may add to a tool call, at p95, with the server running (10,000 files). */
export const HOOK_P95_TARGET_SEC = 0.15;

const log = (message) => process.stderr.write(`bench --hooks: ${message}\n`);

function bashEvent(tree, i) {
  return JSON.stringify({
    session_id: "bench-session",
    transcript_path: path.join(tree, "..", "transcript.jsonl"),
    cwd: tree,
    permission_mode: "default",
    hook_event_name: "PreToolUse",
    tool_name: "Bash",
    tool_input: { command: `npm test -- --shard ${i}`, description: "Run the tests" },
  });
}

/** One hook process as the agent starts it; its wall time in seconds. Throws unless it answered as the protocol wants (exit 0, nothing printed). */
function timedHook(dataDir, allowedRoots, tree, event, env) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, "--data-dir", dataDir, "hook", "claude-code", "--allowed-roots", allowedRoots], { cwd: tree, env: { ...process.env, ...env }, input: event, encoding: "utf8" });
  const sec = (performance.now() - t0) / 1000;
  if (r.status !== 0 || r.stdout !== "" || r.stderr !== "") throw new Error(`BENCH ABORTED: the hook exited ${r.status ?? r.signal} with stdout ${JSON.stringify(r.stdout)} and stderr ${JSON.stringify(r.stderr)}`);
  return sec;
}

/** The component's checkpoints, newest first (pages of 500, the most `checkpoint list` gives at once). */
function checkpointsOf(cli) {
  const items = [];
  for (let cursor = null; ; ) {
    const page = cli.json("checkpoint", "list", "bench", "--limit", "500", ...(cursor ? ["--cursor", cursor] : []));
    items.push(...page.items);
    if (!page.nextCursor) return items;
    cursor = page.nextCursor;
  }
}

export async function hooksScenario(opts, ctx) {
  const dir = path.join(ctx.work, "hooks");
  const tree = path.join(dir, "tree");
  const dataDir = path.join(dir, "data");
  log(`generating ${opts.files} files / ${opts.mb} MB ...`);
  makeTree(tree, ["--files", String(opts.files), "--mb", String(opts.mb)]);
  const files = sourceFiles(tree);
  await sleep(SETTLE_MS);
  const cold = cliOn(dataDir, { allowedRoots: ctx.work, server: false });
  cold.json("component", "add", "bench", "--root", tree);
  log("first checkpoint (cold CLI, untimed) ...");
  cold.json("checkpoint", "create", "bench");

  // Each hook follows a one-file change, as an agent's step follows its previous edit.
  let changed = 0;
  const change = () => fs.appendFileSync(path.join(tree, files[changed++ % files.length]), `// step ${changed}\n`);

  const samples = { node: [], warm: [], cold: [], checkpointSec: [] };
  const server = await startServer({ via: "serve", dataDir, allowedRoots: ctx.work, logFile: path.join(dir, "server.log") });
  let checkpointsBefore;
  try {
    checkpointsBefore = checkpointsOf(cold).length;
    // One untimed hook first: the page cache then holds node, the bin, and the server its caches.
    change();
    timedHook(dataDir, ctx.work, tree, bashEvent(tree, -1), {});
    log(`${opts.hookRuns} hooks through the server ...`);
    for (let i = 0; i < opts.hookRuns; i++) {
      change();
      samples.node.push(wall(() => run(process.execPath, ["-e", ""])).sec);
      samples.warm.push(timedHook(dataDir, ctx.work, tree, bashEvent(tree, i), {}));
    }
    await assertServed(server, opts.hookRuns + 1, "hooks: safetynet hook claude-code (warm)");
    // What of each hook was the checkpoint itself (the server's own timing of it), the rest being process start and socket.
    samples.checkpointSec = checkpointsOf(cold).slice(0, opts.hookRuns).map((c) => c.durationMs / 1000);
  } finally {
    await server.stop();
  }
  log(`${COLD_RUNS} hooks with no server, for reference ...`);
  for (let i = 0; i < COLD_RUNS; i++) {
    change();
    samples.cold.push(timedHook(dataDir, ctx.work, tree, bashEvent(tree, 1000 + i), { SAFETYNET_NO_SERVER: "1" }));
  }
  // Every hook took its checkpoint: a hook that silently did nothing would be fast and worthless.
  const taken = checkpointsOf(cold).length - checkpointsBefore;
  if (taken !== opts.hookRuns + 1 + COLD_RUNS) throw new Error(`BENCH ABORTED: ${opts.hookRuns + 1 + COLD_RUNS} hooks took ${taken} checkpoints`);
  if (!opts.keep) fs.rmSync(dir, { recursive: true, force: true });

  const result = {
    files: opts.files,
    runs: opts.hookRuns,
    warm: { p95: percentile(samples.warm, 95), median: median(samples.warm), max: Math.max(...samples.warm) },
    cold: { p95: percentile(samples.cold, 95), median: median(samples.cold) },
    checkpoint: { p95: percentile(samples.checkpointSec, 95), median: median(samples.checkpointSec) },
    node: { median: median(samples.node) },
    targetP95: HOOK_P95_TARGET_SEC,
    samples,
  };
  result.pass = result.warm.p95 <= HOOK_P95_TARGET_SEC;
  return { result, text: hooksTable(result) };
}

export function hooksTable(r) {
  const ms = (sec) => (sec == null ? "—" : `${(sec * 1000).toFixed(0)} ms`);
  return table(
    ["`safetynet hook claude-code` per tool call (whole process)", "p95", "median", "target"],
    [
      [`${r.files} files, server running, a 1-file change before each (${r.runs} hooks; \`node -e ''\` median ${ms(r.node.median)})`, ms(r.warm.p95), ms(r.warm.median), `p95 ≤ ${ms(r.targetP95)}: ${r.pass ? "✓" : "✗"}`],
      [`  of which the checkpoint, as the server timed it`, ms(r.checkpoint.p95), ms(r.checkpoint.median), "—"],
      [`${r.files} files, no server (${COLD_RUNS} hooks, for reference)`, ms(r.cold.p95), ms(r.cold.median), "—"],
    ],
  );
}
