// Column "cp -a": the naive reference, a full copy per checkpoint; a rollback replaces the tree with a copy.
import fs from "node:fs";
import path from "node:path";
import { run, wall } from "../processes.mjs";

export function cpA() {
  let tree;
  let scratch;
  let count = 0;
  return {
    name: "cp",
    label: "cp -a",
    skipsIgnored: false,
    setup(paths) {
      ({ tree, scratch } = paths);
    },
    checkpoint() {
      const snapshot = path.join(scratch, `snapshot-${++count}`);
      return { sec: wall(() => run("cp", ["-a", tree, snapshot])).sec, id: snapshot };
    },
    rollback(snapshot) {
      return {
        sec: wall(() => {
          fs.rmSync(tree, { recursive: true, force: true });
          run("cp", ["-a", snapshot, tree]);
        }).sec,
      };
    },
    restore(snapshot, target) {
      return { sec: wall(() => run("cp", ["-a", `${snapshot}/.`, target])).sec };
    },
    teardown() {},
  };
}
