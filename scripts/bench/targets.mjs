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
