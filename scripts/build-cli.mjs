// Bundles the CLI (and the MCP entry) with code splitting, so a command loads only
// what it uses: start-up counts in every agent call. Each build goes to a folder of
// its own and `dist/cli` is switched to it atomically; builds a running CLI still
// needs are kept (scripts/cli-builds.mjs says how).
import { rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { finishBuild, startBuild } from "./cli-builds.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const distDir = path.join(root, "dist");
const partial = startBuild(distDir);

try {
  await build({
    absWorkingDir: root,
    entryPoints: { main: "server/cli/main.ts" },
    outdir: partial,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunks/[name]-[hash]",
    // Native or worker-based packages stay in node_modules.
    external: ["better-sqlite3", "prom-client", "fs-ext", "graphile-worker"],
    banner: { js: "import { createRequire as __snCreateRequire } from 'node:module'; const require = __snCreateRequire(import.meta.url);" },
    sourcemap: "linked",
    logLevel: "warning",
    legalComments: "none",
  });
} catch (error) {
  rmSync(partial, { recursive: true, force: true });
  throw error;
}

finishBuild(distDir, partial);
