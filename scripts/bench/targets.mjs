// The performance issue's targets, evaluated on the medians of one bench run.
// A target compares a Safety Net column with a reference measured in the same run
// (git, cp -a, a bare `node -e ''`) as a ratio, or with an absolute time in seconds.
import { ratio } from "./stats.mjs";

/** Peak RSS limit of every Safety Net operation (CLI process; server for the warm column). */
export const RSS_TARGET_MB = 400;
/** The streaming scenarios (one 1 GB file, a 1 GB table): memory must not grow with the data. */
export const STREAMING_RSS_TARGET_MB = 300;

export const REFERENCE_LABEL = { git: "git", cp: "cp -a", node: "node -e ''" };

/**
 * {op, tool, ref, limit} with ref a reference column (ratio ≤ limit) or null (seconds ≤ limit).
 * `huge`: the scale targets of a 250,000-file tree replace the normal ones.
 */
export function targetsFor({ huge }) {
  const cold = [
    { op: "startup", tool: "cli", ref: "node", limit: 2 },
    { op: "first", tool: "cli", ref: "git", limit: huge ? 0.7 : 0.5 },
    { op: "recheck", tool: "cli", ref: "git", limit: 2 },
    { op: "rollback", tool: "cli", ref: "git", limit: 1.5 },
    { op: "restore", tool: "cli", ref: "cp", limit: 1.5 },
  ];
  const warm = huge
    ? [
        { op: "recheck", tool: "warm", ref: null, limit: 0.3 },
        { op: "rollback", tool: "warm", ref: null, limit: 0.5 },
      ]
    : [
        { op: "recheck", tool: "warm", ref: "git", limit: 0.5 },
        { op: "changed", tool: "warm", ref: "git", limit: 0.5 },
        { op: "rollback", tool: "warm", ref: "git", limit: 0.5 },
      ];
  return [...cold, ...warm];
}

/** `medians[tool][op]` seconds, the references included (`node` under medians.node.startup). */
export function evaluate(targets, medians) {
  return targets.map((t) => {
    const value = medians[t.tool]?.[t.op] ?? null;
    const measured = t.ref ? ratio(value, medians[t.ref]?.[t.op]) : value;
    return { ...t, measured, pass: measured == null ? null : measured <= t.limit };
  });
}

export const mark = (pass) => (pass == null ? "n/a" : pass ? "✓" : "✗");

export function describeTarget(t) {
  const who = t.tool === "warm" ? "warm" : "cold";
  const limit = t.ref ? `${t.limit}× ${REFERENCE_LABEL[t.ref]}` : `${t.limit} s`;
  const measured = t.measured == null ? "—" : t.ref ? `${t.measured.toFixed(2)}×` : `${t.measured.toFixed(3)} s`;
  return `${who} ≤ ${limit}: ${mark(t.pass)} (${measured})`;
}

/**
 * The change-cost scenario's targets (scenarios/change-cost.mjs): checkpoints and rollbacks
 * that cost what changed. `huge`: the 250,000-file figures replace the 10,000-file ones.
 */
export function changeCostTargets({ huge }) {
  return {
    /** Milliseconds of one request over HTTP, and at most this fraction of git's whole process. */
    apiMs: huge ? { unchanged: 60, changed: 300, rollback: 500 } : { unchanged: 30, changed: 150, rollback: 250 },
    apiRatio: 0.25,
    /** The data directory's growth for a 1-file change, against .git's growth for the same commit. */
    oneFileRatio: 2,
    /** The data directory's growth over many small checkpoints, against their changed content plus this allowance each. */
    stepsRatio: 1.3,
    stepAllowanceBytes: 64 * 1024,
    historyMs: 50,
    retentionSec: 30,
    serverRssMb: 300,
    cliPeakMb: 250,
  };
}
