#!/usr/bin/env node
// Stat cache benchmark: what one checkpoint pays for its stat cache in a tree of
// N files (default 250,000) of which C changed (default 50: 30 modified, 10 added,
// 10 removed), with the SQLite cache (server/scan/stat-cache.ts) against the JSON
// file the previous version rewrote on every checkpoint (reproduced here: same
// format, same atomic write: temp file, fsync, rename, directory fsync).
//
//   node scripts/bench-stat-cache.mjs [--files 250000] [--changed 50] [--dir /tmp/x]
//
// Self-contained: bundles the cache module with esbuild into a temp directory, needs
// no build. Each case runs in a fresh process (its peak RSS is the process's
// maxRSS, the synthetic scan of N entries included; "baseline" is that scan alone),
// on a cache file prepared beforehand by another process. "bytes written" is what
// the case passed to write() (/proc/self/io wchar; Linux only), WAL checkpoint at
// close included. Cases:
//   json          load + look up every file + record the changes + save (old)
//   sqlite-bulk   the same, rows read in one query (whole-component checkpoint)
//   sqlite-point  the same, one indexed query per file (measured to pick the default)
//   sqlite-paths  a checkpoint of 1,000 listed paths (point queries, no full read)
//   sqlite-clean  whole-component checkpoint with nothing changed
//   import        first open after the upgrade: the old JSON imported once
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";

const { values } = parseArgs({
  options: {
    files: { type: "string", default: "250000" },
    changed: { type: "string", default: "50" },
    dir: { type: "string" },
    case: { type: "string" },
    module: { type: "string" },
  },
});
const N = Number(values.files);
const CHANGED = Number(values.changed);
const GEN = 1;
const ID = "component";
const T = 1_700_000_000_000; // fixed: every process must build the same scan

/** The synthetic scan: sorted paths in a few levels of folders, one file each. */
function scan(n) {
  const entries = [];
  for (let i = 0; i < n; i++) {
    const p = `packages/pkg${i % 40}/src/dir${Math.floor(i / 40) % 250}/module-${i}.ts`;
    entries.push({ path: p, kind: "file", mode: 0o644, size: 1000 + (i % 5000), mtimeMs: T + i + 0.123, ctimeMs: T + i + 0.456, ino: 1_000_000 + i });
  }
  return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
const sha = (s) => createHash("sha256").update(s).digest("hex");

/** The workspace after the change: every 1/30th file modified, 10 removed, 10 added. */
function changedScan(entries) {
  const step = Math.floor(entries.length / CHANGED);
  const modified = Math.round(CHANGED * 0.6);
  const removed = Math.round(CHANGED * 0.2);
  const added = CHANGED - modified - removed;
  const out = entries.slice();
  for (let k = 0; k < modified; k++) out[k * step] = { ...out[k * step], size: out[k * step].size + 1, mtimeMs: T + 3_600_000 + k };
  const gone = new Set();
  for (let k = 0; k < removed; k++) gone.add(out[k * step + 1].path);
  const next = out.filter((e) => !gone.has(e.path));
  for (let k = 0; k < added; k++) next.push({ path: `new/file-${k}.ts`, kind: "file", mode: 0o644, size: 10, mtimeMs: T + k, ctimeMs: T + k, ino: 9_000_000 + k });
  return next.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function wchar() {
  try {
    return Number(/wchar: (\d+)/.exec(fs.readFileSync("/proc/self/io", "utf8"))[1]);
  } catch {
    return NaN;
  }
}

function oldSave(file, records) {
  const entries = {};
  for (const [p, r] of records) entries[p] = [r.size, r.mtimeMs, r.ctimeMs, r.ino, r.sha256];
  const text = JSON.stringify({ version: 2, storeGeneration: GEN, entries });
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, "wx", 0o600);
  fs.writeSync(fd, text);
  fs.fdatasyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  const dfd = fs.openSync(path.dirname(file), "r");
  fs.fsyncSync(dfd);
  fs.closeSync(dfd);
}

async function runCase(name, dir) {
  const m = await import(pathToFileURL(values.module).href);
  const base = scan(N);
  const live = name === "sqlite-clean" ? base : changedScan(base);
  const rss0 = process.resourceUsage().maxRSS;
  const out = { case: name };
  const w0 = wchar();
  let t = performance.now();
  const lap = (key) => {
    const now = performance.now();
    out[key] = Math.round(now - t);
    t = now;
  };

  if (name === "setup-json" || name === "setup-sqlite") {
    const records = new Map(base.map((e) => [e.path, { size: e.size, mtimeMs: e.mtimeMs, ctimeMs: e.ctimeMs, ino: e.ino, sha256: sha(e.path) }]));
    if (name === "setup-json") oldSave(path.join(dir, `${ID}.json`), records);
    else {
      const cache = m.openStatCache(dir, ID, GEN, { writable: true });
      for (const e of base) cache.record(e, records.get(e.path).sha256);
      cache.save();
      cache.close();
    }
    return out;
  }
  if (name === "baseline") return { ...out, peakRssMB: Math.round(rss0 / 1024) };

  if (name === "json") {
    // As the previous version loaded it: parse, validate, one record per file.
    const records = new Map();
    for (const [p, [size, mtimeMs, ctimeMs, ino, sha256]] of Object.entries(m.readLegacyJsonCache(path.join(dir, `${ID}.json`), GEN))) records.set(p, { size, mtimeMs, ctimeMs, ino, sha256 });
    lap("loadMs");
    let hits = 0;
    for (const e of live) {
      const r = records.get(e.path);
      if (r && r.size === e.size && r.mtimeMs === e.mtimeMs && r.ctimeMs === e.ctimeMs && r.ino === e.ino) hits++;
      else records.set(e.path, { size: e.size, mtimeMs: e.mtimeMs, ctimeMs: e.ctimeMs, ino: e.ino, sha256: sha(e.path + "new") });
    }
    const keep = new Set(live.map((e) => e.path));
    for (const p of records.keys()) if (!keep.has(p)) records.delete(p);
    lap("lookupMs");
    const w = wchar();
    oldSave(path.join(dir, `${ID}.json`), records);
    lap("saveMs");
    out.bytesWritten = wchar() - w;
    out.hits = hits;
  } else if (name === "import") {
    const cache = m.openStatCache(dir, ID, GEN, { writable: true, preload: true });
    lap("loadMs");
    out.imported = cache.size;
    cache.close();
    lap("closeMs");
    out.bytesWritten = wchar() - w0;
  } else {
    const paths = name === "sqlite-paths";
    const scope = paths ? live.filter((_, i) => i % Math.floor(live.length / 1000) === 0).slice(0, 1000) : live;
    const cache = m.openStatCache(dir, ID, GEN, { writable: true, preload: name !== "sqlite-point" && !paths });
    lap("loadMs");
    let hits = 0;
    for (const e of scope) {
      if (cache.lookup(e)) hits++;
      else cache.record(e, sha(e.path + "new"));
    }
    if (!paths) cache.retainOnly(new Set(scope.map((e) => e.path)));
    lap("lookupMs");
    const w = wchar();
    const saved = cache.save();
    lap("saveMs");
    cache.close();
    lap("closeMs");
    out.bytesWritten = wchar() - w;
    out.rowsChanged = saved.rowsChanged;
    out.hits = hits;
  }
  out.peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
  const file = fs.readdirSync(dir).map((f) => `${f}=${fs.statSync(path.join(dir, f)).size}`);
  out.files = file.join(" ");
  return out;
}

if (values.case) {
  console.log(JSON.stringify(await runCase(values.case, values.dir)));
  process.exit(0);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const work = values.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "sn-bench-statcache-"));
const { build } = await import("esbuild");
const moduleFile = path.join(work, "stat-cache.mjs");
await build({
  entryPoints: [path.join(here, "../server/scan/stat-cache.ts")],
  outfile: moduleFile,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: ["better-sqlite3"],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: "warning",
});
// The bundle resolves better-sqlite3 from the repository's node_modules.
fs.symlinkSync(path.join(here, "../node_modules"), path.join(work, "node_modules"));

function child(name, dir) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--case", name, "--dir", dir, "--module", moduleFile, "--files", String(N), "--changed", String(CHANGED)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop());
}

const results = [child("baseline", work)];
for (const name of ["json", "import", "sqlite-bulk", "sqlite-point", "sqlite-paths", "sqlite-clean"]) {
  const dir = fs.mkdtempSync(path.join(work, `${name}-`));
  child(name === "json" || name === "import" ? "setup-json" : "setup-sqlite", dir);
  results.push(child(name, dir));
}
console.log(`stat cache, ${N} files, ${CHANGED} changed`);
console.table(results);
if (!values.dir) fs.rmSync(work, { recursive: true, force: true });
