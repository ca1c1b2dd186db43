/**
 * Applies the committed Prisma migrations (prisma/migrations/<name>/migration.sql)
 * directly with better-sqlite3, recording them in Prisma's own `_prisma_migrations`
 * table so `prisma migrate deploy/status` agree. Running the Prisma CLI at every
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
