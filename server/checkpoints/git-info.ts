/**
 * Git context of a component root (HEAD, branch, dirty), recorded with each
 * checkpoint. Runs `git status` asynchronously so it overlaps with hashing; a root
 * outside a work tree, or a machine without git, simply yields null. A root with no
 * `.git` at or above it is known to be outside one without starting git (a process
 * start costs a checkpoint of a small change more than the rest of it), unless the
 * environment names a repository (GIT_DIR, GIT_WORK_TREE).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
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

/** False when git certainly finds no repository for `root`: no `.git` (folder or file) at or above it, and none named by the environment. */
function mayBeInWorkTree(root: string): boolean {
  if (process.env.GIT_DIR || process.env.GIT_WORK_TREE) return true;
  for (let dir = path.resolve(root); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, ".git"))) return true;
    if (path.dirname(dir) === dir) return false;
  }
}
