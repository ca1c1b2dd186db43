import path from "node:path";
import { defineConfig } from "vitest/config";

// HTTP tests: a real production server (next build + next start) driven with fetch.
// Run with: npx vitest run --config vitest.http.config.ts
// SAFETYNET_TEST_METADATA=postgres: the servers (and the CLI runs on their data
// directories) keep their metadata in PostgreSQL.
const postgresPass = process.env.SAFETYNET_TEST_METADATA === "postgres";

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["test/http/**/*.test.ts"],
    // The PostgreSQL pass's database first: the servers' global setup hands its URL on.
    globalSetup: [...(postgresPass ? ["test/support/postgres-pass.ts"] : []), "test/http/global-setup.ts"],
    setupFiles: ["test/support/metadata-driver.ts"],
    environment: "node",
    pool: "forks",
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
