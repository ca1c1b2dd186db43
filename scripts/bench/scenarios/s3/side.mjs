// One side of the --s3 comparison: a fresh copy of a generated tree, a data directory whose
// objects live in it ("local") or in a prefix of the s3rver bucket ("bucket", the data directory
// then holding the cache), and `npm start` on it with one component, driven over tRPC.
import fs from "node:fs";
import path from "node:path";
import { bytesUnder, freshCopy, removeTree, statBaseline } from "../../tree.mjs";
import { apiTool, openSession } from "../change-cost/session.mjs";
import { S3RVER_CREDENTIALS } from "./s3rver.mjs";

export const COMPONENT = "bench";
export const SIDES = ["local", "bucket"];
const REASON = "bench --s3";

/** The environment a process needs for the side's objects: the bucket's place and s3rver's credentials. */
export function sideEnv(name, s3, prefix) {
  return name === "bucket" ? { SAFETYNET_OBJECT_STORE: s3.url(prefix), ...S3RVER_CREDENTIALS } : {};
}

/**
 * Copies `pristine` to `<dir>/tree` (`expected`: its fingerprint, for the checks) and
 * makes the data directory; start() opens the server. Without a bucket `s3` is unused.
 * `when`: the mtime of every entry of the copy, the same on both sides (see freshCopy).
 */
export function prepareSide({ name, dir, pristine, expected, s3, prefix, when }) {
  const tree = path.join(dir, "tree");
  freshCopy(pristine, tree, { when });
  const dataDir = path.join(dir, "data");
  const store = path.join(dataDir, "store");
  const env = sideEnv(name, s3, prefix);
  const side = {
    name,
    dir,
    tree,
    dataDir,
    env,
    known: statBaseline(tree, expected),
    session: null,
    tool: null,
    async start(allowedRoots) {
      side.session = await openSession({ dir, dataDir, allowedRoots, component: COMPONENT, root: tree, env });
      const api = apiTool(side.session);
      side.tool = { checkpoint: (input = {}) => api.checkpoint({ reason: REASON, ...input }), rollback: (id) => api.rollback(id) };
      return side;
    },
    memory: () => side.session?.server.memory() ?? null,
    /** Bytes of objects the data directory holds now (the cache, for a bucket). */
    cachedBytes: () => (fs.existsSync(path.join(store, "objects")) ? bytesUnder(path.join(store, "objects")) : { bytes: 0, files: 0 }),
    /**
     * Removes every cached object, the way an operator clears a cache by hand. Refused while
     * anything waits in the outbox: those objects are not in the bucket yet, and removing them
     * would lose them (every checkpoint awaits its uploads, so after one the outbox is empty).
     */
    emptyCache() {
      if (name !== "bucket") throw new Error("only a bucket side has a cache to empty");
      const outbox = path.join(store, "outbox");
      const waiting = fs.readdirSync(outbox).filter((entry) => entry !== "records");
      const records = fs.readdirSync(path.join(outbox, "records"));
      if (waiting.length + records.length > 0) {
        throw new Error(`BENCH ABORTED: ${waiting.length} object(s) and ${records.length} snapshot record(s) still wait in ${outbox} after the checkpoint returned: its uploads were not all awaited`);
      }
      fs.rmSync(path.join(store, "objects"), { recursive: true, force: true });
    },
    async stop() {
      await side.session?.server.stop();
      side.session = null;
    },
    remove: () => removeTree(dir),
  };
  return side;
}
