import path from "node:path";
import { defineConfig } from "vitest/config";

// HTTP tests: a real production server (next build + next start) driven with fetch.
// Run with: npx vitest run --config vitest.http.config.ts
export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["test/http/**/*.test.ts"],
    globalSetup: ["test/http/global-setup.ts"],
    environment: "node",
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
