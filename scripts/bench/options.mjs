// Command-line options of `npm run bench` (documented at the top of scripts/bench.mjs).
// Precedence: a value given on the command line, then the preset (--quick), then the
// huge-tree defaults (fewer runs and columns, to fit in 15 minutes on 2 cores), then the defaults.
import { parseArgs } from "node:util";
import { TOOL_NAMES } from "./tools/index.mjs";

const DEFAULTS = {
  files: "10000",
  mb: "100",
  runs: "5",
  changes: "50",
  "big-mb": "1024",
  tools: TOOL_NAMES.join(","),
  "startup-runs": "10",
  "console-checkpoints": "10000",
  "console-days": "200",
  "db-mb": "1024",
  "pg-url": process.env.SAFETYNET_BENCH_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres",
  "load-seconds": "60",
  agents: "50",
  "load-files": "200",
  "load-changes": "20",
  "change-cost-steps": "1000",
  "change-cost-history": "10000",
  "change-cost-history-via": "api",
  "hook-runs": "50",
  "s3-big-mb": "1024",
  "s3-steps": "200",
};

/** The change-cost scenario's runs when --runs is not given (no preset lowers them: its operations are cheap). */
const CHANGE_COST_RUNS = 5;

/** The --s3 scenario's runs when --runs is not given: each run's first checkpoint uploads the whole tree. */
const S3_RUNS = 3;

/** --quick: the README table's run. */
const QUICK = { files: "10000", mb: "100", runs: "3", "skip-big": true };

/** A tree this large is a scale run: one run, and only the columns the scale targets name. */
export const HUGE_FILES = 100_000;
// The full restore is left out too: the scale targets do not name it, and it is the longest step.
const HUGE = { runs: "1", tools: "cli,warm,git", "skip-restore": true };

const BOOLEANS = ["skip-big", "skip-restore", "keep", "console", "db-pg", "skip-main", "quick", "load", "change-cost", "hooks", "s3"];

export function parseOptions(argv = process.argv.slice(2)) {
  const spec = Object.fromEntries([...Object.keys(DEFAULTS).map((name) => [name, { type: "string" }]), ...BOOLEANS.map((name) => [name, { type: "boolean" }])]);
  const { values: given } = parseArgs({ args: argv, options: spec, strict: true });
  const preset = given.quick ? QUICK : {};
  const files = Number(given.files ?? preset.files ?? DEFAULTS.files);
  const huge = files >= HUGE_FILES ? HUGE : {};
  const values = { ...DEFAULTS, ...huge, ...preset, ...given };

  const num = (name) => {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} expects a positive number, got ${values[name]}`);
    return n;
  };
  const int = (name) => Math.round(num(name));
  return {
    files: int("files"),
    mb: num("mb"),
    runs: int("runs"),
    changes: int("changes"),
    skipBig: Boolean(values["skip-big"]),
    skipRestore: Boolean(values["skip-restore"]),
    bigMb: num("big-mb"),
    tools: values.tools.split(",").map((t) => t.trim()).filter(Boolean),
    startupRuns: int("startup-runs"),
    keep: Boolean(values.keep),
    quick: Boolean(values.quick),
    huge: files >= HUGE_FILES,
    console: values.console ? { checkpoints: int("console-checkpoints"), days: int("console-days") } : null,
    dbPg: Boolean(values["db-pg"]),
    dbMb: num("db-mb"),
    pgUrl: values["pg-url"],
    skipMain: Boolean(values["skip-main"]),
    load: values.load ? { seconds: num("load-seconds"), agents: int("agents"), files: int("load-files"), changes: int("load-changes") } : null,
    /** --hooks: only the agent-hook row (scripts/bench/scenarios/hooks.mjs); the default run includes it too (not at scale). */
    hooks: Boolean(values.hooks),
    hookRuns: int("hook-runs"),
    /** --change-cost: that scenario instead of the main one. */
    changeCost: values["change-cost"] ? changeCostOptions(values, given, int) : null,
    /** --s3: the local store against a bucket (scripts/bench/scenarios/s3.mjs) instead of the main scenario. */
    s3: values.s3 ? { runs: given.runs === undefined ? S3_RUNS : int("runs"), bigMb: num("s3-big-mb"), steps: int("s3-steps") } : null,
  };
}

function changeCostOptions(values, given, int) {
  const via = values["change-cost-history-via"];
  if (via !== "api" && via !== "engine") throw new Error(`--change-cost-history-via expects api or engine, got ${via}`);
  const runs = given.runs === undefined ? CHANGE_COST_RUNS : int("runs");
  return { runs, steps: int("change-cost-steps"), historyCheckpoints: int("change-cost-history"), historyVia: via };
}
