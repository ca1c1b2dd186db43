// Where the bench finds the programs it measures and writes its results.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const GENERATORS = path.join(REPO_ROOT, "scripts", "generators");
export const MAKE_TREE = path.join(GENERATORS, "make-tree.mjs");
export const MUTATE_TREE = path.join(GENERATORS, "mutate-tree.mjs");
export const CLI = path.join(REPO_ROOT, "bin", "safetynet.mjs");
export const BUILD_CLI = path.join(REPO_ROOT, "scripts", "build-cli.mjs");
/** What `npm start` runs (build when stale, then scripts/next-server.mjs). */
export const START_SCRIPT = path.join(REPO_ROOT, "scripts", "start.mjs");
/** The actual HTTP server process under `npm start` and `safetynet serve`. */
export const NEXT_SERVER_SCRIPT = path.join(REPO_ROOT, "scripts", "next-server.mjs");
export const DRIVER_SOURCE = path.join(REPO_ROOT, "scripts", "bench-engine-driver.ts");
// dist/ is git- and lint-ignored, and from there the bundle finds prisma/migrations and node_modules.
export const DRIVER_BUNDLE = path.join(REPO_ROOT, "dist", "bench", "engine-driver.mjs");
export const RESULTS_DIR = path.join(REPO_ROOT, ".bench");
export const RESULTS_FILE = path.join(RESULTS_DIR, "results.json");
export const LOAD_RESULTS_FILE = path.join(RESULTS_DIR, "load.json");
export const S3_RESULTS_FILE = path.join(RESULTS_DIR, "s3.json");
export const GNU_TIME = "/usr/bin/time";
