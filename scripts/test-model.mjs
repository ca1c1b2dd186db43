#!/usr/bin/env node
// `npm run test:model -- --runs N --seed S [--path P] [--max-commands C] [--s3-share PCT] [--shrink] [--keep]`:
// runs the model-based test of the safety net (test/model/) with more sequences
// than `npm test` does, or replays a failure from the seed and path it printed.
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "200" },
    seed: { type: "string", default: String(Date.now() % 2 ** 31) },
    path: { type: "string" },
    "max-commands": { type: "string", default: "30" },
    // Percent of the sequences whose objects live in a bucket (a replay needs the share it failed with).
    "s3-share": { type: "string", default: process.env.SAFETYNET_MODEL_S3_SHARE ?? "25" },
    shrink: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
  },
});
for (const name of ["runs", "seed", "max-commands", "s3-share"]) {
  if (!/^\d+$/.test(values[name])) {
    console.error(`--${name} must be a whole number, got "${values[name]}"`);
    process.exit(2);
  }
}
if (values.path !== undefined && !/^\d+(:\d+)*$/.test(values.path)) {
  console.error(`--path must look like 12:0:3 (as printed by a failing run), got "${values.path}"`);
  process.exit(2);
}
// The test drives the bundled CLI: build it from the current sources first.
const built = spawnSync(process.execPath, ["scripts/build-cli.mjs"], { stdio: "inherit" });
if (built.status !== 0) process.exit(built.status ?? 1);
console.log(`model test: ${values.runs} sequences, seed ${values.seed}${values.path ? `, path ${values.path}` : ""}, ${values["s3-share"]}% with objects in a bucket`);
const result = spawnSync(process.execPath, ["node_modules/vitest/vitest.mjs", "run", "test/model"], {
  stdio: "inherit",
  env: {
    ...process.env,
    SAFETYNET_MODEL_RUNS: values.runs,
    SAFETYNET_MODEL_SEED: values.seed,
    SAFETYNET_MODEL_MAX_COMMANDS: values["max-commands"],
    SAFETYNET_MODEL_S3_SHARE: values["s3-share"],
    ...(values.path ? { SAFETYNET_MODEL_PATH: values.path } : {}),
    ...(values.shrink ? { SAFETYNET_MODEL_SHRINK: "1" } : {}),
    ...(values.keep ? { SAFETYNET_MODEL_KEEP: "1" } : {}),
  },
});
process.exit(result.status ?? 1);
