#!/usr/bin/env node
// Simulates an agent's refactor on a tree made by make-tree.mjs. Deterministic by seed.
// Usage: mutate-tree.mjs DIR [--changes N] [--seed S]
//
// Works on the checkpointed files under DIR/src/ only: never on node_modules/, .git/,
// dist/, anything a .gitignore (root or nested) ignores, nor the .gitignore files
// themselves. Each file is touched by at most one operation:
// - N changes: about 60% modify a file (appends a line), 20% delete one, 20% add one
//   under src/agent-added/ (modified + deleted + added === N);
// - one leaf folder (the parent of a deepest file, holding no ignored entry) renamed to
//   `<name>-renamed`, one file's mode flipped (0644 <-> 0755);
// - each with probability 1/2, decided by the seed: a file replaced by a directory
//   (holding index.ts), a symlink retargeted to another file, a new empty directory,
//   a binary file rewritten with new random bytes.
// Prints {modified, deleted, added, renamedDir, chmod} (counts; old path of the renamed
// folder; path of the chmod-ed file) plus replacedByDir, retargetedLink, emptyDirAdded,
// binaryRewritten (a path, or null when it did not happen). The walk is iterative and
// picks are O(1), so trees of 250,000 files are fine.
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseGeneratorArgs, seededRandom } from "./generator-cli.mjs";

const { dir, opt } = parseGeneratorArgs("mutate-tree", "mutate-tree.mjs DIR [--changes N] [--seed S]");
const changes = Math.floor(opt("changes", 50));
process.umask(0o022);
const { next32, rand, int } = seededRandom(opt("seed", 7));

// ---------------------------------------------------------------- ignore rules

const ALWAYS_SKIPPED = new Set(["node_modules", ".git", "dist"]);

/** The subset of .gitignore syntax make-tree writes (and most files use): globs, `dir/`, anchored paths. Negations are skipped, which only ignores more. */
function parseIgnore(text, base) {
  const rules = [];
  for (const raw of text.split("\n")) {
    let line = raw.replace(/\r$/, "").replace(/\s+$/, "");
    if (!line || line.startsWith("#") || line.startsWith("!")) continue;
    const dirOnly = line.endsWith("/");
    if (dirOnly) line = line.slice(0, -1);
    const anchored = line.includes("/");
    if (line.startsWith("/")) line = line.slice(1);
    rules.push({ base, dirOnly, anchored, re: new RegExp(`^${globToRegExp(line)}$`) });
  }
  return rules;
}

function globToRegExp(glob) {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (glob.startsWith("**/", i)) {
      out += "(?:.*/)?";
      i += 2;
    } else if (glob.startsWith("**", i)) {
      out += ".*";
      i += 1;
    } else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else out += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return out;
}

function isIgnored(rel, name, isDir, rules) {
  if (ALWAYS_SKIPPED.has(name)) return true;
  for (const r of rules) {
    if (r.dirOnly && !isDir) continue;
    if (r.base && !rel.startsWith(`${r.base}/`)) continue;
    if (r.re.test(r.anchored ? (r.base ? rel.slice(r.base.length + 1) : rel) : name)) return true;
  }
  return false;
}

const readIgnore = (relDir) => {
  try {
    return parseIgnore(readFileSync(path.join(dir, relDir, ".gitignore"), "utf8"), relDir);
  } catch {
    return [];
  }
};

// ---------------------------------------------------------------- walk src/ (iteratively)

const pool = []; // checkpointed regular files (relative paths), minus .gitignore files
const links = []; // checkpointed symlinks
const holdsIgnored = new Set(); // folders with an ignored entry somewhere below
const rootRules = readIgnore("");
const stack = [{ rel: "src", rules: rootRules }];
while (stack.length > 0) {
  const { rel: relDir, rules: inherited } = stack.pop();
  let entries;
  try {
    entries = readdirSync(path.join(dir, relDir), { withFileTypes: true });
  } catch {
    continue;
  }
  const own = entries.some((e) => e.name === ".gitignore" && e.isFile()) ? readIgnore(relDir) : [];
  const rules = own.length ? inherited.concat(own) : inherited;
  for (const e of entries) {
    const rel = `${relDir}/${e.name}`;
    if (isIgnored(rel, e.name, e.isDirectory(), rules) || e.name === ".gitignore") {
      for (let d = relDir; d !== "." && d !== ""; d = path.posix.dirname(d)) holdsIgnored.add(d);
      continue;
    }
    if (e.isDirectory()) stack.push({ rel, rules });
    else if (e.isSymbolicLink()) links.push(rel);
    else if (e.isFile()) pool.push(rel);
  }
}
pool.sort();
links.sort();

/** Removes and returns pool[i] in O(1) (the last entry takes its place). */
const takeAt = (i) => {
  const p = pool[i];
  pool[i] = pool[pool.length - 1];
  pool.pop();
  return p;
};
const take = () => takeAt(int(pool.length));
const abs = (rel) => path.join(dir, rel);
const under = (rel, folder) => rel.startsWith(`${folder}/`);

// ---------------------------------------------------------------- choose the targets

// The folder to rename: the parent of a deepest file, below src/ and holding no ignored entry.
let maxDepth = 0;
for (const p of pool) {
  const depth = p.split("/").length;
  if (depth > maxDepth && !holdsIgnored.has(path.posix.dirname(p))) maxDepth = depth;
}
const leafCandidates = pool.filter((p) => p.split("/").length === maxDepth && maxDepth > 2 && !holdsIgnored.has(path.posix.dirname(p)));
const leaf = leafCandidates.length ? path.posix.dirname(leafCandidates[int(leafCandidates.length)]) : null;
if (leaf) {
  // Nothing else touches the renamed folder: its files are out of the pool.
  for (let i = pool.length - 1; i >= 0; i--) if (under(pool[i], leaf)) takeAt(i);
}
const movableLinks = leaf ? links.filter((l) => !under(l, leaf)) : links;

const BINARY = /\.(png|jpe?g|gif|ico|webp|wasm|bin|woff2?|zip|gz|pdf|sqlite)$/i;
const extra = { replacedByDir: null, retargetedLink: null, emptyDirAdded: null, binaryRewritten: null };
const replaceTarget = rand() < 0.5 && pool.length > 1 ? take() : null;
const linkTarget = rand() < 0.5 && movableLinks.length > 0 ? movableLinks[int(movableLinks.length)] : null;
const emptyParent = rand() < 0.5 && pool.length > 0 ? path.posix.dirname(pool[int(pool.length)]) : null;
let binaryTarget = null;
if (rand() < 0.5) {
  const binaries = [];
  for (let i = 0; i < pool.length; i++) if (BINARY.test(pool[i])) binaries.push(i);
  if (binaries.length) binaryTarget = takeAt(binaries[int(binaries.length)]);
}

// ---------------------------------------------------------------- the changes

const done = { modified: 0, deleted: 0, added: 0, renamedDir: null, chmod: null };
for (let i = 0; i < changes; i++) {
  const r = rand();
  if (r < 0.6 && pool.length) {
    const p = take();
    writeFileSync(abs(p), Buffer.concat([readFileSync(abs(p)), Buffer.from(`\n// refactored ${i}\n`)]));
    done.modified++;
  } else if (r < 0.8 && pool.length) {
    rmSync(abs(take()));
    done.deleted++;
  } else {
    const folder = `src/agent-added/n${i % 5}`;
    mkdirSync(abs(folder), { recursive: true });
    let p = `${folder}/new${i}.ts`;
    for (let k = 2; existsSync(abs(p)); k++) p = `${folder}/new${i}-${k}.ts`;
    writeFileSync(abs(p), `export const added${i} = ${i};\n`);
    done.added++;
  }
}

if (pool.length > 0) {
  const p = take();
  const mode = lstatSync(abs(p)).mode & 0o777;
  chmodSync(abs(p), mode & 0o111 ? 0o644 : 0o755);
  done.chmod = p;
}

if (replaceTarget) {
  // `x.ts` becomes the folder `x.ts/` (a kind change on the same path).
  rmSync(abs(replaceTarget));
  mkdirSync(abs(replaceTarget));
  writeFileSync(abs(`${replaceTarget}/index.ts`), `// ${replaceTarget} is a folder now\nexport {};\n`);
  extra.replacedByDir = replaceTarget;
}

if (linkTarget && pool.length > 0) {
  const old = readlinkSync(abs(linkTarget));
  const to = pool[int(pool.length)];
  const target = path.posix.relative(path.posix.dirname(linkTarget), to);
  if (target !== old) {
    rmSync(abs(linkTarget));
    symlinkSync(target, abs(linkTarget));
    extra.retargetedLink = linkTarget;
  }
}

if (emptyParent) {
  let p = `${emptyParent}/agent-empty`;
  for (let k = 2; existsSync(abs(p)); k++) p = `${emptyParent}/agent-empty-${k}`;
  mkdirSync(abs(p));
  extra.emptyDirAdded = p;
}

if (binaryTarget) {
  const old = readFileSync(abs(binaryTarget));
  const size = Math.max(16, old.length + int(256) - 128);
  const words = new Uint32Array(Math.ceil(size / 4));
  for (let i = 0; i < words.length; i++) words[i] = next32();
  const data = Buffer.from(words.buffer, 0, size);
  old.copy(data, 0, 0, Math.min(8, old.length, size)); // keep the format's magic bytes
  data[size >> 1] = 0;
  writeFileSync(abs(binaryTarget), data.equals(old) ? Buffer.concat([data, Buffer.from([0])]) : data);
  extra.binaryRewritten = binaryTarget;
}

if (leaf && !existsSync(abs(`${leaf}-renamed`))) {
  renameSync(abs(leaf), abs(`${leaf}-renamed`));
  done.renamedDir = leaf;
}

console.log(JSON.stringify({ ...done, ...extra }));
