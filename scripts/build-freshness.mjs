// Whether a build is older than its sources: shared by `npm start` (scripts/start.mjs)
// and the HTTP test harness, so both rebuild exactly when the other would.
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

/** What the web build depends on (tests excluded: they are not part of the build). */
export const WEB_BUILD_INPUTS = ["app", "components", "lib", "server", "instrumentation.ts", "proxy.ts", "next.config.ts", "postcss.config.mjs", "tsconfig.json", "package.json"];

/** Newest mtime (ms) of a file, or of every non-test file below a folder; 0 when missing. */
export function newestSourceMtime(entry) {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return /\.test\.tsx?$/.test(entry) ? 0 : stat.mtimeMs;
  let newest = 0;
  for (const child of readdirSync(entry)) {
    if (child === "generated" || child === "node_modules") continue;
    newest = Math.max(newest, newestSourceMtime(path.join(entry, child)));
  }
  return newest;
}

/** True when <root>/.next holds no build, or one older than a source file. */
export function webBuildIsStale(root) {
  const buildId = path.join(root, ".next", "BUILD_ID");
  const builtAt = existsSync(buildId) ? statSync(buildId).mtimeMs : 0;
  return builtAt <= Math.max(...WEB_BUILD_INPUTS.map((entry) => newestSourceMtime(path.join(root, entry))));
}
