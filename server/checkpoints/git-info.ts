/**
 * Git context of a component root (HEAD, branch, dirty), recorded with each
 * checkpoint. Runs `git status` asynchronously so it overlaps with hashing; a root
 * outside a work tree, or a machine without git, simply yields null. A root with no
 * `.git` at or above it is known to be outside one without starting git (a process
 * start costs a checkpoint of a small change more than the rest of it), unless the
 * environment names a repository (GIT_DIR, GIT_WORK_TREE).
 *
 * `gitSignature` lets a caller that knows the work tree did not change (Watchman
 * vouched for it) reuse the last answer: it changes with HEAD, the branch's ref
 * and the index, so a commit, a checkout, a reset or a `git add` all ask git again.
 *
 * `git status` stats every tracked file: in a large repository it costs more than
 * a checkpoint of a small change (hundreds of milliseconds at 250,000 files), and
 * the checkpoint waits for it. When the repository's index is larger than
 * SAFETYNET_GIT_STATUS_MAX_INDEX_BYTES (4 MiB by default, about 40,000 tracked
 * files), HEAD and the branch are read from the repository's files instead and
 * `dirty` is null: not asked.
 */
import { execFile } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { diesWithParent } from "../process/child-lifetime.mjs";
import { nonNegativeNumberFromEnv } from "../env-number";

export interface GitInfo {
  head: string | null;
  branch: string | null;
  /** Tracked files differ from HEAD; null: not asked (a repository too large for `git status` before each checkpoint). */
  dirty: boolean | null;
}

const DEFAULT_STATUS_MAX_INDEX_BYTES = 4 * 1024 * 1024;

export function readGitInfo(root: string): Promise<GitInfo | null> {
  const named = Boolean(process.env.GIT_DIR || process.env.GIT_WORK_TREE);
  const found = named ? null : dotGitAbove(root);
  // No `.git` at or above the root, and none named by the environment: certainly outside a work tree.
  if (!named && !found) return Promise.resolve(null);
  const large = found?.isFolder ? largeRepositoryHead(found.path) : null;
  if (large) return Promise.resolve(large);
  return new Promise((resolve) => {
    const git = diesWithParent("git", ["-C", root, "status", "--porcelain=v2", "--branch", "--untracked-files=no"]);
    execFile(
      git.file,
      git.args,
      { timeout: 5_000, maxBuffer: 8 * 1024 * 1024, env: { ...process.env, GIT_OPTIONAL_LOCKS: "0" } },
      (error, stdout) => {
        if (error) return resolve(null);
        let head: string | null = null;
        let branch: string | null = null;
        let dirty = false;
        for (const line of stdout.split("\n")) {
          if (line.startsWith("# branch.oid ")) head = line.slice(13) === "(initial)" ? null : line.slice(13);
          else if (line.startsWith("# branch.head ")) branch = line.slice(14) === "(detached)" ? null : line.slice(14);
          else if (line && !line.startsWith("#")) dirty = true;
        }
        resolve({ head, branch, dirty });
      },
    );
  });
}

/**
 * What git's answer for `root` depends on besides the work tree: the content of
 * HEAD and the identity (inode, size, mtime, ctime) of HEAD, the ref it names,
 * packed-refs and the index. Null when it cannot be told without git: no `.git`
 * folder at or above the root (a linked work tree or a submodule has a `.git`
 * file), or a repository named by the environment.
 */
export function gitSignature(root: string): string | null {
  if (process.env.GIT_DIR || process.env.GIT_WORK_TREE) return null;
  const found = dotGitAbove(root);
  if (!found?.isFolder) return null;
  const gitDir = found.path;
  try {
    const head = readFileSync(path.join(gitDir, "HEAD"), "utf8");
    const ref = refOfHead(head);
    const files = ["HEAD", "index", "packed-refs", ...(ref ? [ref] : [])];
    return [head.trim(), ...files.map((name) => identity(path.join(gitDir, name)))].join("|");
  } catch {
    return null;
  }
}

function identity(file: string): string {
  const st = statSync(file, { throwIfNoEntry: false, bigint: true });
  return st ? `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}` : "-";
}

/**
 * The nearest `.git` at or above `root` (a folder, or the file of a linked work
 * tree or submodule), or null. A `.git` folder without HEAD, objects/ and refs/
 * is not a repository to git, which looks further up: so does this (and no git
 * process is started for a folder that merely has such a `.git`).
 */
export function dotGitAbove(root: string): { path: string; isFolder: boolean } | null {
  for (let dir = path.resolve(root); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, ".git");
    const st = statSync(candidate, { throwIfNoEntry: false });
    if (st && (!st.isDirectory() || isRepositoryFolder(candidate))) return { path: candidate, isFolder: st.isDirectory() };
    if (path.dirname(dir) === dir) return null;
  }
}

function isRepositoryFolder(gitDir: string): boolean {
  return Boolean(statSync(path.join(gitDir, "HEAD"), { throwIfNoEntry: false })?.isFile()) && ["objects", "refs"].every((name) => statSync(path.join(gitDir, name), { throwIfNoEntry: false })?.isDirectory());
}

/**
 * HEAD and the branch of the repository `gitDir` when its index is too large to
 * run `git status` for every checkpoint, read from its files (dirty: null); null
 * for a smaller one, and whenever its files cannot tell (git is asked then).
 */
function largeRepositoryHead(gitDir: string): GitInfo | null {
  const index = statSync(path.join(gitDir, "index"), { throwIfNoEntry: false });
  if (!index || index.size <= nonNegativeNumberFromEnv("SAFETYNET_GIT_STATUS_MAX_INDEX_BYTES", DEFAULT_STATUS_MAX_INDEX_BYTES)) return null;
  try {
    return headFromFiles(gitDir);
  } catch {
    return null;
  }
}

const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** What HEAD names: a branch (its commit from its loose ref or packed-refs; null when it has none yet) or a detached commit. */
function headFromFiles(gitDir: string): GitInfo | null {
  const head = readFileSync(path.join(gitDir, "HEAD"), "utf8").trim();
  if (OBJECT_ID.test(head)) return { head, branch: null, dirty: null };
  const ref = refOfHead(head);
  if (!ref) return null;
  const branch = ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : null;
  const loose = readIfThere(path.join(gitDir, ref))?.trim();
  if (loose !== undefined) return OBJECT_ID.test(loose) ? { head: loose, branch, dirty: null } : null;
  // Not loose: packed (`<id> <ref>` lines), or a branch with no commit yet.
  for (const line of (readIfThere(path.join(gitDir, "packed-refs")) ?? "").split("\n")) {
    const [id, name] = line.split(" ");
    if (name === ref && id !== undefined && OBJECT_ID.test(id)) return { head: id, branch, dirty: null };
  }
  return { head: null, branch, dirty: null };
}

/** The ref a symbolic HEAD names (`ref: refs/heads/main`), or undefined for a detached one. */
function refOfHead(head: string): string | undefined {
  return /^ref: (refs\/[^\n]+?)\n?$/.exec(head)?.[1];
}

function readIfThere(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
