import path from "node:path";
import { configDefaults, defineConfig } from "vitest/config";

// SAFETYNET_TEST_METADATA=postgres runs the same specifications with PostgreSQL as the
// metadata store (one database for the run, a schema per data directory).
const postgresPass = process.env.SAFETYNET_TEST_METADATA === "postgres";
// SAFETYNET_TEST_OBJECT_STORE=s3 runs them with the objects in a bucket (one s3rver for
// the run, a prefix per data directory); either metadata store.
const s3Pass = process.env.SAFETYNET_TEST_OBJECT_STORE === "s3";

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["server/**/*.test.ts", "test/**/*.test.ts"],
    // test/http needs a running server: vitest.http.config.ts starts one.
    exclude: [...configDefaults.exclude, "test/http/**"],
    globalSetup: [...(postgresPass ? ["test/support/postgres-pass.ts"] : []), ...(s3Pass ? ["test/support/s3-pass.ts"] : [])],
    setupFiles: ["test/support/metadata-driver.ts"],
    environment: "node",
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 300_000,
  },
});
