/**
 * scripts/generators/make-tree.mjs and mutate-tree.mjs, run as processes on small trees:
 * deterministic by seed, truthful JSON summaries, the contents they promise, and a
 * mutation that never touches ignored files. What is ignored is decided by git itself
 * (`git check-ignore`), not by the product's scanner nor by the generators.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isIgnoredByDefault } from "./support/workspace";

const GENERATORS = path.resolve(import.meta.dirname, "..", "scripts", "generators");
const FILES = 300;
const MB = 1;

interface MakeSummary {
  dir: string;
  files: number;
  bytes: number;
  extraFiles: string[];
  symlinks: string[];
  emptyDirs: string[];
  ignoredInSrc: string[];
}

interface MutateSummary {
  modified: number;
  deleted: number;
  added: number;
  renamedDir: string | null;
  chmod: string | null;
  replacedByDir: string | null;
  retargetedLink: string | null;
  emptyDirAdded: string | null;
  binaryRewritten: string | null;
}

interface Entry {
  kind: "file" | "dir" | "symlink";
  mode: number;
  size: number;
  ino: number;
  mtimeMs: number;
  sha256?: string;
  target?: string;
}
type Snapshot = Map<string, Entry>;

let temp = "";
let oracleGitDir = "";
let counter = 0;
const freshDir = (label: string) => path.join(temp, `${label}-${++counter}`);

beforeAll(() => {
  temp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "safetynet-generators-")));
  oracleGitDir = path.join(temp, "oracle.git");
  execFileSync("git", ["init", "-q", "--bare", oracleGitDir], { env: gitEnv() });
});
afterAll(() => {
  if (temp) fs.rmSync(temp, { recursive: true, force: true });
});

function makeTree(dir: string, ...args: string[]): MakeSummary {
  return JSON.parse(execFileSync(process.execPath, [path.join(GENERATORS, "make-tree.mjs"), dir, ...args], { encoding: "utf8" })) as MakeSummary;
}

function mutateTree(dir: string, ...args: string[]): MutateSummary {
  return JSON.parse(execFileSync(process.execPath, [path.join(GENERATORS, "mutate-tree.mjs"), dir, ...args], { encoding: "utf8" })) as MutateSummary;
}

/** Every entry under `root` (symlinks not followed), by POSIX relative path. */
function snapshot(root: string): Snapshot {
  const out: Snapshot = new Map();
  const stack = [""];
  while (stack.length > 0) {
    const relDir = stack.pop() as string;
    for (const name of fs.readdirSync(path.join(root, relDir)).sort()) {
      const rel = relDir ? `${relDir}/${name}` : name;
      const abs = path.join(root, rel);
      const st = fs.lstatSync(abs);
      const kind = st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : null;
      if (!kind) throw new Error(`unexpected file type at ${rel}`);
      const entry: Entry = { kind, mode: st.mode & 0o7777, size: st.size, ino: st.ino, mtimeMs: st.mtimeMs };
      if (kind === "file") entry.sha256 = createHash("sha256").update(fs.readFileSync(abs)).digest("hex");
      if (kind === "symlink") entry.target = fs.readlinkSync(abs);
      out.set(rel, entry);
      if (kind === "dir") stack.push(rel);
    }
  }
  return out;
}

/** sha256 over every path, kind, mode (not of symlinks), content and link target, in path order. */
function digest(tree: Snapshot): string {
  const hash = createHash("sha256");
  for (const rel of [...tree.keys()].sort()) {
    const e = tree.get(rel) as Entry;
    hash.update(`${rel}\0${e.kind}\0${e.kind === "symlink" ? "" : e.mode.toString(8)}\0${e.sha256 ?? e.target ?? ""}\n`);
  }
  return hash.digest("hex");
}

function gitEnv(): NodeJS.ProcessEnv {
  // The user's own excludes must not decide what the oracle calls ignored.
  return { ...process.env, HOME: temp || os.tmpdir(), GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
}

/** The paths of `tree` that git ignores under `root` (all .gitignore files), plus .git/ (git never lists it). */
function ignoredBy(root: string, tree: Snapshot): Set<string> {
  const rels = [...tree.keys()];
  const r = spawnSync("git", ["--git-dir", oracleGitDir, "--work-tree", root, "check-ignore", "--no-index", "--stdin", "-z"], {
    input: rels.join("\0") + "\0",
    encoding: "utf8",
    env: gitEnv(),
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0 && r.status !== 1) throw new Error(`git check-ignore failed: ${r.stderr}`);
  const out = new Set(r.stdout.split("\0").filter(Boolean));
  for (const rel of rels) if (rel === ".git" || rel.startsWith(".git/")) out.add(rel);
  return out;
}

const under = (rel: string, folder: string) => rel === folder || rel.startsWith(`${folder}/`);
const TS_IMPORT = /from "(\.{1,2}\/[^"]*)"/g;

describe("make-tree.mjs", () => {
  let a: { dir: string; summary: MakeSummary; tree: Snapshot; ignored: Set<string> };

  beforeAll(() => {
    const dir = freshDir("make");
    const summary = makeTree(dir, "--files", String(FILES), "--mb", String(MB), "--seed", "1");
    const tree = snapshot(dir);
    a = { dir, summary, tree, ignored: ignoredBy(dir, tree) };
  });

  it("gives a byte-identical tree for the same seed and a different one for another seed", () => {
    const again = freshDir("make-again");
    const other = freshDir("make-other");
    const summaryAgain = makeTree(again, "--files", String(FILES), "--mb", String(MB), "--seed", "1");
    makeTree(other, "--files", String(FILES), "--mb", String(MB), "--seed", "2");

    expect(digest(snapshot(again))).toBe(digest(a.tree));
    expect({ ...summaryAgain, dir: a.dir }).toEqual(a.summary);
    expect(digest(snapshot(other))).not.toBe(digest(a.tree));
  });

  it("prints the number and total size of the source files it wrote under src/", () => {
    const { summary, tree, ignored } = a;
    expect(summary).toMatchObject({ dir: a.dir, files: FILES });
    const sources = [...tree].filter(([rel, e]) => e.kind === "file" && rel.startsWith("src/") && !ignored.has(rel) && !summary.extraFiles.includes(rel));
    expect(sources).toHaveLength(FILES);
    expect(sources.reduce((sum, [, e]) => sum + e.size, 0)).toBe(summary.bytes);
    expect(Math.abs(summary.bytes - MB * 1024 * 1024)).toBeLessThan(0.05 * MB * 1024 * 1024);
    // The fixed extras and the ignored generated files are really there, and really what they claim to be.
    for (const rel of summary.extraFiles) expect([tree.get(rel)?.kind, ignored.has(rel)], rel).toEqual(["file", false]);
    for (const rel of summary.ignoredInSrc) expect([tree.get(rel)?.kind, ignored.has(rel)], rel).toEqual(["file", true]);
    expect([...tree].filter(([, e]) => e.kind === "symlink").map(([rel]) => rel).filter((rel) => !ignored.has(rel)).sort()).toEqual([...summary.symlinks].sort());
    for (const rel of summary.emptyDirs) expect(tree.get(rel)?.kind, rel).toBe("dir");
  });

  it("holds what an agent's workspace holds", () => {
    const { dir, tree, ignored } = a;
    const kept = [...tree].filter(([rel]) => !ignored.has(rel));
    const files = kept.filter(([, e]) => e.kind === "file").map(([rel]) => rel);

    // Tests beside their modules.
    const pairs = files.filter((rel) => rel.endsWith(".test.ts") && tree.get(rel.replace(/\.test\.ts$/, ".ts"))?.kind === "file");
    expect(pairs.length).toBeGreaterThanOrEqual(10);

    // Relative imports that resolve to files of the tree.
    let imports = 0;
    for (const rel of files.filter((f) => /\.(tsx?|js)$/.test(f))) {
      for (const match of fs.readFileSync(path.join(dir, rel), "utf8").matchAll(TS_IMPORT)) {
        const base = path.posix.join(path.posix.dirname(rel), match[1] as string);
        const resolved = ["", ".ts", ".tsx", ".js"].map((ext) => base + ext).find((p) => tree.get(p)?.kind === "file");
        expect(resolved, `${rel}: ${match[1]}`).toBeDefined();
        imports++;
      }
    }
    expect(imports).toBeGreaterThanOrEqual(50);

    // A handful of relative symlinks that resolve inside the tree.
    const links = kept.filter(([, e]) => e.kind === "symlink");
    expect(links.length).toBeGreaterThanOrEqual(1);
    expect(links.length).toBeLessThanOrEqual(5);
    for (const [rel, e] of links) {
      expect(path.isAbsolute(e.target as string), rel).toBe(false);
      const resolved = path.resolve(dir, path.dirname(rel), e.target as string);
      expect(resolved.startsWith(`${dir}/`), rel).toBe(true);
      expect(fs.existsSync(resolved), rel).toBe(true);
    }

    // Empty folders, modes 0755 and 0600, binary content, names with spaces and non-ASCII characters.
    const emptyDirs = kept.filter(([rel, e]) => e.kind === "dir" && ![...tree.keys()].some((p) => p.startsWith(`${rel}/`)));
    expect(emptyDirs.length).toBeGreaterThanOrEqual(2);
    const modes = new Set(kept.filter(([, e]) => e.kind === "file").map(([, e]) => e.mode));
    expect([...modes].sort()).toEqual([0o600, 0o644, 0o755]);
    const binaries = files.filter((rel) => fs.readFileSync(path.join(dir, rel)).includes(0));
    expect(binaries.length).toBeGreaterThanOrEqual(2);
    expect(files.some((rel) => path.basename(rel).includes(" "))).toBe(true);
    expect(files.filter((rel) => /[^ -~]/.test(path.basename(rel))).length).toBeGreaterThanOrEqual(2);
    expect(files.some((rel) => tree.get(rel)?.size === 0)).toBe(true);

    // A nested .gitignore that hides generated files next to checkpointed ones.
    expect(tree.get("src/codegen/.gitignore")?.kind).toBe("file");
    const codegen = [...tree.keys()].filter((rel) => rel.startsWith("src/codegen/"));
    expect(codegen.filter((rel) => ignored.has(rel)).length).toBeGreaterThanOrEqual(3);
    expect(codegen.filter((rel) => !ignored.has(rel) && tree.get(rel)?.kind === "file").length).toBeGreaterThanOrEqual(2);

    // The noise a checkpoint skips, and the root .gitignore.
    for (const rel of ["node_modules/dep/index.js", ".git/HEAD", "dist/bundle.js", "debug.log"]) expect([tree.get(rel)?.kind, ignored.has(rel)], rel).toEqual(["file", true]);
    expect(fs.readFileSync(path.join(dir, ".gitignore"), "utf8")).toBe("node_modules/\ndist/\n*.log\n");
  });

  it("agrees with the specs' isIgnoredByDefault on every path", () => {
    const disagree = [...a.tree.keys()].filter((rel) => isIgnoredByDefault(rel) !== a.ignored.has(rel));
    expect(disagree).toEqual([]);
  });
});

describe("mutate-tree.mjs", () => {
  const CHANGES = 60;

  it("is deterministic by seed", () => {
    const runs = ["7", "7", "8"].map((seed) => {
      const dir = freshDir("mutate-det");
      makeTree(dir, "--files", String(FILES), "--mb", String(MB));
      const summary = mutateTree(dir, "--changes", String(CHANGES), "--seed", seed);
      return { summary, digest: digest(snapshot(dir)) };
    });
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]?.digest).not.toBe(runs[0]?.digest);
  });

  it("changes only checkpointed paths, and its summary says exactly what changed on disk", () => {
    const seen = { replacedByDir: 0, retargetedLink: 0, emptyDirAdded: 0, binaryRewritten: 0 };
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const dir = freshDir(`mutate-${seed}`);
      makeTree(dir, "--files", String(FILES), "--mb", String(MB), "--seed", String(seed));
      const before = snapshot(dir);
      const ignoredBefore = ignoredBy(dir, before);
      const s = mutateTree(dir, "--changes", String(CHANGES), "--seed", String(seed));
      const after = snapshot(dir);
      const ignoredAfter = ignoredBy(dir, after);
      const at = `seed ${seed}: ${JSON.stringify(s)}`;

      expect(Object.keys(s).sort(), at).toEqual(["added", "binaryRewritten", "chmod", "deleted", "emptyDirAdded", "modified", "renamedDir", "replacedByDir", "retargetedLink"]);
      expect(s.modified + s.deleted + s.added, at).toBe(CHANGES);
      for (const key of Object.keys(seen) as (keyof typeof seen)[]) if (s[key] !== null) seen[key]++;

      // Ignored entries: the same set, untouched (same bytes, mode, inode and mtime).
      expect([...ignoredAfter].sort(), at).toEqual([...ignoredBefore].sort());
      for (const rel of ignoredBefore) expect(after.get(rel), `${at} ${rel}`).toEqual(before.get(rel));

      // The checkpointed entries, the renamed folder's content mapped to its new name.
      const renamed = s.renamedDir;
      expect(renamed, at).not.toBeNull();
      expect(before.get(renamed as string)?.kind, at).toBe("dir");
      expect(after.has(renamed as string), at).toBe(false);
      expect(after.get(`${renamed}-renamed`)?.kind, at).toBe("dir");
      const moved = (rel: string) => (under(rel, renamed as string) ? `${renamed}-renamed${rel.slice((renamed as string).length)}` : rel);
      const was = new Map([...before].filter(([rel]) => !ignoredBefore.has(rel)).map(([rel, e]) => [moved(rel), e]));
      const now = new Map([...after].filter(([rel]) => !ignoredAfter.has(rel)));

      const modified: string[] = [];
      const deleted: string[] = [];
      const kindChanged: string[] = [];
      const modeChanged: string[] = [];
      const linkChanged: string[] = [];
      const addedFiles: string[] = [];
      const addedDirs: string[] = [];
      const unexplained: string[] = [];
      for (const [rel, b] of was) {
        const n = now.get(rel);
        if (!n) {
          (b.kind === "file" ? deleted : unexplained).push(rel);
          continue;
        }
        if (n.kind !== b.kind) {
          kindChanged.push(rel);
          continue;
        }
        if (n.sha256 !== b.sha256) modified.push(rel);
        if (n.target !== b.target) linkChanged.push(rel);
        if (n.kind !== "symlink" && n.mode !== b.mode) modeChanged.push(rel);
      }
      for (const [rel, n] of now) if (!was.has(rel)) (n.kind === "file" ? addedFiles : n.kind === "dir" ? addedDirs : unexplained).push(rel);

      expect(unexplained, at).toEqual([]);
      expect(modified.length, at).toBe(s.modified + (s.binaryRewritten ? 1 : 0));
      if (s.binaryRewritten) {
        expect(modified, at).toContain(s.binaryRewritten);
        expect(fs.readFileSync(path.join(dir, s.binaryRewritten)).includes(0), at).toBe(true);
      }
      expect(deleted.length, at).toBe(s.deleted);
      expect(addedFiles.filter((rel) => rel.startsWith("src/agent-added/")).length, at).toBe(s.added);
      expect(addedFiles.filter((rel) => !rel.startsWith("src/agent-added/")), at).toEqual(s.replacedByDir ? [`${s.replacedByDir}/index.ts`] : []);
      expect(kindChanged, at).toEqual(s.replacedByDir ? [s.replacedByDir] : []);
      expect(modeChanged, at).toEqual([s.chmod]);
      expect(linkChanged, at).toEqual(s.retargetedLink ? [s.retargetedLink] : []);
      const expectedNewDirs = (d: string) => under(d, "src/agent-added") || d === s.emptyDirAdded;
      expect(addedDirs.filter((d) => !expectedNewDirs(d)), at).toEqual([]);
      if (s.emptyDirAdded) {
        expect(addedDirs, at).toContain(s.emptyDirAdded);
        expect(fs.readdirSync(path.join(dir, s.emptyDirAdded)), at).toEqual([]);
      }
    }
    // Over these seeds, each of the rarer moves happened at least once.
    for (const [move, count] of Object.entries(seen)) expect(count, move).toBeGreaterThan(0);
  });
});
