// Row group 4: the history of one path over many checkpoints. A small component (a few
// files, one of which changes before every checkpoint) gets N checkpoints, through the
// API or, with --change-cost-history-via engine, through the engine in-process (only the
// making of the history; the queries always go over HTTP). Then file.history of that path
// (limit 50) and of a path that never changed, each the median of Q requests, against
// `git log --format=%H -- <path> | head -50` (whole pipeline) on a repository holding
// the same N commits, made with `git fast-import`.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { run, wall } from "../../processes.mjs";
import { median } from "../../stats.mjs";
import { must } from "../../trpc-client.mjs";
import { bundleDriver, EngineDriver } from "../../tools/engine.mjs";
import { progressLine } from "./progress.mjs";
import { apiTool, openSession } from "./session.mjs";

const COMPONENT = "history";
export const HOT_PATH = "src/hot.ts";
export const QUIET_PATH = "src/quiet.ts";
const FILES = { [QUIET_PATH]: "export const quiet = true;\n", "src/a.ts": "export const a = 1;\n", "src/b.ts": "export const b = 2;\n", "README.md": "# history\n" };
const PAGE = 50;
const hotContent = (i) => `export const hot = ${i};\n`;

function writeTree(tree) {
  for (const [rel, text] of Object.entries(FILES)) {
    fs.mkdirSync(path.dirname(path.join(tree, rel)), { recursive: true });
    fs.writeFileSync(path.join(tree, rel), text);
  }
}

/** The same history as a git repository: commit i holds the files with hot.ts at version i. */
function gitHistory(gitDir, checkpoints) {
  run("git", ["init", "-q", "--bare", "--initial-branch=main", gitDir]);
  const chunks = [];
  const data = (text) => `data ${Buffer.byteLength(text)}\n${text}\n`;
  for (let i = 0; i < checkpoints; i++) {
    chunks.push(`commit refs/heads/main\ncommitter bench <bench@example.invalid> ${1_700_000_000 + i} +0000\n${data(`checkpoint ${i}`)}`);
    if (i === 0) for (const [rel, text] of Object.entries(FILES)) chunks.push(`M 100644 inline ${rel}\n${data(text)}`);
    chunks.push(`M 100644 inline ${HOT_PATH}\n${data(hotContent(i))}`);
  }
  const r = spawnSync("git", ["--git-dir", gitDir, "fast-import", "--quiet"], { input: chunks.join(""), encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git fast-import exited with ${r.status}: ${r.stderr}`);
}

/** Changes the hot file, then `create()`s a checkpoint (returning its id), N times. */
async function checkpointLoop(tree, checkpoints, create, log) {
  const progress = progressLine(checkpoints, "history checkpoints", log);
  const started = Date.now();
  let lastId = null;
  for (let i = 0; i < checkpoints; i++) {
    fs.writeFileSync(path.join(tree, HOT_PATH), hotContent(i));
    lastId = await create();
    progress(i);
  }
  return { lastId, seconds: (Date.now() - started) / 1000 };
}

/** The history, then a session on its data directory; `seconds`: the checkpoints' time (no server start). */
async function makeHistory({ tree, dataDir, dir, allowedRoots, checkpoints, via, log }) {
  let made;
  if (via === "engine") {
    await bundleDriver();
    const driver = new EngineDriver({ SAFETYNET_ALLOWED_ROOTS: allowedRoots });
    try {
      await driver.request({ op: "open", dataDir, cwd: dir });
      await driver.request({ op: "add", name: COMPONENT, root: tree });
      made = await checkpointLoop(tree, checkpoints, async () => (await driver.request({ op: "checkpoint", component: COMPONENT })).id, log);
    } finally {
      await driver.close();
    }
  }
  const session = await openSession({ dir, dataDir, allowedRoots, component: COMPONENT, root: tree });
  if (via === "api") {
    const api = apiTool(session);
    try {
      made = await checkpointLoop(tree, checkpoints, async () => (await api.checkpoint()).id, log);
    } catch (error) {
      await session.server.stop();
      throw error;
    }
  }
  return { session, ...made };
}

/** Q requests of file.history for `rel`, each checked; returns their times (ms). */
async function timeFileHistory(session, rel, queries, check) {
  const input = { component: COMPONENT, path: rel, limit: PAGE };
  check((await must(session.agent, "file.history", input, { query: true })).data);
  const ms = [];
  for (let q = 0; q < queries; q++) {
    const result = await must(session.agent, "file.history", input, { query: true });
    check(result.data);
    ms.push(result.ms);
  }
  return ms;
}

/** The same for git: the whole `git log ... | head -50` pipeline, as a shell runs it. */
function timeGitLog(gitDir, rel, queries, expectedLines) {
  const env = { GIT_DIR: gitDir, HOME: path.dirname(gitDir), GIT_CONFIG_NOSYSTEM: "1" };
  const once = () => {
    const { sec, value } = wall(() => run("sh", ["-c", `git log --format=%H -- '${rel}' | head -${PAGE}`], { env }));
    const lines = value.trim().split("\n").filter(Boolean).length;
    if (lines !== expectedLines) throw new Error(`BENCH ABORTED: git log of ${rel} gave ${lines} commits, expected ${expectedLines}`);
    return sec * 1000;
  };
  once();
  return Array.from({ length: queries }, once);
}

export async function historyRows({ dir, allowedRoots, checkpoints, via, queries, log }) {
  const tree = path.join(dir, "tree");
  const dataDir = path.join(dir, "data");
  writeTree(tree);
  log(`history: ${checkpoints} checkpoints of a ${Object.keys(FILES).length + 1}-file component (${via === "api" ? "through the API" : "engine in-process"}) ...`);
  const made = await makeHistory({ tree, dataDir, dir, allowedRoots, checkpoints, via, log });
  const { session } = made;
  let ours;
  let memory;
  try {
    const hot = await timeFileHistory(session, HOT_PATH, queries, (page) => {
      if (page.items.length !== Math.min(PAGE, checkpoints) || (made.lastId && page.items[0]?.checkpointId !== made.lastId)) {
        throw new Error(`BENCH ABORTED: file.history of ${HOT_PATH} gave ${page.items.length} items starting at ${page.items[0]?.checkpointId}, expected ${Math.min(PAGE, checkpoints)} from ${made.lastId}`);
      }
    });
    const quiet = await timeFileHistory(session, QUIET_PATH, queries, (page) => {
      if (page.items.length !== 1) throw new Error(`BENCH ABORTED: file.history of ${QUIET_PATH} gave ${page.items.length} items, expected 1 (where it was first seen)`);
    });
    ours = { hot, quiet };
    memory = session.server.memory();
  } finally {
    await session.server.stop();
  }
  const gitDir = path.join(dir, "history.git");
  const importStarted = Date.now();
  gitHistory(gitDir, checkpoints);
  const importSeconds = (Date.now() - importStarted) / 1000;
  const gitMs = { hot: timeGitLog(gitDir, HOT_PATH, queries, Math.min(PAGE, checkpoints)), quiet: timeGitLog(gitDir, QUIET_PATH, queries, 1) };
  const summary = {
    checkpoints,
    via,
    queries,
    makeSeconds: made.seconds,
    gitImportSeconds: importSeconds,
    hot: { ms: median(ours.hot), gitMs: median(gitMs.hot) },
    quiet: { ms: median(ours.quiet), gitMs: median(gitMs.quiet) },
    serverMemory: memory,
    samples: { ours, git: gitMs },
  };
  log(`history: made in ${made.seconds.toFixed(0)} s; file.history ${summary.hot.ms.toFixed(1)} ms (git log ${summary.hot.gitMs.toFixed(1)} ms), never-changed path ${summary.quiet.ms.toFixed(1)} ms (git log ${summary.quiet.gitMs.toFixed(1)} ms)`);
  return summary;
}
