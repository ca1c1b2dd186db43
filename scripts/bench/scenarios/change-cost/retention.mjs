// Row group 5: a retention sweep that deletes most of the step checkpoints. A policy keeps
// the newest K of the component's checkpoints, then `safetynet retention run` is timed
// (whole CLI process, no server on the data directory), then `safetynet verify --all`
// must pass. The step checkpoints were made with retentionDays 0, so the policy alone
// decides; the earlier checkpoints of the scenario keep their default retention.
import { cliOn } from "../../tools/cli.mjs";

/**
 * `stepIds`: the step checkpoints, oldest first; the run must expire all but the newest
 * `keep` of them, and nothing else. `env`: more environment for the CLI (a bucket's credentials).
 */
export function retentionSweep({ dataDir, allowedRoots, component, stepIds, keep, log, env = {} }) {
  // Objects younger than the grace period (1 h by default) are never collected: without
  // this, the sweep would delete rows and leave every object of the expired checkpoints.
  const cli = cliOn(dataDir, { allowedRoots, server: false, env: { SAFETYNET_RETENTION_GRACE_MS: "0", ...env } });
  cli.json("retention", "set", "--component", component, "--keep-last", String(keep));
  const swept = cli.measured("retention", "run");
  const result = swept.value;
  const expired = new Set(result.expired.map((e) => e.checkpointId));
  const wanted = stepIds.slice(0, Math.max(0, stepIds.length - keep));
  const missed = wanted.filter((id) => !expired.has(id));
  const extra = [...expired].filter((id) => !wanted.includes(id));
  if (result.outcome !== "succeeded" || missed.length > 0 || extra.length > 0) {
    throw new Error(`BENCH ABORTED: retention run ${result.outcome}: expired ${expired.size}, expected the ${wanted.length} oldest step checkpoints (${missed.length} of them not expired, ${extra.length} others expired)`);
  }
  log(`retention run: ${expired.size} checkpoints expired, ${result.objectsDeleted} objects (${result.bytesFreed} B) deleted in ${swept.sec.toFixed(2)} s`);
  let verify;
  try {
    const checked = cli.measured("verify", "--all");
    verify = { exitCode: 0, sec: checked.sec, peakMb: checked.peakMb, checkpoints: checked.value.checkpoints, verified: checked.value.verified, corrupt: checked.value.corrupt, missing: checked.value.missing };
  } catch (error) {
    // run() throws with the exit code in its first line; verify exits 4 on a corrupt or missing object.
    verify = { exitCode: Number(/exited with (\d+)/.exec(error.message)?.[1] ?? NaN), error: error.message.split("\n").slice(0, 6).join("\n") };
  }
  log(`verify --all: exit ${verify.exitCode}${verify.checkpoints != null ? ` (${verify.verified}/${verify.checkpoints} checkpoints verified in ${verify.sec.toFixed(2)} s)` : ""}`);
  return {
    keep,
    sec: swept.sec,
    peakMb: swept.peakMb,
    expired: expired.size,
    removed: result.removed.length,
    objectsDeleted: result.objectsDeleted,
    bytesFreed: result.bytesFreed,
    keptByGrace: result.keptByGrace,
    engineMs: result.durationMs,
    verify,
  };
}
