/**
 * Related-file discovery (FR-001): given the primary paths of a checkpoint, find the
 * files an agent is likely to touch with them — their tests (in the layouts real
 * projects use: beside the file, in `__tests__/`, `test/` or `tests/` folders from
 * the file's folder up to the root, mirroring its package path, Maven/Gradle's
 * `src/test/...` for `src/main/...`), same-stem siblings, the files they import (TS/JS
 * relative imports, Python relative and absolute imports), up to `depth` hops, and
 * the files that import them (reverse imports, bounded: see MAX_IMPORTER_FILES).
 * Regex-based (no parser): cheap, good enough, and a false positive only adds a file.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import path from "node:path";
import type { InclusionReason } from "../checkpoints/manifest-types";
import { normalizeRelativePath } from "./paths";
import { fsPath } from "../byte-paths";

/** Bytes read per file when looking for imports. */
export const MAX_SOURCE_BYTES = 1024 * 1024;
/**
 * Reverse imports: at most this many files are read to find those importing a
 * primary (tests first, then the files nearest a primary), each only up to
 * IMPORTER_SOURCE_BYTES (imports sit at the top of a file).
 */
export const MAX_IMPORTER_FILES = 2_000;
export const IMPORTER_SOURCE_BYTES = 64 * 1024;

/** Folders tests live in, looked for in the file's folder and every folder above it up to the root. */
const TEST_DIR_NAMES = ["__tests__", "tests", "test"] as const;
/** Leading source folders a test tree does not repeat (`src/flask/app.py` is tested in `tests/flask/` or `tests/`). */
const SOURCE_ROOT_NAMES = new Set(["src", "lib"]);
/** Maven/Gradle: `<module>/src/main/<language>/<package>/X.java` is tested in `<module>/src/test/<language>/<package>/`. */
const JVM_MAIN = /(^|\/)src\/main\/([^/]+)\//;
const JVM_LANGUAGES: Record<string, string[]> = { java: ["java", "kotlin"], kotlin: ["kotlin", "java"] };
const JVM_TEST_SUFFIXES = ["Test", "Tests", "IT", "Spec"];
/** Python absolute imports resolve from these folders (and the importing file's own). */
const PYTHON_IMPORT_ROOTS = ["", "src"];

const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

const JS_EXTS = new Set([".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".vue", ".svelte"]);
const PY_EXTS = new Set([".py", ".pyi"]);

/** Extensions tried, in order, for an extensionless TS/JS specifier (and for `/index`). */
const RESOLVE_EXTS = [".ts", ".tsx", ".d.ts", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".json"];
/** TypeScript's output-to-source mapping: `./y.js` may name `y.ts`. */
const TS_SOURCE_FOR: Record<string, string[]> = {
  ".js": [".ts", ".tsx", ".d.ts"],
  ".jsx": [".tsx"],
  ".mjs": [".mts", ".d.mts"],
  ".cjs": [".cts", ".d.cts"],
};

// `from '…'` covers `import … from`, `import type … from`, `export … from` (multi-line
// bodies included, since only the `from` clause is matched).
const JS_IMPORT_PATTERNS: RegExp[] = [
  /\bfrom\s*(["'])([^"'\n]+)\1/g,
  /\bimport\s*(["'])([^"'\n]+)\1/g,
  /\bimport\s*\(\s*(["'`])([^"'`\n$]+)\1/g,
  /\brequire\s*\(\s*(["'`])([^"'`\n$]+)\1/g,
];
// `from .x import a`, `from .. import (a,\n b)`, `from . import a, \\\n b`
const PY_FROM_IMPORT = /^[ \t]*from[ \t]+(\.+)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|(?:[^\n\\]|\\\r?\n)*)/gm;
// `from flask.helpers import a`, `from flask import helpers`
const PY_FROM_ABSOLUTE_IMPORT = /^[ \t]*from[ \t]+(\w[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|(?:[^\n\\]|\\\r?\n)*)/gm;
// `import flask.helpers`, `import a.b as c, d`
const PY_IMPORT = /^[ \t]*import[ \t]+([\w.]+(?:[ \t]+as[ \t]+\w+)?(?:[ \t]*,[ \t]*[\w.]+(?:[ \t]+as[ \t]+\w+)?)*)/gm;

/** Paths known to be files of the component (a Set of them will do). */
export interface PathSet {
  has(path: string): boolean;
}

/**
 * The component's files as related-file discovery asks for them: whether a path is
 * one, which are in a folder, and which files might import a primary. `candidatesFromSet`
 * answers from a whole scan; related-candidates.ts from the disk, bounded.
 */
export interface RelatedCandidates extends PathSet {
  /** Names of the files directly in `dir` ("" = root); empty when there is no such folder. */
  filesIn(dir: string): readonly string[];
  /**
   * Files of the languages `wanted` accepts (by extension) that might import a
   * primary, in the order to read them (tests first, then nearest a primary), at most `limit`.
   */
  importerPool(wanted: (ext: string) => boolean, primaries: readonly string[], limit: number): string[];
}

export function candidatesFromSet(files: ReadonlySet<string>): RelatedCandidates {
  const index = indexByDir(files);
  return {
    has: (p) => files.has(p),
    filesIn: (dir) => index.get(dir) ?? [],
    importerPool: (wanted, primaries, limit) => orderImporters([...files].filter((p) => wanted(extOf(p))), primaries).slice(0, limit),
  };
}

/** Importer candidates in reading order: tests first, then by folders shared with a primary, then by path (primaries left out). */
export function orderImporters(paths: readonly string[], primaries: readonly string[]): string[] {
  const skip = new Set(primaries);
  const keyed = paths
    .filter((p) => !skip.has(p))
    .map((p) => {
      let near = 0;
      for (const primary of primaries) near = Math.max(near, sharedFolders(p, primary));
      return { path: p, test: isTestPath(p), near };
    });
  keyed.sort((a, b) => Number(b.test) - Number(a.test) || b.near - a.near || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return keyed.map((k) => k.path);
}

export function isLanguageWithImports(ext: string): boolean {
  return JS_EXTS.has(ext) || PY_EXTS.has(ext);
}

const REASON_RANK: Record<InclusionReason, number> = { primary: 0, "related-test": 1, sibling: 2, "related-import": 3 };

/**
 * Returns `primaries → "primary"` plus, for each primary that is a FILE (listed in
 * `candidates`): its tests → "related-test", same-stem siblings → "sibling", and the
 * targets of relative imports → "related-import", following imports of imports up to
 * `depth` hops (0 = no imports). Tests and siblings are found only for primaries.
 * Only paths in `candidates` (all scanned file paths, relative) are returned; files
 * under a primary directory are left to the caller (they are primary). The strongest
 * reason wins: primary > related-test > sibling > related-import.
 */
export function discoverRelated(
  root: string,
  files: ReadonlySet<string> | RelatedCandidates,
  primaries: string[],
  depth = 1,
): Map<string, InclusionReason> {
  const candidates: RelatedCandidates = "filesIn" in files ? files : candidatesFromSet(files);
  const result = new Map<string, InclusionReason>();
  const primaryFiles: string[] = [];
  const primaryDirs = new Set<string>();
  for (const raw of primaries) {
    const p = normalizeRelativePath(raw);
    result.set(p, "primary");
    if (candidates.has(p)) primaryFiles.push(p);
    else primaryDirs.add(p);
  }
  if (primaryFiles.length === 0) return result;
  if (primaryDirs.has("")) return result; // the whole component is primary

  const add = (p: string, reason: InclusionReason): void => {
    const existing = result.get(p);
    if (existing !== undefined && REASON_RANK[existing] <= REASON_RANK[reason]) return;
    if (underDir(p, primaryDirs)) return;
    result.set(p, reason);
  };

  const index = candidates;

  // Tests first (for all primaries), then siblings: the order makes the stronger reason win.
  for (const file of primaryFiles) for (const t of findTests(file, index)) add(t, "related-test");
  for (const file of primaryFiles) for (const s of findSiblings(file, index)) add(s, "sibling");

  const rootAbs = path.resolve(root);
  // The files importing a primary (one hop, as imports are at depth 1).
  if (depth > 0) for (const [importer, reason] of findImporters(rootAbs, primaryFiles, candidates)) add(importer, reason);
  const expanded = new Set<string>();
  let frontier = primaryFiles;
  for (let hop = 0; hop < depth && frontier.length > 0; hop++) {
    const next: string[] = [];
    for (const file of frontier) {
      if (expanded.has(file)) continue;
      expanded.add(file);
      for (const target of importTargets(rootAbs, file, candidates)) {
        add(target, "related-import");
        if (!expanded.has(target)) next.push(target);
      }
    }
    frontier = next;
  }
  return result;
}

function underDir(p: string, dirs: ReadonlySet<string>): boolean {
  if (dirs.size === 0) return false;
  for (let i = p.indexOf("/"); i >= 0; i = p.indexOf("/", i + 1)) {
    if (dirs.has(p.slice(0, i))) return true;
  }
  return false;
}

/** dir ("" = root) → names of candidate files directly in it. */
function indexByDir(candidates: Iterable<string>): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const p of candidates) {
    const [dir, name] = splitPath(p);
    const list = index.get(dir);
    if (list) list.push(name);
    else index.set(dir, [name]);
  }
  return index;
}

function splitPath(p: string): [dir: string, name: string] {
  const slash = p.lastIndexOf("/");
  return slash < 0 ? ["", p] : [p.slice(0, slash), p.slice(slash + 1)];
}

function joinRel(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

/** `a.service.ts` → `a.service`; `Makefile` → `Makefile`; `.env` → `.env`. */
function stemOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

function isTestNameFor(name: string, stem: string): boolean {
  return (
    name.startsWith(`${stem}.test.`) ||
    name.startsWith(`${stem}.spec.`) ||
    name.startsWith(`${stem}_test.`) ||
    name.startsWith(`test_${stem}.`)
  );
}

/** Names that look like a test of anything (so they are not counted as siblings). */
function looksLikeTest(name: string, stem: string): boolean {
  const rest = name.slice(stem.length);
  return rest.startsWith(".test.") || rest.startsWith(".spec.") || rest.startsWith("_test.");
}

function findTests(file: string, index: RelatedCandidates): string[] {
  const [dir, name] = splitPath(file);
  const stem = stemOf(name);
  const out = new Set<string>();
  const look = (testDir: string, anyOfStem: boolean) => {
    for (const n of index.filesIn(testDir)) {
      if (testDir === dir && n === name) continue;
      if (isTestNameFor(n, stem) || (anyOfStem && n.startsWith(`${stem}.`))) out.add(joinRel(testDir, n));
    }
  };
  look(dir, false);
  // Test folders in the file's folder and every folder above it, and the folders in them that
  // repeat the file's path from there (without a leading src/ or lib/), or its end:
  // src/flask/app.py -> tests/, tests/flask/, src/tests/, src/flask/tests/ ...
  const parts = dir === "" ? [] : dir.split("/");
  for (let k = parts.length; k >= 0; k--) {
    const base = parts.slice(0, k).join("/");
    let below = parts.slice(k);
    if (below.length > 0 && SOURCE_ROOT_NAMES.has(below[0] as string)) below = below.slice(1);
    for (const testDirName of TEST_DIR_NAMES) {
      const testRoot = joinRel(base, testDirName);
      for (let j = 0; j <= below.length; j++) {
        const mirrored = below.slice(j).join("/");
        // In a __tests__ folder a test may be named like the file itself (`__tests__/x.ts`).
        look(mirrored === "" ? testRoot : joinRel(testRoot, mirrored), testDirName === "__tests__");
      }
    }
  }
  const jvm = JVM_MAIN.exec(`${dir}/`);
  if (jvm) {
    const module = dir.slice(0, jvm.index + (jvm[1] as string).length);
    const language = jvm[2] as string;
    const packagePath = `${dir}/`.slice(jvm.index + jvm[0].length).replace(/\/$/, "");
    for (const testLanguage of JVM_LANGUAGES[language] ?? [language]) {
      const testDir = joinRel(`${module}src/test/${testLanguage}`, packagePath);
      for (const n of index.filesIn(testDir)) {
        if (JVM_TEST_SUFFIXES.some((suffix) => n.startsWith(`${stem}${suffix}.`))) out.add(joinRel(testDir, n));
      }
    }
  }
  return [...out];
}

/** A test file by its name or by the folder it is in. */
function isTestPath(p: string): boolean {
  const [dir, name] = splitPath(p);
  if (/(^|\/)(__tests__|tests?|spec)(\/|$)/.test(dir) || /(^|\/)src\/test(\/|$)/.test(dir)) return true;
  return /^test_/.test(name) || /[._](test|spec)\.[^.]+$/.test(name) || /(Test|Tests|IT)\.(java|kt)$/.test(name);
}

/** How many leading folders two paths share. */
function sharedFolders(a: string, b: string): number {
  const as = a.split("/");
  const bs = b.split("/");
  let n = 0;
  while (n < as.length - 1 && n < bs.length - 1 && as[n] === bs[n]) n++;
  return n;
}

/**
 * The files whose imports name a primary (resolved as forward imports are): a test
 * among them is a related test, any other file a related import. Only files of the
 * primaries' languages are read, at most MAX_IMPORTER_FILES of them (tests first,
 * then by how many folders they share with a primary, then by path), each up to
 * IMPORTER_SOURCE_BYTES.
 */
function findImporters(rootAbs: string, primaryFiles: readonly string[], candidates: RelatedCandidates): Map<string, InclusionReason> {
  const found = new Map<string, InclusionReason>();
  const wanted = new Set(primaryFiles);
  const js = primaryFiles.some((p) => JS_EXTS.has(extOf(p)));
  const py = primaryFiles.some((p) => PY_EXTS.has(extOf(p)));
  if (!js && !py) return found;
  const pool = candidates.importerPool((ext) => (js && JS_EXTS.has(ext)) || (py && PY_EXTS.has(ext)), primaryFiles, MAX_IMPORTER_FILES);
  // Only whether an import names a primary matters: resolved against the primaries alone, no file is looked up.
  for (const importer of pool.slice(0, MAX_IMPORTER_FILES)) {
    if (wanted.has(importer)) continue;
    if (importTargets(rootAbs, importer, wanted, { maxBytes: IMPORTER_SOURCE_BYTES, pythonAbsolute: true }).length > 0) found.set(importer, isTestPath(importer) ? "related-test" : "related-import");
  }
  return found;
}

function findSiblings(file: string, index: RelatedCandidates): string[] {
  const [dir, name] = splitPath(file);
  const stem = stemOf(name);
  const out: string[] = [];
  for (const n of index.filesIn(dir)) {
    if (n !== name && n.startsWith(`${stem}.`) && !looksLikeTest(n, stem)) out.push(joinRel(dir, n));
  }
  return out;
}

function extOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot).toLowerCase() : "";
}

/**
 * Import targets of `file` that exist in `candidates` (never outside the root).
 * Python absolute imports (`import flask.helpers`) are resolved only with
 * `pythonAbsolute` (finding importers, where the target is known): followed
 * forward, `import os` would take a root `os.py` for the standard library's.
 */
function importTargets(rootAbs: string, file: string, candidates: PathSet, options: { maxBytes?: number; pythonAbsolute?: boolean } = {}): string[] {
  const ext = extOf(file);
  const isJs = JS_EXTS.has(ext);
  const isPy = PY_EXTS.has(ext);
  if (!isJs && !isPy) return [];
  const source = readSource(`${rootAbs}/${file}`, options.maxBytes ?? MAX_SOURCE_BYTES);
  if (source === null) return [];
  const dir = splitPath(file)[0];
  const found = new Set<string>();
  if (isJs) {
    for (const re of JS_IMPORT_PATTERNS) {
      re.lastIndex = 0;
      for (let m = re.exec(source); m !== null; m = re.exec(source)) {
        const target = resolveJsSpecifier(dir, m[2] as string, candidates);
        if (target !== undefined && target !== file) found.add(target);
      }
    }
  } else {
    PY_FROM_IMPORT.lastIndex = 0;
    for (let m = PY_FROM_IMPORT.exec(source); m !== null; m = PY_FROM_IMPORT.exec(source)) {
      for (const target of resolvePythonImport(dir, m[1] as string, m[2] as string, m[3] as string, candidates)) {
        if (target !== file) found.add(target);
      }
    }
    if (!options.pythonAbsolute) return [...found];
    const roots = [...new Set([dir, ...PYTHON_IMPORT_ROOTS])];
    PY_FROM_ABSOLUTE_IMPORT.lastIndex = 0;
    for (let m = PY_FROM_ABSOLUTE_IMPORT.exec(source); m !== null; m = PY_FROM_ABSOLUTE_IMPORT.exec(source)) {
      for (const target of resolvePythonAbsoluteImport(roots, m[1] as string, m[2] as string, candidates)) if (target !== file) found.add(target);
    }
    PY_IMPORT.lastIndex = 0;
    for (let m = PY_IMPORT.exec(source); m !== null; m = PY_IMPORT.exec(source)) {
      for (const clause of (m[1] as string).split(",")) {
        const module = clause.trim().split(/\s+/)[0] ?? "";
        for (const target of resolvePythonAbsoluteImport(roots, module, "", candidates)) if (target !== file) found.add(target);
      }
    }
  }
  return [...found];
}

/**
 * Joins a relative specifier onto `dir` lexically; undefined if it leaves the root.
 * `dir` and the result are root-relative POSIX paths ("" = root).
 */
function joinInside(dir: string, spec: string): string | undefined {
  const parts = dir === "" ? [] : dir.split("/");
  for (const seg of spec.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else {
      parts.push(seg);
    }
  }
  return parts.join("/");
}

/** Resolves `./y`, `../y.js`, `./dir` the way bundlers and TypeScript do; undefined if not a candidate. */
export function resolveJsSpecifier(dir: string, specifier: string, candidates: PathSet): string | undefined {
  let spec = specifier.trim();
  if (!(spec === "." || spec === ".." || spec.startsWith("./") || spec.startsWith("../"))) return undefined;
  const cut = spec.search(/[?#]/);
  if (cut >= 0) spec = spec.slice(0, cut);
  const base = joinInside(dir, spec);
  if (base === undefined) return undefined;
  const tries: string[] = [];
  const dirOnly = spec.endsWith("/") || spec === "." || spec === ".." || spec.endsWith("/.") || spec.endsWith("/..");
  if (base !== "" && !dirOnly) {
    tries.push(base);
    const ext = extOf(base);
    for (const src of TS_SOURCE_FOR[ext] ?? []) tries.push(base.slice(0, -ext.length) + src);
    for (const e of RESOLVE_EXTS) tries.push(base + e);
  }
  for (const e of RESOLVE_EXTS) tries.push(joinRel(base, `index${e}`));
  return tries.find((t) => candidates.has(t));
}

/** Resolves `from <dots><module> import <names>` relative to the importing file's dir. */
export function resolvePythonImport(
  dir: string,
  dots: string,
  module: string,
  names: string,
  candidates: PathSet,
): string[] {
  let base: string | undefined = dir;
  for (let i = 1; i < dots.length; i++) {
    base = joinInside(base, "..");
    if (base === undefined) return [];
  }
  const out: string[] = [];
  const moduleOrPackage = (p: string): string | undefined =>
    [`${p}.py`, `${p}.pyi`, joinRel(p, "__init__.py"), joinRel(p, "__init__.pyi")].find((t) => candidates.has(t));
  const pkg = module === "" ? base : joinRel(base, module.split(".").filter(Boolean).join("/"));
  let allNamesAreModules = true;
  if (module !== "") {
    const target = moduleOrPackage(pkg);
    if (target) out.push(target);
  }
  for (const raw of names.replace(/[()\\]/g, " ").split(",")) {
    const name = raw.trim().split(/\s+/)[0] ?? "";
    if (name === "" || name === "*" || !/^\w+$/.test(name)) continue;
    const sub = moduleOrPackage(joinRel(pkg, name));
    if (sub) out.push(sub);
    else allNamesAreModules = false;
  }
  // `from . import x` where x is defined in the package itself: the package's __init__.
  if (module === "" && !allNamesAreModules) {
    const init = [joinRel(pkg, "__init__.py"), joinRel(pkg, "__init__.pyi")].find((t) => candidates.has(t));
    if (init) out.push(init);
  }
  return out;
}

/**
 * `import a.b` / `from a.b import c, d` inside the component: the module (`a/b.py`,
 * `a/b/__init__.py`) and each imported name that is a module of it (`a/b/c.py`),
 * looked for from each import root in turn (the first that has the module wins).
 */
export function resolvePythonAbsoluteImport(roots: readonly string[], module: string, names: string, candidates: PathSet): string[] {
  if (!/^\w+(\.\w+)*$/.test(module)) return [];
  const moduleOrPackage = (p: string): string | undefined =>
    [`${p}.py`, `${p}.pyi`, joinRel(p, "__init__.py"), joinRel(p, "__init__.pyi")].find((t) => candidates.has(t));
  for (const root of roots) {
    const pkg = joinRel(root, module.split(".").join("/"));
    const target = moduleOrPackage(pkg);
    if (!target) continue;
    const out = [target];
    for (const raw of names.replace(/[()\\]/g, " ").split(",")) {
      const name = raw.trim().split(/\s+/)[0] ?? "";
      if (!/^\w+$/.test(name)) continue;
      const sub = moduleOrPackage(joinRel(pkg, name));
      if (sub) out.push(sub);
    }
    return out;
  }
  return [];
}

/**
 * Reads up to `maxBytes` of a regular file without following a symlink at the
 * final component; null for anything unreadable, not a regular file, or binary.
 */
function readSource(abs: string, maxBytes = MAX_SOURCE_BYTES): string | null {
  let fd: number;
  try {
    fd = openSync(fsPath(abs), OPEN_FLAGS);
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return null;
    const buf = Buffer.allocUnsafe(Math.min(st.size, maxBytes));
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, n);
      if (r === 0) break;
      n += r;
    }
    const data = buf.subarray(0, n);
    if (data.subarray(0, 8000).includes(0)) return null; // binary
    return data.toString("utf8");
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
