import path from "node:path";
import { defineConfig } from "prisma/config";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";

// The Prisma CLI (generate, migrate diff) runs offline through the JS schema engine
// and a driver adapter; the product itself applies migrations with server/db/migrate.ts.
const dataDir = path.resolve(process.env.SAFETYNET_DATA_DIR ?? ".safetynet");

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  adapter: async () => new PrismaBetterSQLite3({ url: "file:" + path.join(dataDir, "safetynet.db") }),
});
