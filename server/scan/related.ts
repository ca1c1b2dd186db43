/**
 * Related-file discovery (FR-001): given the primary paths of a checkpoint, find the
 * files an agent is likely to touch with them — their tests, same-stem siblings and
 * the targets of their relative imports (TS/JS and Python), up to `depth` hops.
 * Regex-based (no parser): cheap, good enough, and a false positive only adds a file.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import path from "node:path";
import type { InclusionReason } from "../checkpoints/manifest-types";
import { normalizeRelativePath } from "./paths";
import { fsPath } from "../byte-paths";

/** Bytes read per file when looking for imports. */
export const MAX_SOURCE_BYTES = 1024 * 1024;

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
  candidates: ReadonlySet<string>,
  primaries: string[],
  depth = 1,
): Map<string, InclusionReason> {
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

  const index = indexByDir(candidates);

  // Tests first (for all primaries), then siblings: the order makes the stronger reason win.
  for (const file of primaryFiles) for (const t of findTests(file, index)) add(t, "related-test");
  for (const file of primaryFiles) for (const s of findSiblings(file, index)) add(s, "sibling");

  const rootAbs = path.resolve(root);
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
function indexByDir(candidates: ReadonlySet<string>): Map<string, string[]> {
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

function findTests(file: string, index: Map<string, string[]>): string[] {
  const [dir, name] = splitPath(file);
  const stem = stemOf(name);
  const out: string[] = [];
  for (const n of index.get(dir) ?? []) {
    if (n !== name && isTestNameFor(n, stem)) out.push(joinRel(dir, n));
  }
  // __tests__/x.* (incl. x.test.ts) in the same dir; tests/ and test/ in the same dir or next to it.
  for (const n of index.get(joinRel(dir, "__tests__")) ?? []) {
    if (n.startsWith(`${stem}.`) || isTestNameFor(n, stem)) out.push(joinRel(joinRel(dir, "__tests__"), n));
  }
  const testDirs = [joinRel(dir, "tests"), joinRel(dir, "test")];
  if (dir !== "") {
    const parent = splitPath(dir)[0];
    testDirs.push(joinRel(parent, "tests"), joinRel(parent, "test"));
  }
  for (const td of testDirs) {
    for (const n of index.get(td) ?? []) if (isTestNameFor(n, stem)) out.push(joinRel(td, n));
  }
  return out;
}

function findSiblings(file: string, index: Map<string, string[]>): string[] {
  const [dir, name] = splitPath(file);
  const stem = stemOf(name);
  const out: string[] = [];
  for (const n of index.get(dir) ?? []) {
    if (n !== name && n.startsWith(`${stem}.`) && !looksLikeTest(n, stem)) out.push(joinRel(dir, n));
  }
  return out;
}

function extOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot).toLowerCase() : "";
}

/** Relative-import targets of `file` that exist in `candidates` (never outside the root). */
function importTargets(rootAbs: string, file: string, candidates: ReadonlySet<string>): string[] {
  const ext = extOf(file);
  const isJs = JS_EXTS.has(ext);
  const isPy = PY_EXTS.has(ext);
  if (!isJs && !isPy) return [];
  const source = readSource(`${rootAbs}/${file}`);
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
export function resolveJsSpecifier(dir: string, specifier: string, candidates: ReadonlySet<string>): string | undefined {
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
  candidates: ReadonlySet<string>,
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
 * Reads up to MAX_SOURCE_BYTES of a regular file without following a symlink at the
 * final component; null for anything unreadable, not a regular file, or binary.
 */
function readSource(abs: string): string | null {
  let fd: number;
  try {
    fd = openSync(fsPath(abs), OPEN_FLAGS);
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return null;
    const buf = Buffer.allocUnsafe(Math.min(st.size, MAX_SOURCE_BYTES));
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
