/**
 * The one Prisma client per data directory. Opening it also applies pending
 * migrations, so the CLI and the server both work on a brand-new data dir.
 */
import path from "node:path";
import Database from "better-sqlite3";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "./generated/prisma/client";
import { applyMigrations, migrationsDir } from "./db/migrate";
import { packageRoot } from "./config";
import { createPrivateFile, makePrivateDir } from "./private-files";

export type Db = PrismaClient;

export function databasePath(dataDir: string): string {
  return path.join(dataDir, "safetynet.db");
}

function prepareDatabaseFile(file: string): void {
  // Where SQLite would create the file with mode 0644: create it 0600 first (its WAL and SHM take the same mode).
  createPrivateFile(file);
  const sqlite = new Database(file);
  try {
    // WAL lets the server read while a CLI writes; busy_timeout turns brief contention into waiting, not "database is locked".
    sqlite.pragma("journal_mode = WAL");
    applyMigrations(sqlite, migrationsDir(packageRoot()));
  } finally {
    sqlite.close();
  }
}

// One client per database file per process, even when a bundler (Next) duplicates this
// module into several chunks: two clients on one file would each run the migrations.
const globalClients = globalThis as typeof globalThis & { __safetynetDbClients?: Map<string, PrismaClient> };
const clients = (globalClients.__safetynetDbClients ??= new Map<string, PrismaClient>());

export function openDb(dataDir: string): PrismaClient {
  const file = databasePath(dataDir);
  const existing = clients.get(file);
  if (existing) return existing;
  makePrivateDir(dataDir);
  prepareDatabaseFile(file);
  const adapter = new PrismaBetterSQLite3({ url: "file:" + file, timeout: 10_000 });
  const client = new PrismaClient({ adapter });
  clients.set(file, client);
  return client;
}

export async function closeDb(dataDir: string): Promise<void> {
  const file = databasePath(dataDir);
  const client = clients.get(file);
  clients.delete(file);
  await client?.$disconnect();
}
