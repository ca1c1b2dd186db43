// What an agent's hook adds to each tool call: the command `safetynet hooks install
// claude-code` writes, run as Claude Code runs it (through /bin/sh, a whole process, a
// recorded PreToolUse Bash event on stdin) on a generated tree of --files files, with
// `safetynet serve` running on the data directory. That command is bin/safetynet-hook,
// which hands the event to the server's hook socket with curl; beside it, the Node CLI
// alone (`node bin/safetynet.mjs hook claude-code`, what the script falls back to
// without curl) through server.sock. The bench checks in the server's log that every
// hook went through the socket it should have. Each of --hook-runs invocations of each
// follows a small change (one source file gets a line), so every hook takes a real
// checkpoint; the rows are the p95 and median wall time of the hook process, against a
// bare `node -e ''` measured in the same minutes. Also a few hooks with no server
// (SAFETYNET_NO_SERVER=1), for reference.
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

/** A word for a POSIX shell, as the hook configuration quotes it. */
const shellWord = (word) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
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

/** One hook process as the agent starts it (through a shell); its wall time in seconds. Throws unless it answered as the protocol wants (exit 0, nothing printed). */
function timedHook(command, tree, event, env) {
  const t0 = performance.now();
  const r = spawnSync("/bin/sh", ["-c", command], { cwd: tree, env: { ...process.env, ...env }, input: event, encoding: "utf8" });
  const sec = (performance.now() - t0) / 1000;
  if (r.status !== 0 || r.stdout !== "" || r.stderr !== "") throw new Error(`BENCH ABORTED: the hook exited ${r.status ?? r.signal} with stdout ${JSON.stringify(r.stdout)} and stderr ${JSON.stringify(r.stderr)}`);
  return sec;
}

/** The log lines of the hooks the server ran, by the socket they came through. */
function servedVia(logFile, socket) {
  return fs.readFileSync(logFile, "utf8").split("\n").filter((line) => line.includes('"local-socket.command"') && line.includes(`"via":"${socket}"`)).length;
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
  // The command the agent is configured to run, as `hooks install` writes it; and the Node CLI alone.
  const { command } = cold.json("hooks", "install", "claude-code", "--component", "bench");
  const nodeCommand = [process.execPath, CLI, "--data-dir", dataDir, "hook", "claude-code", "--allowed-roots", ctx.work].map(shellWord).join(" ");

  // Each hook follows a one-file change, as an agent's step follows its previous edit.
  let changed = 0;
  const change = () => fs.appendFileSync(path.join(tree, files[changed++ % files.length]), `// step ${changed}\n`);

  const samples = { node: [], warm: [], warmNode: [], cold: [], checkpointSec: [] };
  const logFile = path.join(dir, "server.log");
  const server = await startServer({ via: "serve", dataDir, allowedRoots: ctx.work, logFile });
  let checkpointsBefore;
  try {
    checkpointsBefore = checkpointsOf(cold).length;
    // One untimed hook of each first: the page cache then holds sh, curl, node and the bin, and the server its caches.
    change();
    timedHook(command, tree, bashEvent(tree, -1), {});
    change();
    timedHook(nodeCommand, tree, bashEvent(tree, -2), {});
    log(`${opts.hookRuns} hooks of each kind through the server ...`);
    for (let i = 0; i < opts.hookRuns; i++) {
      change();
      samples.node.push(wall(() => run(process.execPath, ["-e", ""])).sec);
      samples.warm.push(timedHook(command, tree, bashEvent(tree, i), {}));
      change();
      samples.warmNode.push(timedHook(nodeCommand, tree, bashEvent(tree, 500 + i), {}));
    }
    await assertServed(server, 2 * opts.hookRuns + 2, "hooks: the configured hook and the Node CLI's (warm)");
    const [viaHook, viaCli] = [servedVia(logFile, "hook.sock"), servedVia(logFile, "server.sock")];
    if (viaHook !== opts.hookRuns + 1 || viaCli !== opts.hookRuns + 1) throw new Error(`BENCH ABORTED: the server ran ${viaHook} hooks from hook.sock and ${viaCli} from server.sock, expected ${opts.hookRuns + 1} each`);
    // What of each hook was the checkpoint itself (the server's own timing of it), the rest being process start and socket.
    samples.checkpointSec = checkpointsOf(cold).slice(0, 2 * opts.hookRuns).map((c) => c.durationMs / 1000);
  } finally {
    await server.stop();
  }
  log(`${COLD_RUNS} hooks with no server, for reference ...`);
  for (let i = 0; i < COLD_RUNS; i++) {
    change();
    samples.cold.push(timedHook(command, tree, bashEvent(tree, 1000 + i), { SAFETYNET_NO_SERVER: "1" }));
  }
  // Every hook took its checkpoint: a hook that silently did nothing would be fast and worthless.
  const taken = checkpointsOf(cold).length - checkpointsBefore;
  const expected = 2 * opts.hookRuns + 2 + COLD_RUNS;
  if (taken !== expected) throw new Error(`BENCH ABORTED: ${expected} hooks took ${taken} checkpoints`);
  if (!opts.keep) fs.rmSync(dir, { recursive: true, force: true });

  const result = {
    files: opts.files,
    runs: opts.hookRuns,
    warm: { p95: percentile(samples.warm, 95), median: median(samples.warm), max: Math.max(...samples.warm) },
    warmNode: { p95: percentile(samples.warmNode, 95), median: median(samples.warmNode) },
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
    ["agent hook per tool call (whole process, through /bin/sh)", "p95", "median", "target"],
    [
      [`${r.files} files, server running, a 1-file change before each: the command \`hooks install\` writes (sh + curl to hook.sock; ${r.runs} hooks)`, ms(r.warm.p95), ms(r.warm.median), `p95 ≤ ${ms(r.targetP95)}: ${r.pass ? "✓" : "✗"}`],
      [`  the same with the Node CLI alone (\`node bin/safetynet.mjs hook claude-code\` to server.sock, the fallback without curl; \`node -e ''\` median ${ms(r.node.median)})`, ms(r.warmNode?.p95), ms(r.warmNode?.median), "—"],
      [`  of which the checkpoint, as the server timed it (both kinds)`, ms(r.checkpoint.p95), ms(r.checkpoint.median), "—"],
      [`${r.files} files, no server (${COLD_RUNS} hooks, for reference)`, ms(r.cold.p95), ms(r.cold.median), "—"],
    ],
  );
}
