// The generated trees and the checks every rollback and restore must pass.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { MAKE_TREE, MUTATE_TREE } from "./paths.mjs";
import { run } from "./processes.mjs";

// What make-tree.mjs writes as noise: ignored by Safety Net (defaults + .gitignore files) and by git,
// copied by cp -a and restic. A restore by the former is complete without these: the top-level
// entries below, and what src/codegen/.gitignore hides (*.generated.ts, out/).
const IGNORED_NOISE = new Set([".git", "node_modules", "dist", "debug.log"]);
const NESTED_IGNORED = /^src\/codegen\/(?:[^/]+\/)*(?:[^/]+\.generated\.ts$|out(?:\/|$))/;
// Safety Net's stat cache (like git's racy-clean rule) does not trust a file changed less than 2 s
// before it was hashed, judged by max(mtime, ctime). utimes can backdate mtime but sets ctime to now,
// so after preparing the trees the bench also waits SETTLE_MS before the first checkpoint.
export const SETTLE_MS = 2500;
export const BACKDATE_S = 10;

export function makeTree(dir, args) {
  return JSON.parse(run(process.execPath, [MAKE_TREE, dir, ...args]));
}

/** mutate-tree.mjs with `changes` changes; another `seed` makes other changes (its default is 7). */
export function mutateTree(dir, changes, { seed } = {}) {
  const summary = JSON.parse(run(process.execPath, [MUTATE_TREE, dir, "--changes", String(changes), ...(seed === undefined ? [] : ["--seed", String(seed)])]));
  if (summary.modified + summary.deleted + summary.added !== changes) throw new Error(`mutate-tree did ${JSON.stringify(summary)}, expected ${changes} changes`);
  return summary;
}

export function walk(dir, visit, rel = "") {
  for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const childRel = rel ? `${rel}/${entry.name}` : entry.name;
    visit(childRel, entry);
    if (entry.isDirectory()) walk(dir, visit, childRel);
  }
}

/**
 * The regular source files of a generated tree that Safety Net and git both keep: under
 * src/, minus src/codegen/ (where nested .gitignore files hide some); sorted.
 */
export function sourceFiles(dir) {
  const files = [];
  walk(path.join(dir, "src"), (rel, entry) => {
    if (entry.isFile() && !rel.startsWith("codegen/")) files.push(`src/${rel}`);
  });
  return files.sort();
}

/**
 * `du -sb`-like: the bytes of the regular files below `dir` (symlinks count their own
 * size), in all and per top-level entry, and what they occupy on disk (blocks). A file
 * gone between its folder's listing and its stat (a lock, a temp file) counts as gone.
 */
export function bytesUnder(dir) {
  const usage = { bytes: 0, allocated: 0, files: 0, byEntry: {} };
  walk(dir, (rel, entry) => {
    if (entry.isDirectory()) return;
    let st;
    try {
      st = fs.lstatSync(path.join(dir, rel));
    } catch (error) {
      if (error.code === "ENOENT") return;
      throw error;
    }
    const top = rel.split("/")[0];
    usage.bytes += st.size;
    usage.allocated += st.blocks * 512;
    usage.files++;
    usage.byEntry[top] = (usage.byEntry[top] ?? 0) + st.size;
  });
  return usage;
}

/** Sets every mtime BACKDATE_S seconds into the past (or to `when`), the same way for every tool's copy. */
function backdate(dir, when = new Date(Date.now() - BACKDATE_S * 1000)) {
  walk(dir, (rel) => fs.lutimesSync(path.join(dir, rel), when, when));
  fs.utimesSync(dir, when, when);
}

/** rm -rf: several times faster than fs.rmSync on a 250,000-file tree and its store. */
export function removeTree(dir) {
  run("rm", ["-rf", dir]);
}

/**
 * A fresh copy of the pristine tree (new inodes, so no tool benefits from an earlier run).
 * `move`: the pristine tree itself is moved there instead (its last use: saves a copy).
 * `when`: the mtime every entry gets (default: BACKDATE_S seconds ago). Copies compared with
 * each other get the same one: whether a restored mtime reads back exactly depends on its value.
 */
export function freshCopy(pristine, dest, { move = false, when } = {}) {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  if (move) fs.renameSync(pristine, dest);
  else run("cp", ["-a", pristine, dest]);
  backdate(dest, when);
}

export const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

/**
 * What a correct rollback or restore must reproduce: path -> kind plus, for
 * files, the content hash and the executable bit (the only mode bit git keeps).
 * `known` (from statBaseline): files whose inode, size and ctime are unchanged
 * since then take their value from it instead of being read again; a content
 * change moves ctime, which utimes cannot set back, so nothing changed is missed.
 */
export function fingerprint(dir, known = null) {
  const out = new Map();
  walk(dir, (rel, entry) => {
    const abs = path.join(dir, rel);
    if (entry.isDirectory()) out.set(rel, "dir");
    else if (entry.isSymbolicLink()) out.set(rel, `link ${fs.readlinkSync(abs)}`);
    else {
      const st = fs.statSync(abs, { bigint: true });
      const was = known?.get(rel);
      if (was && was.ino === st.ino && was.size === st.size && was.ctimeNs === st.ctimeNs) out.set(rel, was.value);
      else out.set(rel, `file ${st.mode & 0o111n ? "x" : "-"} ${sha256(fs.readFileSync(abs))}`);
    }
  });
  return out;
}

/**
 * The files of a fresh copy of the tree `expected` describes, by their stat: with it,
 * checking the copy later reads only the files that were written since (see fingerprint).
 */
export function statBaseline(dir, expected) {
  const known = new Map();
  walk(dir, (rel, entry) => {
    if (!entry.isFile()) return;
    const value = expected.get(rel);
    if (!value) return;
    const st = fs.statSync(path.join(dir, rel), { bigint: true });
    known.set(rel, { ino: st.ino, size: st.size, ctimeNs: st.ctimeNs, value });
  });
  return known;
}

const isNoise = (rel) => IGNORED_NOISE.has(rel.split("/")[0]) || NESTED_IGNORED.test(rel);

/** The folders of `tree` with no file or symlink anywhere below (git cannot keep them). */
export function foldersWithoutFiles(tree) {
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
export function assertSameTree(dir, expected, what, { withoutNoise = false, withoutEmptyDirs = false, known = null } = {}) {
  const actual = fingerprint(dir, known);
  const want = withoutNoise ? new Map([...expected].filter(([rel]) => !isNoise(rel))) : new Map(expected);
  if (withoutEmptyDirs) for (const rel of foldersWithoutFiles(want)) want.delete(rel);
  const problems = [];
  for (const [rel, value] of want) if (actual.get(rel) !== value) problems.push(`${actual.has(rel) ? "differs" : "missing"}: ${rel}`);
  for (const rel of actual.keys()) if (!want.has(rel)) problems.push(`unexpected: ${rel}`);
  if (problems.length > 0) {
    throw new Error(`BENCH ABORTED: ${what} is wrong (${problems.length} problems): a benchmark of a broken rollback is worthless.\n  ${problems.slice(0, 15).join("\n  ")}`);
  }
}

/** Permission bits (mode & 0o7777) of every file and folder below `dir` (stat only: no content is read). */
export function modesOf(dir) {
  const modes = new Map();
  walk(dir, (rel, entry) => {
    if (entry.isFile() || entry.isDirectory()) modes.set(rel, fs.lstatSync(path.join(dir, rel)).mode & 0o7777);
  });
  return modes;
}

/**
 * Aborts the bench when a path of `expected` (from modesOf) has other permission bits in
 * `dir`: the full mode, for a tool that keeps it (git keeps the executable bit only, which
 * assertSameTree checks). Missing and extra paths are assertSameTree's to report.
 */
export function assertSameModes(dir, expected, what) {
  const actual = modesOf(dir);
  const problems = [];
  for (const [rel, mode] of expected) {
    const now = actual.get(rel);
    if (now !== undefined && now !== mode) problems.push(`mode ${now.toString(8)}, expected ${mode.toString(8)}: ${rel}`);
  }
  if (problems.length > 0) {
    throw new Error(`BENCH ABORTED: ${what} is wrong (${problems.length} problems): a benchmark of a broken rollback is worthless.\n  ${problems.slice(0, 15).join("\n  ")}`);
  }
}

/**
 * Flushes dirty pages (untimed) before each measured operation: otherwise the
 * write-back of one tool's copies or loose objects lands in the next operation
 * that calls fsync (Safety Net's store does, git and cp do not), whoever it is.
 */
export function flushDirtyPages() {
  run("sync", []);
}
