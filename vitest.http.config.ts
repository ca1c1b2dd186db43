import path from "node:path";
import { defineConfig } from "vitest/config";

// HTTP tests: a real production server (next build + next start) driven with fetch.
// Run with: npx vitest run --config vitest.http.config.ts
// SAFETYNET_TEST_METADATA=postgres: the servers (and the CLI runs on their data
// directories) keep their metadata in PostgreSQL.
// SAFETYNET_TEST_OBJECT_STORE=s3: their objects live in a bucket (one s3rver for the run).
const postgresPass = process.env.SAFETYNET_TEST_METADATA === "postgres";
const s3Pass = process.env.SAFETYNET_TEST_OBJECT_STORE === "s3";

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["test/http/**/*.test.ts"],
    // The passes' database and s3rver first: the servers' global setup hands them on.
    globalSetup: [...(postgresPass ? ["test/support/postgres-pass.ts"] : []), ...(s3Pass ? ["test/support/s3-pass.ts"] : []), "test/http/global-setup.ts"],
    setupFiles: ["test/support/metadata-driver.ts"],
    environment: "node",
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
