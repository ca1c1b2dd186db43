/**
 * Start-up counts in every agent call: the CLI bundle's entry and the chunks it
 * imports statically must not contain @trpc/client (remote mode only), the MCP
 * SDK (`safetynet mcp` only) or the Watchman client (the server only); those are
 * chunks loaded by dynamic import.
 */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, REPO_ROOT } from "../support/workspace";

beforeAll(assertCliBundleFresh);

const BUNDLE = path.join(REPO_ROOT, "dist", "cli");

/**
 * The files reachable from `entry`: with `dynamic: false` only through static
 * imports (what is loaded before any command runs), else also through import().
 */
function reachable(entry: string, options: { dynamic: boolean }): string[] {
  const seen = new Set<string>();
  const patterns = [/^\s*(?:import|export)\s[^;]*?from\s*["'](\.\.?\/[^"']+)["']/gm, /^\s*import\s*["'](\.\.?\/[^"']+)["']/gm];
  if (options.dynamic) patterns.push(/\bimport\(\s*["'](\.\.?\/[^"']+)["']\s*\)/g);
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = fs.readFileSync(file, "utf8");
    for (const pattern of patterns) for (const match of code.matchAll(pattern)) visit(path.resolve(path.dirname(file), match[1] as string));
  };
  visit(entry);
  return [...seen];
}

function sourcesOf(file: string): string[] {
  const map = `${file}.map`;
  return fs.existsSync(map) ? (JSON.parse(fs.readFileSync(map, "utf8")) as { sources: string[] }).sources : [];
}

describe("the CLI bundle stays lean", () => {
  it("loads @trpc/client and the MCP SDK only on demand", () => {
    const graph = reachable(path.join(BUNDLE, "main.mjs"), { dynamic: false });
    const sources = graph.flatMap(sourcesOf);
    expect(sources.some((s) => s.includes("server/cli/main.ts"))).toBe(true);
    expect(sources.filter((s) => s.includes("node_modules/@trpc/"))).toEqual([]);
    expect(sources.filter((s) => s.includes("node_modules/@modelcontextprotocol/"))).toEqual([]);
    expect(sources.filter((s) => /server\/mcp\/(remote-client|server|local-client)\.ts$/.test(s))).toEqual([]);
    // Only the server tracks changes with Watchman: its client is loaded when change tracking is turned on.
    expect(sources.filter((s) => s.includes("node_modules/fb-watchman/") || s.includes("node_modules/bser/"))).toEqual([]);

    // ...but they are in the bundle, as separate chunks.
    const all = reachable(path.join(BUNDLE, "main.mjs"), { dynamic: true });
    const lazy = all.filter((f) => !graph.includes(f)).flatMap(sourcesOf);
    expect(lazy.some((s) => s.includes("node_modules/@trpc/client/"))).toBe(true);
    expect(lazy.some((s) => s.includes("node_modules/@modelcontextprotocol/sdk/"))).toBe(true);
  });
});

describe("the PostgreSQL side loads only when configured", () => {
  it("keeps pg and the PostgreSQL Prisma client out of what the core loads at start-up", () => {
    const chunks = reachable(path.join(BUNDLE, "main.mjs"), { dynamic: true });
    const coreChunk = chunks.find((f) => sourcesOf(f).some((s) => s.endsWith("server/core.ts")));
    expect(coreChunk, "a chunk holds server/core.ts").toBeDefined();
    const withCore = reachable(coreChunk as string, { dynamic: false }).flatMap(sourcesOf);
    expect(withCore.some((s) => s.includes("server/generated/prisma/"))).toBe(true);
    expect(withCore.filter((s) => s.includes("node_modules/pg/") || s.includes("server/generated/prisma-postgres/"))).toEqual([]);
    // ...but they are in the bundle, for loadMetadataDriver.
    const lazy = chunks.flatMap(sourcesOf);
    expect(lazy.some((s) => s.includes("node_modules/pg/"))).toBe(true);
    expect(lazy.some((s) => s.includes("server/generated/prisma-postgres/"))).toBe(true);
  });
});
