// --console: the operator's console with 10,000 checkpoints (scripts/bench-console.mjs).
import path from "node:path";
import { RESULTS_DIR } from "../paths.mjs";

export async function runConsoleScenario(opts) {
  const { consoleScenario, consoleTable } = await import("../../bench-console.mjs");
  const results = await consoleScenario({ ...opts.console, runs: opts.runs });
  process.stdout.write(consoleTable(results) + "\n");
  process.stderr.write(`bench --console: results written to ${path.relative(process.cwd(), path.join(RESULTS_DIR, "console.json"))}\n`);
}
