// The markdown tables (pasteable into the README) and .bench/results.json.
import fs from "node:fs";
import path from "node:path";
import { RESULTS_FILE } from "./paths.mjs";
import { OPERATIONS } from "./scenarios/main.mjs";
import { maxOf, median, ratio } from "./stats.mjs";
import { describeTarget, mark, REFERENCE_LABEL, RSS_TARGET_MB, STREAMING_RSS_TARGET_MB } from "./targets.mjs";

const fmtSec = (s) => (s == null ? "—" : s.toFixed(3));
export const fmtMb = (mb) => (mb == null ? "—" : mb.toFixed(0));
const row = (cells) => `| ${cells.join(" | ")} |`;
/** A markdown table: a header row, then rows of cells. */
export const table = (head, rows) => [row(head), row(head.map(() => "---")), ...rows.map(row)].join("\n");

/** The reference of each row's ratio columns. */
const REFERENCE_OF = { startup: "node", first: "git", recheck: "git", changed: "git", rollback: "git", restore: "cp" };

function ratioCell(medians, tool, op) {
  const ref = REFERENCE_OF[op];
  const value = ratio(medians[tool]?.[op], medians[ref]?.[op]);
  return value == null ? "—" : `${value.toFixed(2)}× ${REFERENCE_LABEL[ref]}`;
}

/** Operations × tools in median seconds, with the CLI's ratios and the targets. */
export function timesTable({ tools, medians, verdicts, changes, startupRuns }) {
  const has = (name) => tools.some((t) => t.name === name);
  const head = ["operation (median s)", ...tools.map((t) => t.label), ...(has("cli") ? ["CLI / ref"] : []), ...(has("warm") ? ["CLI warm / ref"] : []), "target"];
  const targetCell = (op) => verdicts.filter((v) => v.op === op).map(describeTarget).join("; ") || "—";
  const ratioCells = (op) => [...(has("cli") ? [ratioCell(medians, "cli", op)] : []), ...(has("warm") ? [ratioCell(medians, "warm", op)] : [])];
  const rows = [];
  if (medians.node?.startup != null) {
    rows.push([
      `CLI start-up: \`component list\` (\`node -e ''\`: ${fmtSec(medians.node.startup)}; median of ${startupRuns})`,
      ...tools.map((t) => fmtSec(medians[t.name]?.startup ?? null)),
      ...ratioCells("startup"),
      targetCell("startup"),
    ]);
  }
  for (const [op, label] of OPERATIONS) {
    rows.push([label.replace("50-file", `${changes}-file`), ...tools.map((t) => fmtSec(medians[t.name]?.[op] ?? null)), ...ratioCells(op), targetCell(op)]);
  }
  return table(head, rows);
}

/** Peak RSS of every Safety Net operation: the CLI process, and the server behind the warm CLI. */
export function memoryTable({ memory, startup, changes }) {
  const peak = (list, field) => maxOf(list.map((m) => m[field]).filter((v) => v != null));
  const rows = [];
  const verdict = (values) => {
    const worst = maxOf(values.filter((v) => v != null));
    return worst == null ? "n/a" : `< ${RSS_TARGET_MB} MB: ${mark(worst < RSS_TARGET_MB)}`;
  };
  if (startup) {
    const cold = maxOf(startup.coldPeakMb);
    const warm = maxOf(startup.warmPeakMb);
    rows.push(["CLI start-up: `component list`", fmtMb(cold), fmtMb(warm), "—", verdict([cold, warm])]);
  }
  for (const [op, label] of OPERATIONS) {
    const cold = peak(memory.cli?.[op] ?? [], "peakMb");
    const warm = peak(memory.warm?.[op] ?? [], "peakMb");
    const serverRss = peak(memory.warm?.[op] ?? [], "serverRssMb");
    const serverPeak = peak(memory.warm?.[op] ?? [], "serverPeakMb");
    const server = serverRss == null ? "—" : `${fmtMb(serverRss)} / ${fmtMb(serverPeak)}`;
    rows.push([label.replace("50-file", `${changes}-file`), fmtMb(cold), fmtMb(warm), server, verdict([cold, warm, serverPeak])]);
  }
  return table(["peak RSS (MB, max of runs)", "CLI cold (process)", "CLI warm (process)", "server behind warm CLI (RSS after op / peak since start)", "target"], rows);
}

function streamingRow(title, r) {
  return row([title, fmtMb(r.peakMb), r.sec.toFixed(2), `< ${STREAMING_RSS_TARGET_MB} MB: ${r.peakMb == null ? "n/a" : mark(r.peakMb < STREAMING_RSS_TARGET_MB)}`]);
}

export function bigFileTable(big, bigMb) {
  return [
    row([`CLI, tree with one ${bigMb} MB file`, "peak RSS (MB)", "wall (s)", "target"]),
    row(["---", "---", "---", "---"]),
    streamingRow("checkpoint create", big.checkpoint),
    streamingRow("full restore into empty dir", big.restore),
  ].join("\n");
}

export function postgresTable(result) {
  const mb = (bytes) => (bytes / 1024 / 1024).toFixed(0);
  return [
    row([`CLI, PostgreSQL table of ${mb(result.tableBytes)} MB (${result.rows} rows; ${result.format} snapshot ${mb(result.dumpBytes)} MB)`, "peak RSS (MB)", "wall (s)", "target"]),
    row(["---", "---", "---", "---"]),
    streamingRow("checkpoint create --db", result.checkpoint),
    streamingRow("rollback --yes (safety snapshot of the migrated table, then restore)", result.rollback),
  ].join("\n");
}

/** {tool: {op: median seconds}}, with the start-up samples folded in (node -e '' as tool "node"). */
export function mediansOf(samples, startup) {
  const medians = Object.fromEntries(Object.entries(samples).map(([tool, ops]) => [tool, Object.fromEntries(Object.entries(ops).map(([op, v]) => [op, median(v)]))]));
  if (startup) {
    medians.node = { startup: median(startup.node) };
    if (medians.cli) medians.cli.startup = median(startup.cold);
    if (medians.warm && startup.warm.length > 0) medians.warm.startup = median(startup.warm);
  }
  return medians;
}

export function writeResults(results, file = RESULTS_FILE) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
  process.stderr.write(`bench: results written to ${path.relative(process.cwd(), file)}\n`);
}
