/**
 * What a component scan skips: built-in excludes, extra root-relative excludes (the
 * data dir), `.gitignore` files with git semantics (each applies to its own subtree,
 * deeper files win), and the component's include/exclude globs (picomatch, dot: true).
 *
 * Built to be called for every entry of a large tree: per-directory contexts carry the
 * applicable `.gitignore` chain so no per-entry lookups or allocations are needed.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readFileSync } from "node:fs";
import ignore, { type Ignore } from "ignore";
import picomatch from "picomatch";
import { describeFsError } from "../errors";
import { normalizeRelativePath } from "./paths";
import { fsPath } from "../byte-paths";
import { trackedFilesOf, type TrackedFiles } from "./git-tracked";

/**
 * Directory (and file) names skipped at any depth, but `.git` only at the root: the
 * component's own repository is git's to keep, while a repository nested inside the
 * component (a vendored library, a cloned tool) is content like any other, its
 * history included. A component that wants those out too excludes them with a glob (README).
 */
export const BUILTIN_EXCLUDES: readonly string[] = ["node_modules", ".git", ".next", "dist", ".safetynet"];
/** The built-in name skipped only at the root. */
export const ROOT_ONLY_EXCLUDE = ".git";

/**
 * Inside a nested `.git`: what git writes and renames into place under a lock
 * (`index.lock`, `refs/heads/main.lock`, ...) and its temporary object and pack files
 * (`tmp_obj_*`, `tmp_pack_*`). A checkpoint that held one would bring back a stale lock
 * ("another git process seems to be running") or half a pack; they are never captured
 * and never touched.
 */
export function isNestedGitTransient(relPath: string, base: string): boolean {
  return (base.endsWith(".lock") || base.startsWith("tmp_")) && relPath.includes("/.git/");
}
/**
 * Names Watchman gives the files it creates and deletes at once in a watched root to
 * sync a query (server/scan/watchman.ts): never part of a component, never rolled back.
 */
export const WATCHMAN_COOKIE_PREFIX = ".watchman-cookie-";

export interface IgnoreRulesOptions {
  /** Globs a file or symlink must match to be scanned; default `["**"]`. */
  include?: string[];
  /** Globs that exclude files, symlinks and directories (a dir excluded is not descended). */
  exclude?: string[];
  /** Root-relative paths excluded with their subtree (e.g. the data dir when it lies inside the root). */
  extraExcludes?: string[];
  /**
   * The files git tracks under the root, asked for the first time a `.gitignore`
   * matches something: a tracked file is never gitignored (nor a folder holding
   * one). Default: `git ls-files` (git-tracked.ts); null: `.gitignore` as written.
   */
  trackedFiles?: (() => TrackedFiles) | null;
}

/** One `.gitignore` in the chain that applies to a directory. */
export interface GitignoreFrame {
  readonly ig: Ignore;
  /** Length of `<dir>/` to strip from a root-relative path (0 for the root). */
  readonly prefixLen: number;
  readonly parent: GitignoreFrame | null;
}

/** Opaque per-directory state returned by `enterDir`; pass it back for entries directly inside that dir. */
export interface DirContext {
  readonly relDir: string;
  /** Deepest applicable `.gitignore` first. */
  readonly gitignore: GitignoreFrame | null;
  /** The folder is gitignored, and entered only for the tracked files under it: nothing else in it counts. */
  readonly insideIgnored: boolean;
}

export interface IgnoreRules {
  /**
   * Registers directory `relDir` ("" = root): reads `<absDir>/.gitignore` if present
   * and returns the context for the entries directly inside it. The parent dir must
   * have been entered before (the walker does this naturally); otherwise ancestors
   * are entered on demand. `hasGitignore: false` (the caller saw the listing) skips
   * the read attempt.
   */
  enterDir(relDir: string, absDir?: string, hasGitignore?: boolean): DirContext;
  /**
   * Should directory `relDir` be skipped (and not descended)? `parent` = context of its
   * parent dir, which the caller vouches is not ignored itself (the walker's case).
   * Without `parent` this is a standalone query: ancestor dirs are checked as well.
   */
  isIgnoredDir(relDir: string, parent?: DirContext): boolean;
  /**
   * Should file or symlink `relPath` be skipped? True when excluded by any rule or
   * not matched by the include globs. `parent` as for `isIgnoredDir`.
   */
  isIgnoredFile(relPath: string, parent?: DirContext): boolean;
  /** Does directory `relDir` itself match the include globs? (Always true with the default include.) */
  dirMatchesInclude(relDir: string): boolean;
  /** True when include is the default `**`, i.e. every non-ignored entry is included. */
  readonly includesEverything: boolean;
}

type Matcher = (path: string) => boolean;

const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
const IGNORE_CASE = process.platform === "darwin" || process.platform === "win32";

export function createIgnoreRules(root: string, options: IgnoreRulesOptions = {}): IgnoreRules {
  const rootAbs = root.length > 1 && root.endsWith("/") ? root.slice(0, -1) : root;
  const builtin = new Set(BUILTIN_EXCLUDES);
  const extra = new Set<string>();
  for (const p of options.extraExcludes ?? []) {
    const normalized = normalizeRelativePath(p);
    if (normalized !== "") extra.add(normalized);
  }
  const include = options.include && options.include.length > 0 ? options.include : ["**"];
  const includesEverything = include.some((g) => g === "**" || g === "**/*");
  const includeMatch: Matcher | null = includesEverything ? null : picomatch(include, { dot: true });
  const exclude = options.exclude ?? [];
  const excludeMatch: Matcher | null = exclude.length > 0 ? picomatch(exclude, { dot: true }) : null;

  const contexts = new Map<string, DirContext>();
  const unsafeDirs = new Set<string>();
  const trackedSource = options.trackedFiles === undefined ? () => trackedFilesOf(rootAbs) : options.trackedFiles;
  let tracked: TrackedFiles | null | undefined;
  /** Gitignored folders kept for the tracked files under them. */
  const keptForTracked = new Set<string>();

  function isRealDir(abs: string): boolean {
    try {
      return lstatSync(fsPath(abs), { throwIfNoEntry: false })?.isDirectory() ?? false;
    } catch {
      return false;
    }
  }

  /**
   * Reads `<absDir>/.gitignore` when it is a regular file. Opened with O_NOFOLLOW: a
   * symlinked `.gitignore` could point outside the root, so it is treated as absent.
   */
  function readGitignore(absDir: string): string | null {
    const file = `${absDir === "/" ? "" : absDir}/.gitignore`;
    let fd: number;
    try {
      fd = openSync(fsPath(file), OPEN_FLAGS);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP" || code === "EISDIR" || code === "ENXIO") return null;
      throw describeFsError(error, file);
    }
    try {
      if (!fstatSync(fd).isFile()) return null;
      return readFileSync(fd, "utf8");
    } catch (error) {
      throw describeFsError(error, file);
    } finally {
      closeSync(fd);
    }
  }

  function enterDir(relDir: string, absDir?: string, hasGitignore?: boolean): DirContext {
    const known = contexts.get(relDir);
    if (known) return known;
    let parent: DirContext | null = null;
    if (relDir !== "") {
      const slash = relDir.lastIndexOf("/");
      parent = enterDir(slash < 0 ? "" : relDir.slice(0, slash));
    }
    const abs = absDir ?? (relDir === "" ? rootAbs : `${rootAbs === "/" ? "" : rootAbs}/${relDir}`);
    // Entered on demand (not by the walker): only read .gitignore from a real directory
    // reached without symlinks, so nothing outside the root is ever read.
    const safe =
      relDir === "" || (parent !== null && !unsafeDirs.has(parent.relDir) && (absDir !== undefined || isRealDir(abs)));
    if (!safe) unsafeDirs.add(relDir);
    let frame = parent ? parent.gitignore : null;
    const text = hasGitignore === false || !safe ? null : readGitignore(abs);
    if (text !== null && text.trim() !== "") {
      frame = {
        ig: ignore({ ignorecase: IGNORE_CASE }).add(text),
        prefixLen: relDir === "" ? 0 : relDir.length + 1,
        parent: frame,
      };
    }
    let insideIgnored = parent?.insideIgnored ?? false;
    // The walker asks isIgnoredDir before it enters (absDir given); an on-demand entry asks here.
    if (!insideIgnored && relDir !== "" && parent !== null) {
      insideIgnored = keptForTracked.has(relDir) || (absDir === undefined && parent.gitignore !== null && gitignored(relDir, parent.gitignore, true));
    }
    const ctx: DirContext = { relDir, gitignore: frame, insideIgnored };
    contexts.set(relDir, ctx);
    return ctx;
  }

  function parentContext(relPath: string): DirContext {
    const slash = relPath.lastIndexOf("/");
    const dir = slash < 0 ? "" : relPath.slice(0, slash);
    return contexts.get(dir) ?? enterDir(dir);
  }

  function gitignored(test: string, frame: GitignoreFrame | null, isDir: boolean): boolean {
    for (let f = frame; f !== null; f = f.parent) {
      const sub = f.prefixLen === 0 ? test : test.slice(f.prefixLen);
      const result = f.ig.test(isDir ? `${sub}/` : sub);
      if (result.ignored) return true;
      if (result.unignored) return false;
    }
    return false;
  }

  function baseName(relPath: string): string {
    const slash = relPath.lastIndexOf("/");
    return slash < 0 ? relPath : relPath.slice(slash + 1);
  }

  function isIgnoredCommon(relPath: string, parent: DirContext | undefined, isDir: boolean): boolean {
    const base = baseName(relPath);
    if (builtin.has(base) && (base !== ROOT_ONLY_EXCLUDE || relPath === ROOT_ONLY_EXCLUDE)) return true;
    if (base.startsWith(WATCHMAN_COOKIE_PREFIX)) return true;
    if (!isDir && isNestedGitTransient(relPath, base)) return true;
    if (extra.size > 0 && extra.has(relPath)) return true;
    if (excludeMatch !== null && excludeMatch(relPath)) return true;
    const ctx = parent ?? parentContext(relPath);
    if (!ctx.insideIgnored && (ctx.gitignore === null || !gitignored(relPath, ctx.gitignore, isDir))) return false;
    // Gitignored: unless git tracks it (a folder: unless it holds a tracked file).
    if (tracked === undefined) tracked = trackedSource ? trackedSource() : null;
    if (tracked === null || tracked.files.size === 0) return true;
    if (!isDir) return !tracked.files.has(relPath);
    // A submodule (tracked as one path): its own files are its repository's business, all of them count.
    if (tracked.files.has(relPath)) return false;
    if (!tracked.dirs().has(relPath)) return true;
    keptForTracked.add(relPath);
    return false;
  }

  /** Standalone queries (no context): is some ancestor directory of `relPath` ignored? */
  const dirVerdicts = new Map<string, boolean>();
  function ancestorIgnored(relPath: string): boolean {
    const slash = relPath.lastIndexOf("/");
    if (slash < 0) return false;
    const dir = relPath.slice(0, slash);
    let verdict = dirVerdicts.get(dir);
    if (verdict === undefined) {
      verdict = ancestorIgnored(dir) || isIgnoredCommon(dir, undefined, true);
      dirVerdicts.set(dir, verdict);
    }
    return verdict;
  }

  return {
    enterDir,
    isIgnoredDir(relDir, parent) {
      if (relDir === "") return false;
      if (parent === undefined && ancestorIgnored(relDir)) return true;
      return isIgnoredCommon(relDir, parent, true);
    },
    isIgnoredFile(relPath, parent) {
      if (includeMatch !== null && !includeMatch(relPath)) return true;
      if (parent === undefined && ancestorIgnored(relPath)) return true;
      return isIgnoredCommon(relPath, parent, false);
    },
    dirMatchesInclude(relDir) {
      return includeMatch === null || includeMatch(relDir);
    },
    includesEverything,
  };
}
