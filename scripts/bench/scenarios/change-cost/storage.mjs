// Row groups 2 and 3: what checkpoints add to the data directory, against what git adds to
// its repository (loose objects, never gc'd) for the same commits of the same changes.
//   one-file: a checkpoint after a 1-file change, R times (a different file each time).
//   steps:    N checkpoints with F files changed before each (retentionDays 0, so that the
//             retention row can expire them by a keep-last policy alone).
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { seededRandom } from "../../../generators/generator-cli.mjs";
import { wall } from "../../processes.mjs";
import { median } from "../../stats.mjs";
import { bytesUnder, flushDirtyPages } from "../../tree.mjs";
import { progressLine } from "./progress.mjs";

/**
 * Changes whole files the same way in every tree: each change appends a line no other
 * change writes (its content is new to every store). The files are the tree's source
 * files in a seeded order, each used once before any is used again.
 */
export function fileChanger(trees, files, seed = 11) {
  const order = [...files];
  const { int } = seededRandom(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  let next = 0;
  return function change(count, tag) {
    const paths = [];
    let bytes = 0;
    for (let k = 0; k < count; k++) {
      const rel = order[next++ % order.length];
      for (const tree of trees) fs.appendFileSync(path.join(tree, rel), `// change-cost ${tag} ${k}\n`);
      bytes += fs.statSync(path.join(trees[0], rel)).size;
      paths.push(rel);
    }
    return { paths, bytes };
  };
}

/**
 * Moves the SQLite database's write-ahead log into the database file and empties it
 * (what SQLite does by itself every 1,000 pages), so that a size counts the pages the
 * metadata takes, not where the log happens to be in its cycle (up to 4 MB either way).
 * Nothing to do when the metadata is elsewhere (PostgreSQL). Returns SQLite's answer.
 */
export function checkpointWal(dataDir) {
  const file = path.join(dataDir, "safetynet.db");
  if (!fs.existsSync(file)) return null;
  const db = new Database(file, { fileMustExist: true, timeout: 5000 });
  try {
    const [answer] = db.pragma("wal_checkpoint(TRUNCATE)");
    if (answer.busy) process.stderr.write("bench --change-cost: note: the WAL could not be emptied (a reader held it); sizes include it\n");
    return answer;
  } finally {
    db.close();
  }
}

/** The data directory's total and its store, and the git repository, as bytesUnder sees them. */
function sizes({ dataDir, gitDir }) {
  checkpointWal(dataDir);
  const data = bytesUnder(dataDir);
  return { data: data.bytes, store: data.byEntry.store ?? 0, allocated: data.allocated, byEntry: data.byEntry, git: bytesUnder(gitDir).bytes };
}

const growth = (before, after) => ({
  data: after.data - before.data,
  store: after.store - before.store,
  allocated: after.allocated - before.allocated,
  git: after.git - before.git,
  byEntry: Object.fromEntries([...new Set([...Object.keys(before.byEntry), ...Object.keys(after.byEntry)])].map((k) => [k, (after.byEntry[k] ?? 0) - (before.byEntry[k] ?? 0)])),
});

/** Bytes added by one checkpoint (and one commit) after a 1-file change, `runs` times. */
export async function oneFileGrowth({ api, git, change, dirs, runs, log }) {
  const samples = [];
  for (let r = 0; r < runs; r++) {
    const changed = change(1, `one-file-${r}`);
    flushDirtyPages();
    const before = sizes(dirs);
    const created = await api.checkpoint();
    git.checkpoint();
    const after = sizes(dirs);
    samples.push({ path: changed.paths[0], fileBytes: changed.bytes, checkpointId: created.id, ...growth(before, after) });
  }
  const result = {
    samples,
    data: median(samples.map((s) => s.data)),
    store: median(samples.map((s) => s.store)),
    git: median(samples.map((s) => s.git)),
    fileBytes: median(samples.map((s) => s.fileBytes)),
  };
  log(`1-file change: data directory +${result.data} B (store +${result.store} B), .git +${result.git} B (medians of ${runs}; files of ${result.fileBytes} B median)`);
  return result;
}

/** `steps` checkpoints with `filesPerStep` files changed before each; git commits the same changes. */
export async function stepsGrowth({ api, git, change, dirs, steps, filesPerStep, log }) {
  flushDirtyPages();
  const before = sizes(dirs);
  const checkpointMs = [];
  const gitMs = [];
  const ids = [];
  let changedBytes = 0;
  const started = Date.now();
  const tick = progressLine(steps, "step checkpoints", log);
  for (let s = 0; s < steps; s++) {
    const changed = change(filesPerStep, `step-${s}`);
    changedBytes += changed.bytes;
    const created = await api.checkpoint({ retentionDays: 0 });
    checkpointMs.push(created.ms);
    ids.push(created.id);
    gitMs.push(wall(() => git.commitPaths(changed.paths)).sec * 1000);
    tick(s);
  }
  flushDirtyPages();
  const after = sizes(dirs);
  return { steps, filesPerStep, changedBytes, checkpointMedianMs: median(checkpointMs), gitCommitMedianMs: median(gitMs), seconds: (Date.now() - started) / 1000, ids, before, after, ...growth(before, after) };
}
