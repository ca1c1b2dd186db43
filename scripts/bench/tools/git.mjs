// Column "git (shadow repo)": a repository beside the tree (GIT_DIR elsewhere,
// GIT_WORK_TREE = the tree), the way agent tools keep one.
import fs from "node:fs";
import path from "node:path";
import { run, wall } from "../processes.mjs";

export function shadowGit() {
  let env;
  let tree;
  let scratch;
  const git = (args, extraEnv = {}, cwd = tree) => run("git", args, { cwd, env: { ...env, ...extraEnv } });
  return {
    name: "git",
    label: "git (shadow repo)",
    skipsIgnored: true,
    // git cannot store a folder with no file below: the checks leave those folders out.
    keepsEmptyDirs: false,
    setup(paths) {
      ({ tree, scratch } = paths);
      // HOME and NOSYSTEM keep the user's own git configuration out of the measurement.
      env = { GIT_DIR: path.join(scratch, "shadow.git"), GIT_WORK_TREE: tree, HOME: scratch, GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0" };
      git(["init", "-q"]);
      for (const [key, value] of [
        ["user.name", "bench"],
        ["user.email", "bench@example.invalid"],
        ["core.autocrlf", "false"],
        ["commit.gpgSign", "false"],
        // A background auto-gc after the first 10k-object commit would run during the next measurements.
        ["gc.auto", "0"],
      ]) git(["config", key, value]);
    },
    checkpoint() {
      const { sec } = wall(() => {
        git(["add", "-A"]);
        git(["commit", "-q", "-m", "x", "--allow-empty"]);
      });
      // The id is read outside the timing: agent tools get it from commit's output.
      return { sec, id: git(["rev-parse", "HEAD"]).trim() };
    },
    rollback(commit) {
      return {
        sec: wall(() => {
          git(["reset", "-q", "--hard", commit]);
          git(["clean", "-fdq"]);
        }).sec,
      };
    },
    /**
     * A commit of these changed paths only, by plumbing (update-index, write-tree,
     * commit-tree, update-ref): the same objects `git add -A && git commit` writes for
     * them, without the status of the whole tree that makes a commit slow on a large one.
     */
    commitPaths(paths) {
      git(["update-index", "--add", "--remove", "--", ...paths]);
      const treeId = git(["write-tree"]).trim();
      const commit = git(["commit-tree", treeId, "-p", "HEAD", "-m", "x"]).trim();
      git(["update-ref", "HEAD", commit]);
      return commit;
    },
    /** The shadow repository (GIT_DIR): what its growth is measured on. */
    gitDir: () => env.GIT_DIR,
    restore(commit, target) {
      // A throwaway index, so the shadow repo's own index (the live tree's) is not rewritten.
      const index = path.join(scratch, "restore.index");
      const { sec } = wall(() => git(["checkout", commit, "--", "."], { GIT_WORK_TREE: target, GIT_INDEX_FILE: index }, target));
      fs.rmSync(index, { force: true });
      return { sec };
    },
    teardown() {},
  };
}
