import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";

// The Prisma CLI on the PostgreSQL variant (generate, migrate diff), offline through the
// JS schema engine and the pg driver adapter. The product applies the migrations itself
// (server/db/migrate.ts); DATABASE_URL is only read here for `migrate diff` against a live database.
export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "schema.prisma",
  migrations: { path: "migrations" },
  adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres" }),
});
