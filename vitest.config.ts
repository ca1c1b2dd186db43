import path from "node:path";
import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["server/**/*.test.ts", "test/**/*.test.ts"],
    // test/http needs a running server: vitest.http.config.ts starts one.
    exclude: [...configDefaults.exclude, "test/http/**"],
    environment: "node",
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 300_000,
  },
});
