#!/usr/bin/env node
// Deterministic agent-workspace generator for the benchmark and the tests.
// Usage: make-tree.mjs DIR [--files N] [--mb TOTAL_MB] [--seed S] [--big-mb M]
// Prints {dir, files, bytes, ...}: `files` and `bytes` are the N source files written
// under src/ and their total size (plus the --big-mb file). Same arguments -> same tree:
// same paths, bytes, modes and link targets (the umask is fixed at 022).
//
// What the tree holds:
// - src/: exactly N source files in nested folders, sizes from a Pareto-like tail
//   normalised to TOTAL_MB, realistic extensions (.ts .tsx .js .json .md .py .css .yml .go),
//   `x.test.ts` beside many `x.ts`, TS/JS files whose relative `import ... from "./other"`
//   lines point at files that exist. Among the N, at fixed positions (all of them once
//   N >= 12): 2 shell scripts (mode 0755), 2 credentials files (mode 0600), 3 binary files
//   (random bytes with NUL), 4 names with spaces and/or non-ASCII characters, 1 empty file.
// - Fixed extras: 3 relative symlinks pointing inside src/ (two to files, one to a
//   folder), 3 empty directories (one a chain with no file below), and src/codegen/
//   with 2 checkpointed files (.gitignore, config.ts) and 4 files that nested
//   .gitignore ignores (*.generated.ts, out/). So src/ holds N + 2 + 4 regular files.
// - Noise a checkpoint must skip: node_modules/ (with a .bin symlink), .git/, dist/,
//   debug.log and the root .gitignore `node_modules/\ndist/\n*.log\n`.
// - --big-mb M: one random M MB file at assets/model.bin, written in 4 MB chunks.
// Files are written one by one from a small seeded corpus: memory does not grow with the
// tree's bytes (about 140 MB peak RSS for 250,000 files / 2 GB, 80 MB for 10,000 / 100 MB).
import { chmodSync, closeSync, mkdirSync, openSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import path from "node:path";
import { parseGeneratorArgs, seededRandom } from "./generator-cli.mjs";

const { dir, opt } = parseGeneratorArgs("make-tree", "make-tree.mjs DIR [--files N] [--mb TOTAL_MB] [--seed S] [--big-mb M]");
const files = Math.floor(opt("files", 10000));
const totalBytes = Math.floor(opt("mb", 100) * 1024 * 1024);
const bigBytes = Math.floor(opt("big-mb", 0) * 1024 * 1024);
process.umask(0o022);

const { next32, rand, int } = seededRandom(opt("seed", 1));
const pickOf = (list) => list[int(list.length)];

// ---------------------------------------------------------------- content

const IDENTS = "user session token config cache result value items options request response handler state store query schema event payload record entry index count limit offset buffer stream parser client server route".split(" ");
const TYPES = "string|number|boolean|User|Session|Config|Result<T>|Record<string, unknown>|Promise<void>|readonly string[]".split("|");
const WORDS = "the a checkpoint agent rollback file folder change before after every when which keeps returns reads writes only never always first last retry timeout cache index stream queue".split(" ");
const sentence = (n) => Array.from({ length: n }, () => pickOf(WORDS)).join(" ");

const LINE_MAKERS = {
  js: () => {
    const a = pickOf(IDENTS), b = pickOf(IDENTS), c = pickOf(IDENTS);
    switch (int(9)) {
      case 0: return `export function ${a}${c.length}(${b}: ${pickOf(TYPES)}): ${pickOf(TYPES)} {\n`;
      case 1: return `  const ${a} = ${b}.${c}(${int(1000)});\n`;
      case 2: return `  if (${a} === undefined) return ${b};\n`;
      case 3: return `  return ${a}.map((${b}) => ${b}.${c});\n`;
      case 4: return "}\n\n";
      case 5: return `// ${sentence(4 + int(8))}\n`;
      case 6: return `  await ${a}.${c}("${b}-${int(100)}");\n`;
      case 7: return `export interface ${a[0].toUpperCase()}${a.slice(1)}${int(50)} { ${b}: ${pickOf(TYPES)}; ${c}?: ${pickOf(TYPES)} }\n`;
      default: return `  ${a}.${b} = ${c} ?? ${int(10)};\n`;
    }
  },
  py: () => {
    const a = pickOf(IDENTS), b = pickOf(IDENTS);
    switch (int(6)) {
      case 0: return `def ${a}_${b}(${b}, *, limit=${int(100)}):\n`;
      case 1: return `    ${a} = ${b}.get("${a}", None)\n`;
      case 2: return `    if ${a} is None:\n        return ${b}\n`;
      case 3: return `# ${sentence(3 + int(8))}\n`;
      case 4: return `class ${a[0].toUpperCase()}${a.slice(1)}${int(50)}:\n    """${sentence(6)}"""\n`;
      default: return `    return [${b} for ${b} in ${a} if ${b}]\n`;
    }
  },
  md: () => (int(6) === 0 ? `\n## ${sentence(3)}\n\n` : `${sentence(6 + int(14))}.\n`),
  json: () => `  "${pickOf(IDENTS)}${int(100)}": ${pickOf([`"${pickOf(WORDS)}"`, String(int(10000)), "true", "null", `["${pickOf(IDENTS)}"]`])},\n`,
  css: () => (int(4) === 0 ? `}\n.${pickOf(IDENTS)}-${int(50)} {\n` : `  ${pickOf(["margin", "padding", "color", "display", "gap"])}: ${int(32)}px;\n`),
  yml: () => `${"  ".repeat(int(3))}${pickOf(IDENTS)}: ${pickOf(WORDS)}-${int(100)}\n`,
  go: () => (int(5) === 0 ? `func ${pickOf(IDENTS)}${int(50)}(${pickOf(IDENTS)} string) error {\n` : `\t${pickOf(IDENTS)} := ${pickOf(IDENTS)}.${pickOf(IDENTS)}(${int(100)})\n`),
  sh: () => `${pickOf(["echo", "test -f", "mkdir -p", "rm -f"])} "$${pickOf(IDENTS).toUpperCase()}/${pickOf(IDENTS)}"\n`,
};

// One ~128 KB corpus per family; file bodies are line-aligned slices of it, so
// generating 2 GB costs memory copies, not 2 GB of random words.
const CORPUS_BYTES = 128 * 1024;
const corpus = {};
for (const family of Object.keys(LINE_MAKERS)) {
  const parts = [];
  let n = 0;
  while (n < CORPUS_BYTES) {
    const l = LINE_MAKERS[family]();
    parts.push(l);
    n += Buffer.byteLength(l);
  }
  corpus[family] = Buffer.from(parts.join(""));
}

/** `size` bytes: `head` (cut if it does not fit), then line-aligned slices of the family's corpus. */
function textContent(family, head, size) {
  const out = Buffer.allocUnsafe(size);
  let n = out.write(head.slice(0, size), 0);
  const src = corpus[family];
  while (n < size) {
    let from = int(src.length);
    const nl = src.indexOf(10, from);
    from = nl < 0 ? 0 : nl + 1;
    const len = Math.min(size - n, 256 + int(8192), src.length - from);
    n += src.copy(out, n, from, from + len);
  }
  return out;
}

/** `size` random bytes after `magic` (cut to size); always holds a NUL byte. */
function binaryContent(magic, size) {
  const words = new Uint32Array(Math.ceil(size / 4));
  for (let i = 0; i < words.length; i++) words[i] = next32();
  const out = Buffer.from(words.buffer, 0, size);
  magic.copy(out, 0, 0, Math.min(magic.length, size));
  if (size > 0) out[Math.min(size - 1, magic.length + (size >> 1))] = 0;
  return out;
}

// ---------------------------------------------------------------- layout

const madeDirs = new Set();
const ensureDir = (abs) => {
  if (madeDirs.has(abs)) return;
  mkdirSync(abs, { recursive: true });
  madeDirs.add(abs);
};
const write = (rel, data, mode) => {
  const abs = path.join(dir, rel);
  ensureDir(path.dirname(abs));
  writeFileSync(abs, data);
  if (mode !== undefined) chmodSync(abs, mode);
};
/** A relative import specifier from the folder `fromDir` to `target` (extension dropped). */
const importSpec = (fromDir, target) => {
  const rel = path.posix.relative(fromDir, target.replace(/\.(tsx?|js)$/, ""));
  return rel.startsWith(".") ? rel : `./${rel}`;
};

const FOLDERS = "api app auth components core db hooks lib models routes services store ui utils views workers".split(" ");
const EXTS = [
  [".ts", 34, "js"],
  [".tsx", 12, "js"],
  [".js", 8, "js"],
  [".json", 8, "json"],
  [".md", 8, "md"],
  [".py", 10, "py"],
  [".css", 6, "css"],
  [".yml", 6, "yml"],
  [".go", 8, "go"],
];
const EXT_TOTAL = EXTS.reduce((s, e) => s + e[1], 0);
const pickExt = () => {
  let r = rand() * EXT_TOTAL;
  for (const e of EXTS) if ((r -= e[1]) < 0) return e;
  return EXTS[0];
};

// Special files among the N, at fixed positions spread over the sequence.
const ROLES = [
  { name: (i) => `build-${i}.sh`, family: "sh", head: "#!/bin/sh\nset -eu\n", mode: 0o755 },
  { name: (i) => `credentials-${i}.json`, family: "json", head: '{\n  "token": "not-a-real-secret",\n', mode: 0o600 },
  { name: (i) => `logo-${i}.png`, binary: Buffer.from("89504e470d0a1a0a0000000d49484452", "hex") },
  { name: (i) => `Meeting notes ${i}.md`, family: "md", head: "# Meeting notes\n\n" },
  { name: (i) => `café-${i}.ts`, family: "js", head: "// café: a non-ASCII name\n" },
  { name: (i) => `module-${i}.wasm`, binary: Buffer.from("0061736d01000000", "hex") },
  { name: (i) => `release-${i}.sh`, family: "sh", head: "#!/usr/bin/env bash\n", mode: 0o755 },
  { name: (i) => `日本語-${i}.md`, family: "md", head: "# 日本語のメモ\n\n" },
  { name: (i) => `deploy-key-${i}.pem`, family: "md", head: "-----BEGIN OPENSSH PRIVATE KEY-----\n", mode: 0o600 },
  { name: (i) => `data-${i}.bin`, binary: Buffer.alloc(0) },
  { name: (i) => `Ünïcödé dätä ${i}.json`, family: "json", head: "{\n" },
  { name: () => "__init__.py", empty: true },
];
const roleAt = new Map();
for (let k = 0; k < ROLES.length; k++) {
  const i = Math.floor(((k + 0.5) * files) / ROLES.length);
  if (i < files && !roleAt.has(i)) roleAt.set(i, ROLES[k]);
}

// Size distribution: weights from a Pareto-like tail, normalised to totalBytes.
const weights = new Float64Array(files);
let weightSum = 0;
for (let i = 0; i < files; i++) {
  weights[i] = 1 / Math.pow(1 - rand() * 0.999, 0.9);
  weightSum += weights[i];
}
const sizeOf = (i) => Math.max(16, Math.floor((weights[i] / weightSum) * totalBytes));

// ---------------------------------------------------------------- src/

let written = 0;
const recentModules = []; // up to 64 recent plain .ts/.tsx/.js modules: import targets that exist
const lastInFolder = new Map(); // folder -> last plain module written there
const anchors = []; // a few written files, for symlink targets and empty folders
const anchorAt = new Set([0, Math.floor(files / 3), Math.floor((2 * files) / 3), files - 1]);
let pendingTest = null; // {folder, stem}: the next file is the test of this module

for (let i = 0; i < files; i++) {
  const role = roleAt.get(i);
  const size = sizeOf(i);
  let rel;
  let data;
  let mode;
  if (pendingTest && !role) {
    const { folder, stem, ext } = pendingTest;
    rel = `${folder}/${stem}.test${ext}`;
    const head = `import { describe, expect, it } from "vitest";\nimport { ${stem.replace(/-/g, "_")} } from "./${stem}";\n\n`;
    data = textContent("js", head, size);
    pendingTest = null;
  } else {
    pendingTest = null;
    const parts = ["src"];
    const depth = 1 + int(4);
    for (let d = 0; d < depth; d++) parts.push(pickOf(FOLDERS));
    const folder = parts.join("/");
    if (role) {
      rel = `${folder}/${role.name(i)}`;
      mode = role.mode;
      data = role.empty ? Buffer.alloc(0) : role.binary ? binaryContent(role.binary, size) : textContent(role.family, role.head, size);
    } else {
      const [ext, , family] = pickExt();
      const stem = `${pickOf(IDENTS)}-${pickOf(IDENTS)}-${i}`;
      rel = `${folder}/${stem}${ext}`;
      let head = `// ${rel}\n`;
      if (family === "js") {
        // Imports of modules that exist: the last one in this folder, and up to two recent ones elsewhere.
        const targets = [];
        const local = lastInFolder.get(folder);
        if (local) targets.push(local);
        const extra = recentModules.length ? int(3) : 0;
        for (let k = 0; k < extra; k++) {
          const t = recentModules[int(recentModules.length)];
          if (!targets.includes(t)) targets.push(t);
        }
        for (const t of targets) head += `import { ${pickOf(IDENTS)} } from "${importSpec(folder, t)}";\n`;
        head += "\n";
        // Imports must stay whole: without room for them, the file holds only its path comment.
        if (head.length > size) head = `// ${rel}\n`;
        lastInFolder.set(folder, rel);
        recentModules.push(rel);
        if (recentModules.length > 64) recentModules.shift();
        if (ext === ".ts" && rand() < 0.4) pendingTest = { folder, stem, ext };
      }
      data = textContent(family, head, size);
    }
  }
  write(rel, data, mode);
  written += data.length;
  if (anchorAt.has(i)) anchors.push(rel);
}

// Fixed extras: symlinks (relative, inside src/) and empty directories.
const symlinks = [];
const link = (rel, target) => {
  const abs = path.join(dir, rel);
  ensureDir(path.dirname(abs));
  symlinkSync(target, abs);
  symlinks.push(rel);
};
const emptyDirs = [];
const emptyDir = (rel) => {
  mkdirSync(path.join(dir, rel), { recursive: true });
  emptyDirs.push(rel);
};
if (anchors.length > 0) {
  const first = anchors[0];
  const last = anchors[anchors.length - 1];
  const middle = anchors[Math.floor(anchors.length / 2)];
  link("src/main.link", path.posix.relative("src", first));
  link(`${path.posix.dirname(last)}/shared.link`, path.posix.relative(path.posix.dirname(last), middle));
  // A link to a folder that is not one of its ancestors (a walker that follows it does not loop).
  link("src/latest", path.posix.relative("src", path.posix.dirname(middle)));
  emptyDir(`${path.posix.dirname(first)}/__fixtures__`);
  emptyDir(`${path.posix.dirname(last)}/fonts`);
}
emptyDir("src/scratch/cache/empty");

// src/codegen/: a nested .gitignore hiding generated files next to checkpointed ones.
write("src/codegen/.gitignore", "# regenerated by `npm run codegen`\n*.generated.ts\nout/\n");
write("src/codegen/config.ts", textContent("js", 'export const codegen = { out: "out", suffix: ".generated.ts" };\n', 600));
const ignoredInSrc = ["src/codegen/schema.generated.ts", "src/codegen/routes.generated.ts", "src/codegen/out/client.js", "src/codegen/out/client.js.map"];
for (const rel of ignoredInSrc) write(rel, textContent(rel.endsWith(".map") ? "json" : "js", `// generated: ${rel}\n`, 2048));

// One big binary file, written in chunks.
if (bigBytes > 0) {
  const abs = path.join(dir, "assets", "model.bin");
  ensureDir(path.dirname(abs));
  const fd = openSync(abs, "w");
  try {
    const CHUNK = 4 * 1024 * 1024;
    for (let done = 0; done < bigBytes; done += CHUNK) writeSync(fd, binaryContent(Buffer.alloc(0), Math.min(CHUNK, bigBytes - done)));
  } finally {
    closeSync(fd);
  }
  written += bigBytes;
}

// Noise a checkpoint is expected to skip by default.
write("node_modules/dep/index.js", textContent("js", "module.exports = {};\n", 4096));
write("node_modules/dep/package.json", '{ "name": "dep", "version": "1.0.0", "main": "index.js" }\n');
ensureDir(path.join(dir, "node_modules", ".bin"));
symlinkSync("../dep/index.js", path.join(dir, "node_modules", ".bin", "dep"));
write(".git/HEAD", "ref: refs/heads/main\n");
write(".gitignore", "node_modules/\ndist/\n*.log\n");
write("dist/bundle.js", textContent("js", "", 8192));
write("debug.log", "log line\n");

console.log(
  JSON.stringify({
    dir,
    files,
    bytes: written,
    extraFiles: ["src/codegen/.gitignore", "src/codegen/config.ts"],
    symlinks,
    emptyDirs,
    ignoredInSrc,
  }),
);
