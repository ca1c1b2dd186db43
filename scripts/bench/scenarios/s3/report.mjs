// The --s3 tables: medians per side, the bucket side as a ratio of the local one, where the
// bucket side's time went (CPU of the server and of s3rver), and the server's peak RSS.
import { fmtMb, table } from "../../report.mjs";
import { maxOf, median, ratio } from "../../stats.mjs";
import { mark, RSS_TARGET_MB, STREAMING_RSS_TARGET_MB } from "../../targets.mjs";
import { TREE_OPERATIONS } from "./tree-operations.mjs";

const sec = (ms) => (ms == null ? "—" : (ms / 1000).toFixed(3));
const times = (r) => (r == null ? "—" : `${r.toFixed(2)}×`);
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const count = (n) => n.toLocaleString("en-US");

/** {op: {side: {ms, serverPeakMb, serverCpuSec, s3rverCpuSec}}} medians (peaks: max) over the runs. */
export function summarizeRuns(runs) {
  const summary = {};
  for (const [op] of TREE_OPERATIONS) {
    summary[op] = {};
    for (const side of ["local", "bucket"]) {
      const samples = runs.map((run) => run[op][side]).filter(Boolean);
      if (samples.length === 0) continue;
      const pick = (field) => samples.map((s) => s[field]).filter((v) => v != null);
      summary[op][side] = {
        ms: median(pick("ms")),
        serverCpuSec: median(pick("serverCpuSec")),
        s3rverCpuSec: pick("s3rverCpuSec").length ? median(pick("s3rverCpuSec")) : null,
        serverPeakMb: maxOf(pick("serverPeakMb")),
        samplesMs: pick("ms"),
      };
    }
  }
  const cold = runs.map((run) => run.cold.bucket).filter(Boolean);
  summary.coldCache = { files: median(cold.map((c) => c.cacheAfter.files)), bytes: median(cold.map((c) => c.cacheAfter.bytes)) };
  return summary;
}

const cpu = (value) => (value == null ? "—" : value.toFixed(2));
/** The server's CPU on each side, and s3rver's for the bucket side: where the bucket side's extra time went. */
const cpuCell = (local, bucket) => `${cpu(local?.serverCpuSec)} / ${cpu(bucket?.serverCpuSec)} / ${cpu(bucket?.s3rverCpuSec)}`;
const CPU_HEAD = "CPU s: server local / server bucket / s3rver";

/** Whether the server stayed under the main scenario's RSS line in every tree operation, on both sides. */
export function treeRssPass(summary) {
  const peaks = TREE_OPERATIONS.flatMap(([op]) => [summary[op].local?.serverPeakMb, summary[op].bucket?.serverPeakMb]).filter((v) => v != null);
  return maxOf(peaks) < RSS_TARGET_MB;
}

export function treeTable(summary, { runs, changes }) {
  const rows = TREE_OPERATIONS.map(([op, label]) => {
    const { local, bucket } = summary[op];
    const versus = op === "cold" ? `${times(ratio(bucket?.ms, summary.again.bucket?.ms))} warm` : times(ratio(bucket?.ms, local?.ms));
    let text = label.replace("C-file", `${changes}-file`);
    if (op === "cold") text += ` (the cache then held ${count(Math.round(summary.coldCache.files))} objects, ${mb(summary.coldCache.bytes)})`;
    const worst = maxOf([local?.serverPeakMb, bucket?.serverPeakMb].filter((v) => v != null));
    return [text, sec(local?.ms), sec(bucket?.ms), versus, cpuCell(local, bucket), `${fmtMb(local?.serverPeakMb)} / ${fmtMb(bucket?.serverPeakMb)}`, `< ${RSS_TARGET_MB} MB: ${mark(worst < RSS_TARGET_MB)}`];
  });
  return table([`operation (median of ${runs}, s)`, "local store", "bucket (s3rver)", "bucket / local", CPU_HEAD, "server peak RSS (MB, max of runs), local / bucket", "target"], rows);
}

export function bigFileTable(big, bigMb) {
  const rssCell = (m) => `${fmtMb(m.serverPeakMb)}${m.peakSinceStart ? " (since start)" : ""}`;
  const row = (what, op) => {
    const local = big.local[op];
    const bucket = big.bucket[op];
    const worst = maxOf([local.serverPeakMb, bucket.serverPeakMb]);
    return [what, sec(local.ms), sec(bucket.ms), times(ratio(bucket.ms, local.ms)), cpuCell(local, bucket), `${rssCell(local)} / ${rssCell(bucket)}`, `< ${STREAMING_RSS_TARGET_MB} MB: ${mark(worst < STREAMING_RSS_TARGET_MB)}`];
  };
  const idle = `idle after start: ${fmtMb(big.local.idle?.rssMb)} / ${fmtMb(big.bucket.idle?.rssMb)}`;
  return table(
    [`tree with one ${bigMb} MB file (1 run, s)`, "local store", "bucket (s3rver)", "bucket / local", CPU_HEAD, `server peak RSS (MB), local / bucket (${idle})`, "target"],
    [row("checkpoint", "checkpoint"), row("rollback after the file was replaced (bucket: cache emptied first, all of it downloaded)", "rollback")],
  );
}

export function retentionTable(retention, { steps, filesPerStep }) {
  const { local, bucket } = retention.sweep;
  const verify = (v) => (v.exitCode === 0 ? `exit 0: ${count(v.verified)}/${count(v.checkpoints)} checkpoints in ${v.sec.toFixed(1)} s` : `exit ${v.exitCode}: ✗`);
  const keys = bucket.bucketKeys;
  return table(
    [`retention: ${steps} checkpoints of ${filesPerStep} changed files, ${local.expired} expired (grace 0)`, "local store", "bucket (s3rver)", "bucket / local"],
    [
      [`checkpoint of a ${filesPerStep}-file change (median of ${steps}, s)`, sec(retention.steps.medianMs.local), sec(retention.steps.medianMs.bucket), times(ratio(retention.steps.medianMs.bucket, retention.steps.medianMs.local))],
      ["`retention run` (whole CLI process, s)", local.sec.toFixed(3), bucket.sec.toFixed(3), times(ratio(bucket.sec, local.sec))],
      [
        "objects deleted (bytes freed)",
        `${count(local.objectsDeleted)} (${mb(local.bytesFreed)})`,
        `${count(bucket.objectsDeleted)} (${mb(bucket.bytesFreed)}); keys under objects/: ${count(keys.before)} -> ${count(keys.after)}`,
        "—",
      ],
      // The bucket side made one rollback more (from the emptied cache): one more safety checkpoint kept.
      ["`verify --all` afterwards (every checkpoint kept)", verify(local.verify), verify(bucket.verify), "—"],
    ],
  );
}
