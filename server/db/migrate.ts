/**
 * Applies the committed Prisma migrations (prisma/migrations/<name>/migration.sql
 * with better-sqlite3; prisma/postgres/migrations with pg), recording them in
 * Prisma's own `_prisma_migrations` table so `prisma migrate deploy/status` agree. Running the Prisma CLI at every
 * start would cost seconds; this costs one small query when nothing is pending.
 */
import { createHash, randomUUID } from "node:crypto";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import path from "node:path";
import type Database from "better-sqlite3";

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" TEXT PRIMARY KEY NOT NULL,
  "checksum" TEXT NOT NULL,
  "finished_at" DATETIME,
  "migration_name" TEXT NOT NULL,
  "logs" TEXT,
  "rolled_back_at" DATETIME,
  "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
  "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

export function migrationsDir(packageRoot: string): string {
  return path.join(packageRoot, "prisma", "migrations");
}

/** Applies every pending migration in name order, each in its own transaction. Returns the names applied. */
export function applyMigrations(db: Database.Database, dir: string): string[] {
  if (!existsSync(dir)) throw new Error(`migrations folder not found: ${dir}`);
  db.exec(MIGRATIONS_TABLE);
  const applied = new Set(
    (db.prepare(`SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL`).all() as { migration_name: string }[]).map(
      (row) => row.migration_name,
    ),
  );
  const pending = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !applied.has(e.name))
    .map((e) => e.name)
    .sort();
  for (const name of pending) {
    const sql = readFileSync(path.join(dir, name, "migration.sql"), "utf8");
    const checksum = createHash("sha256").update(sql).digest("hex");
    db.transaction(() => {
      db.exec(sql);
      db.prepare(
        `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES (?, ?, current_timestamp, ?, 1)`,
      ).run(randomUUID(), checksum, name);
    })();
  }
  return pending;
}

/** The PostgreSQL variant's migrations (generated from the SQLite schema by scripts/gen-postgres-schema.mjs). */
export function postgresMigrationsDir(packageRoot: string): string {
  return path.join(packageRoot, "prisma", "postgres", "migrations");
}

const POSTGRES_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

/** The part of a pg client the migrator needs (pg.Client and pg.PoolClient both have it). */
export interface SqlSession {
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Whether `schema` has never been migrated (no migrations table): a new metadata store. */
export async function isUnmigratedPostgres(session: SqlSession, schema: string): Promise<boolean> {
  const { rows } = await session.query<{ found: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS found`, [`${quoteIdent(schema)}."_prisma_migrations"`]);
  return !rows[0]?.found;
}

/**
 * Applies every pending migration in `schema` (created when missing), each in its own
 * transaction. Several instances starting at once take turns: a transaction-level
 * advisory lock on the schema serializes them, and each sees what the others applied.
 */
export async function applyPostgresMigrations(session: SqlSession, dir: string, schema: string): Promise<string[]> {
  if (!existsSync(dir)) throw new Error(`migrations folder not found: ${dir}`);
  const names = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const applied: string[] = [];
  const lockKey = `safetynet-migrations:${schema}`;
  await session.query("BEGIN");
  try {
    await session.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [lockKey]);
    await session.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await session.query(`SET LOCAL search_path TO ${quoteIdent(schema)}`);
    await session.query(POSTGRES_MIGRATIONS_TABLE);
    const done = new Set((await session.query<{ migration_name: string }>(`SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL`)).rows.map((r) => r.migration_name));
    for (const name of names.filter((n) => !done.has(n))) {
      const sql = readFileSync(path.join(dir, name, "migration.sql"), "utf8");
      const checksum = createHash("sha256").update(sql).digest("hex");
      // One transaction for all pending migrations: PostgreSQL DDL is transactional, so a failure leaves none applied.
      await session.query(sql);
      await session.query(`INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ($1, $2, now(), $3, 1)`, [randomUUID(), checksum, name]);
      applied.push(name);
    }
    await session.query("COMMIT");
  } catch (error) {
    await session.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
  return applied;
}
