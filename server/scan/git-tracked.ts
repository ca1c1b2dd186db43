/**
 * The files git tracks under a component root: git never ignores a tracked file
 * (a `.gitignore` only keeps untracked files out), so neither does a scan.
 *
 * `git ls-files -z` costs time proportional to the repository, so it is asked
 * only when an ignore rule matches something (ignore-rules.ts asks lazily), and
 * its answer is kept per root, keyed by the identity of the repository's index
 * file (inode, size, mtime, ctime): any `git add`, `git rm`, commit or checkout
 * rewrites the index and asks again. The last two answers per root are kept so
 * the change tracker can tell which paths started or stopped being tracked.
 *
 * No repository (no `.git` at or above the root), a repository named by the
 * environment (GIT_DIR, GIT_WORK_TREE), no git binary, or a git that fails:
 * nothing is tracked, and the ignore rules apply as written.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import path from "node:path";
import { decodeName } from "../byte-paths";
import { dotGitAbove } from "../checkpoints/git-info";

export interface TrackedFiles {
  /** Short digest of the index identity this answer was read at. */
  readonly tag: string;
  /** Root-relative paths of the tracked files (and submodules) under the root. */
  readonly files: ReadonlySet<string>;
  /** Every folder above a tracked path (root-relative, without ""). */
  dirs(): ReadonlySet<string>;
}

/** The tag of a root outside any repository git could find without the environment. */
export const NO_REPOSITORY_TAG = "-";

const LS_FILES_TIMEOUT_MS = 30_000;
const KEPT_PER_ROOT = 2;
const answers = new Map<string, TrackedFiles[]>();

/** The index file of the repository `root` is in, or null (see the module comment). */
function indexFileOf(root: string): string | null {
  if (process.env.GIT_DIR || process.env.GIT_WORK_TREE || process.env.GIT_INDEX_FILE) return null;
  const found = dotGitAbove(root);
  if (!found) return null;
  if (found.isFolder) return path.join(found.path, "index");
  // A linked work tree or a submodule: `.git` is a file naming the git directory.
  try {
    const gitdir = /^gitdir: (.+)$/m.exec(readFileSync(found.path, "utf8"))?.[1]?.trim();
    return gitdir ? path.join(path.resolve(path.dirname(found.path), gitdir), "index") : null;
  } catch {
    return null;
  }
}

/**
 * What the tracked files of `root` depend on, as a short tag: the index file's
 * path and identity. NO_REPOSITORY_TAG outside a repository. Costs a few stats.
 */
export function trackedTag(root: string): string {
  const index = indexFileOf(root);
  if (index === null) return NO_REPOSITORY_TAG;
  const st = statSync(index, { throwIfNoEntry: false, bigint: true });
  const identity = st ? `${index}|${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}` : `${index}|none`;
  return createHash("sha256").update(identity).digest("hex").slice(0, 16);
}

function readTracked(root: string, tag: string): TrackedFiles {
  const files = new Set<string>();
  if (tag !== NO_REPOSITORY_TAG) {
    try {
      const out = execFileSync("git", ["-C", root, "ls-files", "-z"], {
        env: { ...process.env, GIT_OPTIONAL_LOCKS: "0" },
        maxBuffer: 1024 * 1024 * 1024,
        timeout: LS_FILES_TIMEOUT_MS,
        stdio: ["ignore", "pipe", "ignore"],
      });
      const text = out.toString("utf8");
      if (!text.includes("\ufffd")) {
        for (const name of text.split("\0")) if (name !== "") files.add(name);
      } else {
        // Some name is not UTF-8: each is decoded by itself, its bytes kept (byte-paths.ts).
        let start = 0;
        for (let nul = out.indexOf(0); nul >= 0; nul = out.indexOf(0, start)) {
          if (nul > start) files.add(decodeName(out.subarray(start, nul)));
          start = nul + 1;
        }
      }
    } catch {
      // No git, not a work tree after all, or it failed: nothing counts as tracked.
    }
  }
  let dirs: Set<string> | null = null;
  return {
    tag,
    files,
    dirs() {
      if (dirs === null) {
        dirs = new Set<string>();
        for (const file of files) {
          for (let slash = file.lastIndexOf("/"); slash > 0; slash = file.lastIndexOf("/", slash - 1)) {
            const dir = file.slice(0, slash);
            if (dirs.has(dir)) break;
            dirs.add(dir);
          }
        }
      }
      return dirs;
    },
  };
}

/** The files git tracks under `root` now (asked again only when the index changed). */
export function trackedFilesOf(root: string): TrackedFiles {
  const tag = trackedTag(root);
  const kept = answers.get(root) ?? [];
  const known = kept.find((t) => t.tag === tag);
  if (known) return known;
  const fresh = readTracked(root, tag);
  answers.set(root, [fresh, ...kept].slice(0, KEPT_PER_ROOT));
  return fresh;
}

/**
 * The paths whose tracked state differs between the answer tagged `before` and
 * the one now, with the folders above them (so a folder that now holds a tracked
 * file is read again whole); null when the `before` answer is no longer known.
 */
export function trackedChangesSince(root: string, before: string): { tag: string; paths: string[] } | null {
  const now = trackedFilesOf(root);
  if (now.tag === before) return { tag: now.tag, paths: [] };
  const old = before === NO_REPOSITORY_TAG ? readTracked(root, NO_REPOSITORY_TAG) : answers.get(root)?.find((t) => t.tag === before);
  if (!old) return null;
  const changed = new Set<string>();
  const add = (file: string) => {
    changed.add(file);
    for (let slash = file.lastIndexOf("/"); slash > 0; slash = file.lastIndexOf("/", slash - 1)) changed.add(file.slice(0, slash));
  };
  for (const file of now.files) if (!old.files.has(file)) add(file);
  for (const file of old.files) if (!now.files.has(file)) add(file);
  return { tag: now.tag, paths: [...changed] };
}
