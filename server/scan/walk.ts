/**
 * The component walker: a synchronous depth-first scan (sync fs is ~4x faster than
 * async for many small stats) that yields files, directories and symlinks — never
 * following a symlink — sorted by path.
 */
import { lstatSync, readdirSync, statSync, type Dirent, type Stats } from "node:fs";
import path from "node:path";
import { InvalidInputError, describeFsError } from "../errors";
import type { CheckpointScope, ScannedEntry } from "../checkpoints/manifest-types";
import { createIgnoreRules, type DirContext, type IgnoreRules } from "./ignore-rules";
import { normalizeRelativePath, readLinkTarget } from "./paths";
import { decodeName, fsPath } from "../byte-paths";
import { mayBeSparse } from "../store/sparse-format";

export interface ScanOptions {
  /** Globs a file/symlink must match (default `["**"]`). */
  include?: string[];
  /** Globs excluding files, symlinks and directories. */
  exclude?: string[];
  /** Root-relative paths excluded with their subtree (the data dir when inside the root). */
  extraExcludes?: string[];
  /** `all` (default) or only these relative paths (a directory path covers its subtree). */
  scope?: CheckpointScope;
}

/** Plain code-unit order, the order manifests are stored in. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Scans the component rooted at `root` (an absolute, already validated directory —
 * see `assertRootAllowed`). Emits regular files, directories (not the root itself;
 * empty ones included) and symlinks (with `linkTarget`, never followed); sockets,
 * FIFOs and devices are skipped. Ignored directories are not descended.
 *
 * With the default include every non-ignored directory is emitted; with a custom
 * include a directory is emitted when it matches the include globs itself or holds
 * an emitted entry. With a `paths` scope only the listed paths and the subtrees of
 * listed directories are walked and emitted (their ancestors are not); a listed path
 * that does not exist, is ignored, or lies below a symlink/non-directory is absent.
 *
 * Throws NotFoundError if the root does not exist, InvalidInputError if it is not a
 * directory, and the describeFsError mapping (naming the directory) when a directory
 * cannot be read.
 */
export function scanComponent(root: string, opts: ScanOptions = {}): ScannedEntry[] {
  const rootAbs = rootDirectory(root);

  const rules = createIgnoreRules(rootAbs, opts);
  const scanner = new Walker(rootAbs, rules);
  const scope = opts.scope ?? { kind: "all" };

  if (scope.kind === "all") {
    scanner.walkDir(rootAbs, "");
  } else {
    const listed = new Set<string>();
    for (const p of scope.paths) listed.add(normalizeRelativePath(p));
    if (listed.has("")) {
      scanner.walkDir(rootAbs, "");
    } else {
      for (const p of [...listed].sort(comparePaths)) {
        if (!coveredByAncestor(p, listed)) scanner.scanPath(p);
      }
    }
  }
  return scanner.out.sort((a, b) => comparePaths(a.path, b.path));
}

/**
 * The absolute root a walk starts from (no trailing slash); NotFoundError when it
 * does not exist, InvalidInputError when it is not a directory.
 */
export function rootDirectory(root: string): string {
  let rootAbs = path.resolve(root);
  if (rootAbs.length > 1 && rootAbs.endsWith("/")) rootAbs = rootAbs.slice(0, -1);
  let rootStat: Stats;
  try {
    rootStat = statSync(fsPath(rootAbs));
  } catch (error) {
    throw describeFsError(error, rootAbs);
  }
  if (!rootStat.isDirectory()) {
    throw new InvalidInputError(`component root is not a directory: ${rootAbs}`, { root: rootAbs });
  }
  return rootAbs;
}

/** Is some proper ancestor directory of `p` also listed? (Then `p` is already covered.) */
export function coveredByAncestor(p: string, listed: ReadonlySet<string>): boolean {
  for (let i = p.indexOf("/"); i >= 0; i = p.indexOf("/", i + 1)) {
    if (listed.has(p.slice(0, i))) return true;
  }
  return false;
}

function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

class Walker {
  readonly out: ScannedEntry[] = [];
  private readonly absBase: string;

  constructor(
    private readonly rootAbs: string,
    private readonly rules: IgnoreRules,
  ) {
    this.absBase = rootAbs === "/" ? "" : rootAbs;
  }

  /** Lists `absDir` and emits everything non-ignored under it. Returns false if the dir vanished. */
  walkDir(absDir: string, relDir: string): boolean {
    const listed = listFolder(this.rules, absDir, relDir);
    if (!listed) return false;
    for (const item of listed) {
      if (item.dir) this.visitDir(item.abs, item.rel);
      else this.visitLeaf(item.abs, item.rel);
    }
    return true;
  }

  /** Emits a (non-ignored) directory and its subtree. */
  private visitDir(abs: string, rel: string, st?: Stats): void {
    const s = st ?? lstatOrUndefined(abs);
    if (!s || !s.isDirectory()) return; // vanished or replaced since readdir
    const before = this.out.length;
    if (!this.walkDir(abs, rel)) return;
    if (this.rules.includesEverything || this.out.length > before || this.rules.dirMatchesInclude(rel)) {
      this.out.push({ path: rel, kind: "dir", mode: s.mode & 0o7777, size: 0, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino });
    }
  }

  /** Emits a (non-ignored) regular file or symlink; anything else is skipped. */
  private visitLeaf(abs: string, rel: string, st?: Stats): void {
    const entry = scanLeaf(abs, rel, st);
    if (entry) this.out.push(entry);
  }

  /**
   * Scans one listed path: its ancestors must be real, non-ignored directories
   * (each is lstat'ed; we never pass through a symlink), then the entry itself is
   * emitted (with its subtree if it is a directory).
   */
  scanPath(rel: string): void {
    const rules = this.rules;
    let ctx: DirContext = rules.enterDir("", this.rootAbs);
    let abs = this.absBase;
    let start = 0;
    for (let slash = rel.indexOf("/"); slash >= 0; slash = rel.indexOf("/", start)) {
      const ancestor = rel.slice(0, slash);
      abs = `${this.absBase}/${ancestor}`;
      const st = lstatOrUndefined(abs);
      if (!st || !st.isDirectory()) return; // missing, a file, or a symlink: the path is absent
      if (rules.isIgnoredDir(ancestor, ctx)) return;
      ctx = rules.enterDir(ancestor, abs);
      start = slash + 1;
    }
    abs = `${this.absBase}/${rel}`;
    const st = lstatOrUndefined(abs);
    if (!st) return;
    if (st.isDirectory()) {
      if (!rules.isIgnoredDir(rel, ctx)) this.visitDir(abs, rel, st);
    } else if (st.isFile() || st.isSymbolicLink()) {
      if (!rules.isIgnoredFile(rel, ctx)) this.visitLeaf(abs, rel, st);
    }
  }
}

/** A non-ignored entry of a folder: a subfolder to walk, or a leaf (a file or symlink, by its type in the listing). */
export interface FolderItem {
  name: string;
  abs: string;
  rel: string;
  dir: boolean;
}

/**
 * The non-ignored subfolders and leaves of `absDir`, in listing order; sockets,
 * FIFOs and devices are left out. Null when the folder vanished (never for the root).
 */
export function listFolder(rules: IgnoreRules, absDir: string, relDir: string): FolderItem[] | null {
  let dirents: Dirent[];
  try {
    dirents = readDirents(absDir);
  } catch (error) {
    if (relDir !== "" && isGone(error)) return null; // removed while we scanned
    throw describeFsError(error, absDir);
  }
  let hasGitignore = false;
  for (let i = 0; i < dirents.length; i++) {
    if ((dirents[i] as Dirent).name === ".gitignore") {
      hasGitignore = true;
      break;
    }
  }
  const ctx = rules.enterDir(relDir, absDir, hasGitignore);
  const relPrefix = relDir === "" ? "" : `${relDir}/`;
  const absPrefix = absDir === "/" ? "/" : `${absDir}/`;
  const items: FolderItem[] = [];
  for (let i = 0; i < dirents.length; i++) {
    const d = dirents[i] as Dirent;
    const rel = relPrefix + d.name;
    if (d.isDirectory()) {
      if (!rules.isIgnoredDir(rel, ctx)) items.push({ name: d.name, abs: absPrefix + d.name, rel, dir: true });
    } else if (d.isFile() || d.isSymbolicLink()) {
      if (!rules.isIgnoredFile(rel, ctx)) items.push({ name: d.name, abs: absPrefix + d.name, rel, dir: false });
    }
  }
  return items;
}

/** The scanned entry of a (non-ignored) regular file or symlink; undefined for anything else, or when it vanished. */
export function scanLeaf(abs: string, rel: string, st?: Stats): ScannedEntry | undefined {
  const s = st ?? lstatOrUndefined(abs);
  if (!s) return undefined;
  if (s.isFile()) {
    const entry: ScannedEntry = { path: rel, kind: "file", mode: s.mode & 0o7777, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino };
    if (s.nlink > 1) {
      // Another name of the same file may be in the scope: kept only when it matters, for the hard-link groups.
      entry.dev = s.dev;
      entry.nlink = s.nlink;
    }
    // Kept only for a file that may be sparse: what storing it takes is what is allocated, not its size.
    if (mayBeSparse(s.size, s.blocks)) entry.allocated = s.blocks * 512;
    return entry;
  }
  if (!s.isSymbolicLink()) return undefined;
  let linkTarget: string;
  try {
    linkTarget = readLinkTarget(abs);
  } catch (error) {
    if (isGone(error) || (error as NodeJS.ErrnoException).code === "EINVAL") return undefined; // replaced meanwhile
    throw describeFsError(error, abs);
  }
  return { path: rel, kind: "symlink", mode: s.mode & 0o7777, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino, linkTarget };
}

/**
 * A folder's entries with their exact names. Node decodes names as UTF-8 and turns
 * a byte that is not UTF-8 into U+FFFD, which names nothing on disk: a folder
 * where that happened is listed again as bytes (rare, so the common path costs nothing).
 */
export function readDirents(absDir: string): Dirent[] {
  const dirents = readdirSync(fsPath(absDir), { withFileTypes: true });
  if (!dirents.some((d) => d.name.includes("\ufffd"))) return dirents;
  return readdirSync(fsPath(absDir), { withFileTypes: true, encoding: "buffer" }).map((d) => Object.assign(d, { name: decodeName(d.name as unknown as Buffer) }) as unknown as Dirent);
}

export function lstatOrUndefined(abs: string): Stats | undefined {
  try {
    return lstatSync(fsPath(abs), { throwIfNoEntry: false });
  } catch (error) {
    if (isGone(error)) return undefined;
    throw describeFsError(error, abs);
  }
}
