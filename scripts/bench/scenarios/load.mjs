// --load: the server under agent load. A agents, each on its own component (a small
// generated tree), loop for S seconds over the tRPC HTTP API of `npm start`:
// checkpoint.create -> change C files -> rollback.plan -> rollback.execute, and check
// that the rollback put the changed files back. Afterwards every checkpoint (the
// safety checkpoints of the rollbacks included) is verified. Any failed request,
// wrong rollback or unverified checkpoint is a failure: the bench reports each one
// (grouped by message) and exits non-zero.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { LOAD_RESULTS_FILE } from "../paths.mjs";
import { run, sleep } from "../processes.mjs";
import { ensureWebBuild, startServer } from "../server.mjs";
import { percentile } from "../stats.mjs";
import { trpcClient } from "../trpc-client.mjs";
import { makeTree, SETTLE_MS, sha256, sourceFiles } from "../tree.mjs";
import { writeResults } from "../report.mjs";

const VERIFY_CONCURRENCY = 4;
const FAILURES_SHOWN = 20;

/** The files an agent edits: regular source files Safety Net keeps (not the generator's ignored noise). */
function editableFiles(tree) {
  return new Map(sourceFiles(tree).map((rel) => [rel, sha256(fs.readFileSync(path.join(tree, rel)))]));
}

/**
 * Changes `count` files of the agent's tree the way an agent does: mostly edits, some
 * deletions and new files. Returns what a correct rollback must undo.
 */
function changeFiles(agent, count) {
  const touched = [];
  const files = agent.fileList;
  for (let k = 0; k < count; k++) {
    if (k % 10 === 9) {
      const rel = `src/agent-new-${agent.iteration}-${k}.ts`;
      fs.writeFileSync(path.join(agent.root, rel), `export const added = ${k};\n`);
      touched.push({ rel, sha: null });
      continue;
    }
    const rel = files[(agent.iteration * count + k) % files.length];
    const abs = path.join(agent.root, rel);
    if (k % 10 === 8) fs.rmSync(abs);
    else fs.appendFileSync(abs, `// agent ${agent.name} iteration ${agent.iteration}\n`);
    touched.push({ rel, sha: agent.original.get(rel) });
  }
  return touched;
}

/** The touched paths that are not as they were at the checkpoint. */
function notRolledBack(agent, touched) {
  return touched.filter(({ rel, sha }) => {
    const abs = path.join(agent.root, rel);
    if (sha === null) return fs.existsSync(abs);
    return !fs.existsSync(abs) || sha256(fs.readFileSync(abs)) !== sha;
  });
}

/** One agent's loop until the deadline; a failure ends it (its tree is then in an unknown state). */
async function agentLoop(agent, deadline, state) {
  const call = async (op, input) => {
    const result = await agent.call(op, input);
    state.requests++;
    if (result.ok) state.latencies[op].push(result.ms);
    else state.failures.push({ agent: agent.name, op, status: result.status, error: result.error });
    return result;
  };
  while (Date.now() < deadline) {
    const t0 = performance.now();
    const created = await call("checkpoint.create", { component: agent.name, reason: "bench --load" });
    if (!created.ok) return;
    state.checkpoints.push(created.data.id);
    const touched = changeFiles(agent, state.changes);
    const plan = await call("rollback.plan", { checkpointId: created.data.id });
    if (!plan.ok) return;
    const executed = await call("rollback.execute", { checkpointId: created.data.id, confirmToken: plan.data.confirmToken });
    if (!executed.ok) return;
    if (executed.data.safetyCheckpointId) state.checkpoints.push(executed.data.safetyCheckpointId);
    const wrong = executed.data.outcome === "succeeded" ? notRolledBack(agent, touched) : touched;
    if (wrong.length > 0) {
      state.failures.push({ agent: agent.name, op: "rollback check", status: 200, error: `outcome ${executed.data.outcome}; not rolled back: ${wrong.map((w) => w.rel).slice(0, 5).join(", ")}` });
      return;
    }
    state.latencies.cycle.push(performance.now() - t0);
    agent.iteration++;
  }
}

/** checkpoint.verify of every id, a few at a time; returns the ids that did not verify, with why. */
async function verifyAll(call, ids, latencies) {
  const problems = [];
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++];
      const result = await call("checkpoint.verify", { id });
      if (result.ok) latencies.push(result.ms);
      if (!result.ok) problems.push({ id, error: result.error });
      else if (result.data.state !== "verified") problems.push({ id, error: `state ${result.data.state}: ${JSON.stringify(result.data.problems).slice(0, 300)}` });
    }
  };
  await Promise.all(Array.from({ length: VERIFY_CONCURRENCY }, worker));
  return problems;
}

async function prepareAgents(server, workspace, pristine, { agents, changes }) {
  const admin = trpcClient(server.baseUrl, server.adminToken());
  const original = editableFiles(pristine);
  if (original.size < changes) throw new Error(`--load-files gives ${original.size} editable files, fewer than --load-changes ${changes}`);
  const list = [];
  for (let i = 0; i < agents; i++) {
    const name = `agent-${String(i + 1).padStart(2, "0")}`;
    const root = path.join(workspace, name);
    const component = await admin("component.upsert", { name, root });
    if (!component.ok) throw new Error(`component.upsert ${name}: ${component.error}`);
    // Each agent gets its own token, limited to its component, as an operator would hand them out.
    const token = await admin("auth.createToken", { name: `bench-${name}`, role: "agent", components: [name] });
    if (!token.ok) throw new Error(`auth.createToken ${name}: ${token.error}`);
    list.push({ name, root, call: trpcClient(server.baseUrl, token.data.token), original, fileList: [...original.keys()], iteration: 0 });
  }
  return { admin, agents: list };
}

function loadReport(result) {
  const ms = (v) => (v == null ? "—" : v.toFixed(0));
  const rows = Object.entries(result.latency).map(([op, l]) => `| ${op} | ${l.count} | ${ms(l.p50)} | ${ms(l.p95)} | ${ms(l.p99)} | ${ms(l.max)} |`);
  const mem = (m) => (m ? `${m.rssMb.toFixed(0)} MB (peak ${m.peakMb.toFixed(0)} MB)` : "—");
  return [
    `Safety Net bench --load: ${result.agents} agents, ${result.seconds} s, each loop checkpoint.create -> change ${result.changes} files -> rollback.plan + rollback.execute (tRPC over HTTP, \`npm start\`); components of ${result.filesPerComponent} files`,
    "",
    "| operation | count | p50 ms | p95 ms | p99 ms | max ms |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    "| measurement | value |",
    "| --- | --- |",
    `| throughput (successful requests/s during the load) | ${result.throughput.requestsPerSecond.toFixed(1)} |`,
    `| agent loops completed (loops/s) | ${result.loops} (${result.throughput.loopsPerSecond.toFixed(2)}) |`,
    `| failed requests and wrong rollbacks | ${result.failures.length} |`,
    `| checkpoints verified afterwards | ${result.verified} / ${result.checkpoints} |`,
    `| server RSS at the end of the load | ${mem(result.serverMemory.afterLoad)} |`,
    `| server RSS after verifying everything | ${mem(result.serverMemory.afterVerify)} |`,
  ].join("\n");
}

/** Failures grouped by operation and message, most frequent first. */
function groupFailures(failures) {
  const groups = new Map();
  for (const f of failures) {
    const key = `${f.op} -> ${f.status} ${f.error}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].sort((a, b) => b[1] - a[1]);
}

export async function loadScenario(opts, env, ctx) {
  const { seconds, agents: agentCount, files, changes } = opts.load;
  ensureWebBuild();
  const dir = path.join(ctx.work, "load");
  const workspace = path.join(dir, "workspace");
  const pristine = path.join(dir, "pristine");
  process.stderr.write(`bench --load: ${agentCount} components of ${files} files ...\n`);
  makeTree(pristine, ["--files", String(files), "--mb", String(Math.max(1, files / 100))]);
  fs.mkdirSync(workspace, { recursive: true });
  for (let i = 1; i <= agentCount; i++) run("cp", ["-a", pristine, path.join(workspace, `agent-${String(i).padStart(2, "0")}`)]);
  const logFile = path.join(dir, "server.log");
  const server = await startServer({ via: "start", dataDir: path.join(dir, "data"), allowedRoots: workspace, logFile });
  const state = { changes, requests: 0, checkpoints: [], failures: [], latencies: { "checkpoint.create": [], "rollback.plan": [], "rollback.execute": [], cycle: [] } };
  let result;
  try {
    const { admin, agents } = await prepareAgents(server, workspace, pristine, { agents: agentCount, changes });
    // The stat cache does not trust files changed in the last 2 s: let the copies age first.
    await sleep(SETTLE_MS);
    process.stderr.write(`bench --load: ${agentCount} agents for ${seconds} s against ${server.baseUrl} (server pid ${server.pid}) ...\n`);
    const t0 = performance.now();
    await Promise.all(agents.map((agent) => agentLoop(agent, Date.now() + seconds * 1000, state)));
    const elapsed = (performance.now() - t0) / 1000;
    const afterLoad = server.memory();
    const stopped = agents.filter((a) => state.failures.some((f) => f.agent === a.name)).length;
    process.stderr.write(`bench --load: ${state.requests} requests in ${elapsed.toFixed(1)} s; verifying ${state.checkpoints.length} checkpoints ...\n`);
    const verifyLatencies = [];
    const unverified = await verifyAll(admin, state.checkpoints, verifyLatencies);
    for (const u of unverified) state.failures.push({ agent: "-", op: "checkpoint.verify", status: "-", error: `${u.id}: ${u.error}` });
    const summarize = (values) => ({ count: values.length, p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99), max: percentile(values, 100) });
    result = {
      agents: agentCount,
      seconds,
      elapsedSeconds: elapsed,
      changes,
      filesPerComponent: files,
      loops: state.latencies.cycle.length,
      throughput: { requestsPerSecond: (state.requests - state.failures.length) / elapsed, loopsPerSecond: state.latencies.cycle.length / elapsed },
      latency: { ...Object.fromEntries(Object.entries(state.latencies).map(([op, v]) => [op === "cycle" ? "whole loop (create + change + plan + execute)" : op, summarize(v)])), "checkpoint.verify (afterwards)": summarize(verifyLatencies) },
      checkpoints: state.checkpoints.length,
      verified: state.checkpoints.length - unverified.length,
      agentsStoppedByFailure: stopped,
      failures: state.failures,
      serverMemory: { afterLoad, afterVerify: server.memory() },
    };
  } finally {
    await server.stop();
  }
  env.loadAvgAtEnd = os.loadavg();
  process.stdout.write(loadReport(result) + "\n");
  writeResults({ options: opts, environment: env, load: result }, LOAD_RESULTS_FILE);
  if (result.failures.length === 0) return 0;
  process.stderr.write(`\nbench --load: ${result.failures.length} FAILURE(S) (${result.agentsStoppedByFailure} agent(s) stopped at their first one):\n`);
  for (const [what, n] of groupFailures(result.failures).slice(0, FAILURES_SHOWN)) process.stderr.write(`  ${n}× ${what}\n`);
  process.stderr.write(`  server log: ${opts.keep ? logFile : "(rerun with --keep to keep it)"}\n`);
  return 1;
}
