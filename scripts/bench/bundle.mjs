// Bundles a TypeScript entry that drives the core (the engine driver, the console seed)
// into dist/bench/, the same way scripts/build-cli.mjs bundles the CLI: native or
// worker-based packages stay in node_modules, where the bundle finds them from dist/.
export async function bundleForNode(entry, outfile) {
  const { build } = await import("esbuild");
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    // The native packages scripts/build-cli.mjs leaves out too (fs-ext has a .node addon).
    external: ["better-sqlite3", "pino", "prom-client", "fs-ext"],
    banner: { js: "import { createRequire as __snCreateRequire } from 'node:module'; const require = __snCreateRequire(import.meta.url);" },
    logLevel: "warning",
    legalComments: "none",
  });
}
