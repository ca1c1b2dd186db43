// Column "restic" (0.14, Debian's `apt-get install restic`): backups of "." from inside
// the tree, so snapshots restore without the absolute path. Used only when installed.
import fs from "node:fs";
import path from "node:path";
import { run, wall } from "../processes.mjs";

export function restic() {
  let tree;
  let env;
  const restic = (args, cwd = tree) => run("restic", args, { cwd, env });
  return {
    name: "restic",
    label: "restic",
    skipsIgnored: false,
    setup(paths) {
      tree = paths.tree;
      env = { RESTIC_REPOSITORY: path.join(paths.scratch, "restic-repo"), RESTIC_PASSWORD: "bench", RESTIC_CACHE_DIR: path.join(paths.scratch, "restic-cache") };
      restic(["init", "-q"], paths.scratch);
    },
    checkpoint() {
      const { sec, value } = wall(() => restic(["backup", "--json", "."]));
      const summary = value.trim().split("\n").map((l) => JSON.parse(l)).find((m) => m.message_type === "summary");
      return { sec, id: summary.snapshot_id };
    },
    rollback(snapshot) {
      // restic has no in-place rollback: clear the tree and restore the snapshot into it.
      const parent = path.dirname(tree);
      return {
        sec: wall(() => {
          fs.rmSync(tree, { recursive: true, force: true });
          restic(["restore", "-q", snapshot, "--target", tree], parent);
        }).sec,
      };
    },
    restore(snapshot, target) {
      return { sec: wall(() => restic(["restore", "-q", snapshot, "--target", target], path.dirname(target))).sec };
    },
    teardown() {},
  };
}
