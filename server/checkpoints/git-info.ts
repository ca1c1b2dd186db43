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
 */
import { execFile } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { diesWithParent } from "../process/child-lifetime.mjs";

export interface GitInfo {
  head: string | null;
  branch: string | null;
  dirty: boolean;
}

export function readGitInfo(root: string): Promise<GitInfo | null> {
  if (!mayBeInWorkTree(root)) return Promise.resolve(null);
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
    const ref = /^ref: (refs\/[^\n]+)\n?$/.exec(head)?.[1];
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

/** The nearest `.git` at or above `root` (a folder, or the file of a linked work tree or submodule), or null. */
export function dotGitAbove(root: string): { path: string; isFolder: boolean } | null {
  for (let dir = path.resolve(root); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, ".git");
    const st = statSync(candidate, { throwIfNoEntry: false });
    if (st) return { path: candidate, isFolder: st.isDirectory() };
    if (path.dirname(dir) === dir) return null;
  }
}

/** False when git certainly finds no repository for `root`: no `.git` (folder or file) at or above it, and none named by the environment. */
function mayBeInWorkTree(root: string): boolean {
  return Boolean(process.env.GIT_DIR || process.env.GIT_WORK_TREE) || dotGitAbove(root) !== null;
}
