#!/usr/bin/env node
// Change tracker benchmark: what a server-side whole-component scan costs on a
// make-tree.mjs tree (default 10,000 files) when it asks Watchman what changed
// (server/scan/change-tracker.ts) against a walk of the whole tree (the walker,
// server/scan/walk.ts), after 0 and after C changed files (mutate-tree.mjs,
// default 50: edits, deletions, additions, a folder renamed, a mode flipped).
//
//   node scripts/bench-change-tracker.mjs [--files 10000] [--changes 50] [--runs 5] [--binary watchman]
//
// Self-contained: bundles the tracker with esbuild into a temp directory, needs no
// build; runs a Watchman daemon of its own (its own socket and state in the temp
// directory) and shuts it down at the end. Each run: the tracker's scan and a walk
// of the unchanged tree, then the tree is changed and both are measured again (the
// tracker first; its answer is checked against the walk). Prints medians (ms).
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { isDeepStrictEqual } from "node:util";

const { values } = parseArgs({
  options: {
    files: { type: "string", default: "10000" },
    changes: { type: "string", default: "50" },
    runs: { type: "string", default: "5" },
    binary: { type: "string", default: "watchman" },
  },
});
const here = path.dirname(fileURLToPath(import.meta.url));
const work = fs.mkdtempSync(path.join(os.tmpdir(), "sn-bench-tracker-"));
const real = spawnSync("sh", ["-c", `command -v ${values.binary}`], { encoding: "utf8" }).stdout.trim();
if (!real) {
  console.error(`no ${values.binary} on PATH: apt-get install -y watchman`);
  process.exit(2);
}
const wrapper = path.join(work, "watchman");
fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${real} --sockname=${work}/sock --statefile=${work}/state --logfile=${work}/log --pidfile=${work}/pid "$@"\n`, { mode: 0o755 });

const { build } = await import("esbuild");
const moduleFile = path.join(work, "tracker.mjs");
await build({
  stdin: { contents: 'export * from "./server/scan/change-tracker.ts"; export { scanComponent } from "./server/scan/walk.ts";', resolveDir: path.join(here, ".."), loader: "ts" },
  outfile: moduleFile,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: "warning",
});
const { enableChangeTracking, changeTracker, disableChangeTracking, scanComponent } = await import(pathToFileURL(moduleFile).href);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = async (fn) => {
  const t0 = performance.now();
  const result = await fn();
  return { ms: performance.now() - t0, result };
};
const generator = (name, args) => execFileSync(process.execPath, [path.join(here, "generators", name), ...args], { encoding: "utf8" });

const root = path.join(work, "tree");
generator("make-tree.mjs", [root, "--files", values.files]);
const realRoot = fs.realpathSync(root);
const log = { info: () => undefined, warn: (m) => console.error(`watchman: ${m}`) };
if (!(await enableChangeTracking({ binary: wrapper, log }))) throw new Error("Watchman could not be enabled");
const tracker = changeTracker();
const options = { extraExcludes: [] };
const rows = { tracker0: [], walk0: [], trackerC: [], walkC: [] };
let entries = 0;
try {
  // The first scan of a component walks (and starts the watch): not measured.
  await tracker.scanAll("bench", realRoot, options);
  for (let run = 0; run < Number(values.runs); run++) {
    const unchanged = await time(() => tracker.scanAll("bench", realRoot, options));
    const walked = await time(() => scanComponent(realRoot, { ...options, scope: { kind: "all" } }));
    if (!isDeepStrictEqual(unchanged.result, walked.result)) throw new Error("the tracker's scan differs from the walk (unchanged tree)");
    rows.tracker0.push(unchanged.ms);
    rows.walk0.push(walked.ms);
    generator("mutate-tree.mjs", [root, "--changes", values.changes, "--seed", String(100 + run)]);
    const changed = await time(() => tracker.scanAll("bench", realRoot, options));
    const walkedAfter = await time(() => scanComponent(realRoot, { ...options, scope: { kind: "all" } }));
    if (!isDeepStrictEqual(changed.result, walkedAfter.result)) throw new Error("the tracker's scan differs from the walk (changed tree)");
    rows.trackerC.push(changed.ms);
    rows.walkC.push(walkedAfter.ms);
    entries = walkedAfter.result.length;
  }
  console.log(`${values.files} files (${entries} entries scanned), ${values.changes} changed files, median of ${values.runs} runs; stats ${JSON.stringify(tracker.stats)}`);
  console.table({
    "unchanged tree": { "Watchman (ms)": +median(rows.tracker0).toFixed(1), "walk (ms)": +median(rows.walk0).toFixed(1) },
    [`after ${values.changes} changed files`]: { "Watchman (ms)": +median(rows.trackerC).toFixed(1), "walk (ms)": +median(rows.walkC).toFixed(1) },
  });
} finally {
  await disableChangeTracking();
  spawnSync(wrapper, ["--no-spawn", "shutdown-server"], { stdio: "ignore" });
  fs.rmSync(work, { recursive: true, force: true });
}
