// The change-cost scenario's tables and verdicts: every row with our figure, git's, the
// ratio and the targets (scripts/bench/targets.mjs changeCostTargets) marked ✓/✗.
import { fmtMb, table } from "../../report.mjs";
import { median, ratio } from "../../stats.mjs";
import { mark } from "../../targets.mjs";
import { API_OPERATIONS } from "./api-operations.mjs";

const fmtMs = (ms) => (ms == null ? "—" : ms < 10 ? ms.toFixed(1) : ms.toFixed(0));
const fmtRatio = (r) => (r == null ? "—" : `${r.toFixed(2)}×`);
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
function fmtBytes(bytes) {
  if (bytes == null) return "—";
  if (Math.abs(bytes) < 10 * 1024) return `${bytes} B`;
  if (Math.abs(bytes) < 10 * 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return mib(bytes);
}
const count = (n) => n.toLocaleString("en-US");

/** {what, measured, limit, pass, text}: a target checked (pass null when nothing was measured). */
function check(what, measured, limit, describe) {
  const pass = measured == null ? null : measured <= limit;
  return { what, measured, limit, pass, text: `${describe}: ${mark(pass)}` };
}

/** Every target of the scenario, checked. */
export function changeCostVerdicts(result, targets) {
  const verdicts = [];
  const { api, git } = result.apiOperations.medians;
  for (const [op] of API_OPERATIONS) {
    verdicts.push(check(`${op} (ms)`, api[op], targets.apiMs[op], `≤ ${targets.apiMs[op]} ms`));
    verdicts.push(check(`${op} (× git)`, ratio(api[op], git[op]), targets.apiRatio, `≤ ${targets.apiRatio}× git`));
  }
  const one = result.oneFile;
  verdicts.push(check("1-file checkpoint bytes (× git)", ratio(one.data, one.git), targets.oneFileRatio, `≤ ${targets.oneFileRatio}× git`));
  const steps = result.steps;
  verdicts.push(check("step checkpoints growth (× content + allowance)", ratio(steps.data, steps.allowance), targets.stepsRatio, `≤ ${targets.stepsRatio}×`));
  if (result.history) verdicts.push(check("file.history (ms)", result.history.hot.ms, targets.historyMs, `≤ ${targets.historyMs} ms`));
  if (result.retention) {
    verdicts.push(check("retention run (s)", result.retention.sec, targets.retentionSec, `≤ ${targets.retentionSec} s`));
    verdicts.push({ what: "verify --all after retention", measured: result.retention.verify.exitCode, limit: 0, pass: result.retention.verify.exitCode === 0, text: `exit 0: ${mark(result.retention.verify.exitCode === 0)}` });
  }
  verdicts.push(check("server RSS after the runs (MB)", result.memory.server?.rssMb ?? null, targets.serverRssMb, `≤ ${targets.serverRssMb} MB`));
  verdicts.push(check("CLI peak RSS, first checkpoint (MB)", result.memory.cliFirst.peakMb, targets.cliPeakMb, `≤ ${targets.cliPeakMb} MB`));
  verdicts.push(check("CLI peak RSS, cold checkpoint (MB)", result.memory.cliCold.peakMb, targets.cliPeakMb, `≤ ${targets.cliPeakMb} MB`));
  return verdicts;
}

const targetCell = (verdicts, ...names) =>
  verdicts
    .filter((v) => names.includes(v.what))
    .map((v) => v.text)
    .join("; ") || "—";

export function changeCostTables(result, verdicts) {
  const { runs, changes } = result;
  const { api, git } = result.apiOperations.medians;
  const timeRows = API_OPERATIONS.map(([op, label]) => [
    `${label.replace("50-file", `${changes}-file`)}${op === "rollback" ? "; git: `reset --hard` + `clean -fd`" : ""}`,
    fmtMs(api[op]),
    fmtMs(git[op]),
    fmtRatio(ratio(api[op], git[op])),
    targetCell(verdicts, `${op} (ms)`, `${op} (× git)`),
  ]);
  const h = result.history;
  if (h) {
    const made = h.via === "api" ? "through the API" : "by the engine in-process";
    timeRows.push([
      `\`file.history\` (limit 50) of a path changed in each of ${count(h.checkpoints)} checkpoints (made ${made} in ${h.makeSeconds.toFixed(0)} s; git's by \`git fast-import\` in ${h.gitImportSeconds.toFixed(1)} s; median of ${h.queries}); git: \`git log --format=%H -- <path> \\| head -50\``,
      fmtMs(h.hot.ms),
      fmtMs(h.hot.gitMs),
      fmtRatio(ratio(h.hot.ms, h.hot.gitMs)),
      targetCell(verdicts, "file.history (ms)"),
    ]);
    timeRows.push([`the same for a path unchanged since the first of them`, fmtMs(h.quiet.ms), fmtMs(h.quiet.gitMs), fmtRatio(ratio(h.quiet.ms, h.quiet.gitMs)), "—"]);
  }
  const times = table([`through the API (median ms of ${runs}; git: whole processes)`, "safetynet API", "git (shadow repo)", "API / git", "target"], timeRows);

  const one = result.oneFile;
  const steps = result.steps;
  const storage = table(
    ["bytes added", "safetynet (data directory)", "git (.git, loose objects)", "safetynet / git", "target"],
    [
      [`by a checkpoint after a 1-file change (median of ${one.samples.length}; files of ${fmtBytes(one.fileBytes)} median)`, fmtBytes(one.data), fmtBytes(one.git), fmtRatio(ratio(one.data, one.git)), targetCell(verdicts, "1-file checkpoint bytes (× git)")],
      ["the same, the store only (`store/`)", fmtBytes(one.store), "—", fmtRatio(ratio(one.store, one.git)), "—"],
      [
        `by ${count(steps.steps)} checkpoints with ${steps.filesPerStep} files changed before each (through the API; ${steps.seconds.toFixed(0)} s, a checkpoint ${fmtMs(steps.checkpointMedianMs)} ms median, git's commit by plumbing ${fmtMs(steps.gitCommitMedianMs)} ms): against changed content ${mib(steps.changedBytes)} + ${fmtBytes(steps.allowancePerCheckpoint)} × ${count(steps.steps)} = ${mib(steps.allowance)}`,
        mib(steps.data),
        mib(steps.git),
        fmtRatio(ratio(steps.data, steps.git)),
        `${fmtRatio(ratio(steps.data, steps.allowance))} of content + allowance, ${targetCell(verdicts, "step checkpoints growth (× content + allowance)")}`,
      ],
    ],
  );

  const rows = [];
  const r = result.retention;
  if (r) {
    rows.push([
      `\`retention run\` (whole CLI process) with keep-last ${r.keep}: ${count(r.expired)} of ${count(steps.steps)} checkpoints expired, ${count(r.objectsDeleted)} objects (${mib(r.bytesFreed)}) deleted`,
      `${r.sec.toFixed(2)} s`,
      targetCell(verdicts, "retention run (s)"),
    ]);
    rows.push([
      "`verify --all` afterwards",
      r.verify.exitCode === 0 ? `exit 0: ${count(r.verify.verified)}/${count(r.verify.checkpoints)} checkpoints verified in ${r.verify.sec.toFixed(1)} s` : `exit ${r.verify.exitCode}`,
      targetCell(verdicts, "verify --all after retention"),
    ]);
  }
  const m = result.memory;
  rows.push([`server RSS after these runs (VmRSS / VmHWM of scripts/next-server.mjs)`, m.server ? `${fmtMb(m.server.rssMb)} / ${fmtMb(m.server.peakMb)} MB` : "—", targetCell(verdicts, "server RSS after the runs (MB)")]);
  const cliRow = (what, run, verdict) => [`CLI peak RSS (\`SAFETYNET_NO_SERVER=1\`, GNU time %M): ${what} (${run.sec.toFixed(1)} s)`, run.peakMb == null ? "not measured (no GNU time)" : `${fmtMb(run.peakMb)} MB`, targetCell(verdicts, verdict)];
  rows.push(cliRow("first checkpoint of the tree", m.cliFirst, "CLI peak RSS, first checkpoint (MB)"));
  rows.push(cliRow(`checkpoint after a ${changes}-file change`, m.cliCold, "CLI peak RSS, cold checkpoint (MB)"));
  if (h?.serverMemory) rows.push([`server RSS after the ${count(h.checkpoints)}-checkpoint history (VmRSS / VmHWM)`, `${fmtMb(h.serverMemory.rssMb)} / ${fmtMb(h.serverMemory.peakMb)} MB`, "—"]);
  const other = table(["retention and memory", "measured", "target"], rows);
  return [times, storage, other].join("\n\n");
}

/** Medians per side and operation of {api|git: {op: ms[]}}. */
export const mediansOfSides = (samples) => Object.fromEntries(Object.entries(samples).map(([side, ops]) => [side, Object.fromEntries(Object.entries(ops).map(([op, v]) => [op, median(v)]))]));
