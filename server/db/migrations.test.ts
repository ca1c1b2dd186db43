/**
 * The two variants of the data model stay one: the PostgreSQL schema is what the
 * generator makes of the SQLite one, and each set of migrations builds exactly
 * the tables and columns its Prisma client expects (a schema change without its
 * migration, in either folder, fails here).
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { Prisma as SqlitePrisma } from "../generated/prisma/client";
import { Prisma as PostgresPrisma } from "../generated/prisma-postgres/client";
import { packageRoot } from "../config";
import { applyMigrations, applyPostgresMigrations, migrationsDir, postgresMigrationsDir } from "./migrate";
import { dropSchema, TEST_POSTGRES_URL, uniqueName, withPostgres } from "../../test/support/postgres";

/** Model name -> its scalar fields, as the generated client knows them. */
function expectedColumns(namespace: Record<string, unknown>): Record<string, string[]> {
  const models = Object.values(namespace.ModelName as Record<string, string>);
  return Object.fromEntries(models.map((model) => [model, Object.values(namespace[`${model}ScalarFieldEnum`] as Record<string, string>).sort()]));
}

describe("the data model's two variants", () => {
  it("keeps prisma/postgres/schema.prisma generated from prisma/schema.prisma", () => {
    execFileSync(process.execPath, [path.join(packageRoot(), "scripts", "gen-postgres-schema.mjs"), "--check"], { stdio: "pipe" });
  });

  it("builds, with the SQLite migrations, exactly the tables and columns the SQLite client expects", () => {
    const db = new Database(":memory:");
    try {
      applyMigrations(db, migrationsDir(packageRoot()));
      const expected = expectedColumns(SqlitePrisma as unknown as Record<string, unknown>);
      const actual = Object.fromEntries(
        Object.keys(expected).map((table) => [table, (db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[]).map((c) => c.name).sort()]),
      );
      expect(actual).toEqual(expected);
    } finally {
      db.close();
    }
  });

  it("builds, with the PostgreSQL migrations, exactly the tables and columns the PostgreSQL client expects", async () => {
    const schema = uniqueName("migrations");
    try {
      const actual = await withPostgres(async (client) => {
        await applyPostgresMigrations(client as unknown as pg.PoolClient, postgresMigrationsDir(packageRoot()), schema);
        // A second run applies nothing (several instances start at once, each runs it).
        expect(await applyPostgresMigrations(client as unknown as pg.PoolClient, postgresMigrationsDir(packageRoot()), schema)).toEqual([]);
        const { rows } = await client.query<{ table_name: string; column_name: string }>(
          "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name <> '_prisma_migrations'",
          [schema],
        );
        const tables: Record<string, string[]> = {};
        for (const row of rows) (tables[row.table_name] ??= []).push(row.column_name);
        for (const columns of Object.values(tables)) columns.sort();
        return tables;
      }, TEST_POSTGRES_URL);
      expect(actual).toEqual(expectedColumns(PostgresPrisma as unknown as Record<string, unknown>));
    } finally {
      await dropSchema(schema);
    }
  });
});
