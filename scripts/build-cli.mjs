// Bundles the CLI (and the MCP entry) into dist/cli with code splitting, so a
// command loads only what it uses: start-up counts in every agent call.
import { rmSync } from "node:fs";
import { build } from "esbuild";

// Chunk names carry content hashes: start clean so stale chunks never pile up.
rmSync("dist/cli", { recursive: true, force: true });

await build({
  entryPoints: { main: "server/cli/main.ts" },
  outdir: "dist/cli",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  // Native or worker-based packages stay in node_modules.
  external: ["better-sqlite3", "prom-client", "fs-ext"],
  banner: { js: "import { createRequire as __snCreateRequire } from 'node:module'; const require = __snCreateRequire(import.meta.url);" },
  sourcemap: "linked",
  logLevel: "warning",
  legalComments: "none",
});
