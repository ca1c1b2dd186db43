#!/usr/bin/env node
// Measures what compressing the store's objects would give, per codec and level,
// on real files: compression ratio, CPU time per MB to compress and to decompress,
// and what the objects would take on disk (whole file-system blocks), for each
// file on its own as the store would hold it.
//
// Usage: node scripts/measure-compression.mjs DIR... [--codecs deflate-1,gzip-6,brotli-4] [--max-mb N] [--repeats R] [--block 4096]
//   DIR...     folders to read (every regular file below, symlinks not followed)
//   --codecs   codec-level pairs (deflate = zlib's raw deflate, gzip, brotli); default: a broad set
//   --max-mb   read at most this many MB of files (default: everything)
//   --repeats  runs per codec; the fastest counts (default 3)
//   --block    file-system block size (default: the statfs block size of the first DIR)
// Timing is CPU time of the synchronous zlib calls in this process (one core), after a warm-up.
// Prints one markdown table; `--json` prints the figures instead.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  args.splice(i, 2);
  return value;
};
const json = args.includes("--json");
if (json) args.splice(args.indexOf("--json"), 1);
const codecList = (flag("--codecs") ?? "deflate-1,deflate-3,deflate-6,deflate-9,gzip-1,gzip-3,gzip-6,brotli-1,brotli-3,brotli-4,brotli-5").split(",");
const maxBytes = Number(flag("--max-mb") ?? Infinity) * 1024 * 1024;
const repeats = Number(flag("--repeats") ?? 3);
const dirs = args;
if (dirs.length === 0) {
  console.error("usage: measure-compression.mjs DIR... [--codecs c-l,...] [--max-mb N] [--block B] [--json]");
  process.exit(2);
}
const block = Number(flag("--block") ?? fs.statfsSync(dirs[0]).bsize);

const CODECS = {
  deflate: {
    compress: (data, level) => zlib.deflateRawSync(data, { level }),
    decompress: (data) => zlib.inflateRawSync(data),
  },
  gzip: {
    compress: (data, level) => zlib.gzipSync(data, { level }),
    decompress: (data) => zlib.gunzipSync(data),
  },
  brotli: {
    compress: (data, level) => zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: level, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length } }),
    decompress: (data) => zlib.brotliDecompressSync(data),
  },
};

function* walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}

const files = [];
let total = 0;
for (const dir of dirs) {
  for (const file of walk(dir)) {
    if (total >= maxBytes) break;
    const data = fs.readFileSync(file);
    files.push(data);
    total += data.length;
  }
}

const blocksOf = (bytes) => Math.ceil(bytes / block);
const rawBlocks = files.reduce((n, f) => n + blocksOf(f.length), 0);
const small = files.filter((f) => f.length <= block).length;

function cpuMs(fn) {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

const results = [];
for (const spec of codecList) {
  const [name, levelText] = spec.split("-");
  const codec = CODECS[name];
  const level = Number(levelText);
  if (!codec || !Number.isInteger(level)) throw new Error(`unknown codec ${spec}`);
  // Warm-up: the first calls pay for allocation and code loading.
  for (const f of files.slice(0, 50)) codec.decompress(codec.compress(f, level));
  const compressed = new Array(files.length);
  // The best of `repeats` runs: other work on the machine only ever adds time.
  let compressMs = Infinity;
  let decompressMs = Infinity;
  for (let run = 0; run < repeats; run++) {
    compressMs = Math.min(
      compressMs,
      cpuMs(() => {
        for (let i = 0; i < files.length; i++) compressed[i] = codec.compress(files[i], level);
      }),
    );
    decompressMs = Math.min(
      decompressMs,
      cpuMs(() => {
        for (const c of compressed) codec.decompress(c);
      }),
    );
  }
  let compressedBytes = 0;
  // On disk: every file compressed, or only where it saves whole blocks (and at least 1/8 of them).
  let allBlocks = 0;
  let paysBlocks = 0;
  let paysFiles = 0;
  let paysBytes = 0;
  let paysLogical = 0;
  for (let i = 0; i < files.length; i++) {
    const raw = files[i].length;
    const c = compressed[i].length;
    compressedBytes += c;
    allBlocks += blocksOf(c);
    const saves = blocksOf(raw) - blocksOf(c);
    if (raw > block && saves >= 1 && c <= raw - raw / 8) {
      paysBlocks += blocksOf(c);
      paysFiles++;
      paysBytes += c;
      paysLogical += raw;
    } else paysBlocks += blocksOf(raw);
  }
  const mb = total / 1024 / 1024;
  results.push({
    codec: spec,
    ratio: total / compressedBytes,
    compressMsPerMB: compressMs / mb,
    decompressMsPerMB: decompressMs / mb,
    onDiskAllMB: (allBlocks * block) / 1024 / 1024,
    onDiskWherePaysMB: (paysBlocks * block) / 1024 / 1024,
    compressedFiles: paysFiles,
    ratioOfCompressed: paysLogical / Math.max(1, paysBytes),
  });
}

const summary = { files: files.length, bytes: total, block, filesUpToOneBlock: small, rawOnDiskMB: (rawBlocks * block) / 1024 / 1024, results };
if (json) console.log(JSON.stringify(summary, null, 2));
else {
  const f = (n, d = 1) => n.toFixed(d);
  console.log(`${files.length} files, ${f(total / 1024 / 1024)} MB; ${small} of ${block} bytes or less; raw on disk ${f(summary.rawOnDiskMB)} MB (${block}-byte blocks)\n`);
  console.log("| codec-level | ratio | compress ms/MB | decompress ms/MB | on disk, all compressed (MB) | on disk, where it pays (MB) | files compressed |");
  console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of results) {
    console.log(`| ${r.codec} | ${f(r.ratio, 2)} | ${f(r.compressMsPerMB)} | ${f(r.decompressMsPerMB)} | ${f(r.onDiskAllMB)} | ${f(r.onDiskWherePaysMB)} | ${r.compressedFiles} |`);
  }
}
