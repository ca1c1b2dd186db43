/**
 * The one Prisma client per data directory. Opening it also applies pending
 * migrations, so the CLI and the server both work on a brand-new data dir.
 */
import { statSync } from "node:fs";
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

/**
 * The connection that applied the migrations stays open for the life of the
 * process: when the last connection to a WAL database closes, SQLite checkpoints
 * the WAL into the database file and flushes it, a quarter of a second here that
 * every CLI command would pay twice (after migrating, and at exit). With this one
 * open, no close is the last; SQLite's automatic checkpoints keep the WAL short.
 */
const globalKeepers = globalThis as typeof globalThis & { __safetynetDbKeepers?: Map<string, Database.Database> };
const keepers = (globalKeepers.__safetynetDbKeepers ??= new Map<string, Database.Database>());

function prepareDatabaseFile(file: string): void {
  // Where SQLite would create the file with mode 0644: create it 0600 first (its WAL and SHM take the same mode).
  createPrivateFile(file);
  const sqlite = new Database(file);
  try {
    // WAL lets the server read while a CLI writes; busy_timeout turns brief contention into waiting, not "database is locked".
    if (String(sqlite.pragma("journal_mode", { simple: true })).toLowerCase() !== "wal") sqlite.pragma("journal_mode = WAL");
    applyMigrations(sqlite, migrationsDir(packageRoot()));
  } catch (error) {
    sqlite.close();
    throw error;
  }
  keepers.set(file, sqlite);
}

// One client per database file per process, even when a bundler (Next) duplicates this
// module into several chunks: two clients on one file would each run the migrations.
const globalClients = globalThis as typeof globalThis & { __safetynetDbClients?: Map<string, PrismaClient> };
const clients = (globalClients.__safetynetDbClients ??= new Map<string, PrismaClient>());

/** The file each open client was opened on (device and inode): a database deleted or replaced under a running process is noticed. */
const globalIdentities = globalThis as typeof globalThis & { __safetynetDbIdentities?: Map<string, { dev: number; ino: number }> };
const identities = (globalIdentities.__safetynetDbIdentities ??= new Map<string, { dev: number; ino: number }>());

export type DatabaseFileState = "ok" | "missing" | "replaced";

/** Is the database file this process opened still the one at its path? */
export function databaseFileState(dataDir: string): DatabaseFileState {
  const file = databasePath(dataDir);
  const opened = identities.get(file);
  let now: { dev: number; ino: number };
  try {
    now = statSync(file);
  } catch {
    return "missing";
  }
  return opened && (opened.dev !== now.dev || opened.ino !== now.ino) ? "replaced" : "ok";
}

export function openDb(dataDir: string): PrismaClient {
  const file = databasePath(dataDir);
  const existing = clients.get(file);
  if (existing) return existing;
  makePrivateDir(dataDir);
  prepareDatabaseFile(file);
  const { dev, ino } = statSync(file);
  identities.set(file, { dev, ino });
  const adapter = new PrismaBetterSQLite3({ url: "file:" + file, timeout: 10_000 });
  const client = new PrismaClient({ adapter });
  clients.set(file, client);
  return client;
}

export async function closeDb(dataDir: string): Promise<void> {
  const file = databasePath(dataDir);
  const client = clients.get(file);
  clients.delete(file);
  identities.delete(file);
  await client?.$disconnect();
  keepers.get(file)?.close();
  keepers.delete(file);
}
