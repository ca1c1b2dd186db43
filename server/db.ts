/**
 * The one Prisma client per data directory. Opening it also applies pending
 * migrations, so the CLI and the server both work on a brand-new data dir.
 *
 * The metadata lives in SQLite inside the data directory (the default), or in a
 * PostgreSQL schema when the configuration names a postgresql:// URL: the
 * PostgreSQL variant of the client (generated from prisma/postgres/schema.prisma)
 * through @prisma/adapter-pg, so several server instances share one database.
 * Both clients have the same models and the same API; the rest of the code sees
 * one type, Db. The PostgreSQL side (pg, its Prisma client) is loaded only when
 * configured (loadMetadataDriver), so the SQLite CLI does not pay for it at start-up.
 */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "./generated/prisma/client";
import { applyMigrations, migrationsDir } from "./db/migrate";
import { checkDataDirStore, metadataStoreOf, recordDataDirStore, SQLITE_FILE, type MetadataStore } from "./db/metadata-store";
import { packageRoot } from "./config";
import { createPrivateFile, makePrivateDir } from "./private-files";
import { InvalidInputError } from "./errors";
import { osLockSpace, type LockSpace } from "./locks";

export type Db = PrismaClient;
export type { MetadataStore } from "./db/metadata-store";

export function databasePath(dataDir: string): string {
  return path.join(dataDir, SQLITE_FILE);
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

export interface OpenedDb {
  client: PrismaClient;
  store: MetadataStore;
  /** Settles once the store is usable (PostgreSQL: reachable and migrated; SQLite: at once, migrations ran at open). */
  ready: Promise<void>;
  /** Where the locks of this data directory live: OS locks beside SQLite, advisory locks with PostgreSQL. */
  locks: LockSpace;
  close(): Promise<void>;
}

// One client per data directory per process, even when a bundler (Next) duplicates this
// module into several chunks: two clients on one file would each run the migrations.
const globalClients = globalThis as typeof globalThis & { __safetynetDbClients?: Map<string, OpenedDb> };
const clients = (globalClients.__safetynetDbClients ??= new Map<string, OpenedDb>());

/** The file each open client was opened on (device and inode): a database deleted or replaced under a running process is noticed. */
const globalIdentities = globalThis as typeof globalThis & { __safetynetDbIdentities?: Map<string, { dev: number; ino: number }> };
const identities = (globalIdentities.__safetynetDbIdentities ??= new Map<string, { dev: number; ino: number }>());

export type DatabaseFileState = "ok" | "missing" | "replaced";

/** Is the database file this process opened still the one at its path? (Always "ok" for PostgreSQL: there is no file.) */
export function databaseFileState(dataDir: string): DatabaseFileState {
  const opened = clients.get(dataDir);
  if (opened?.store.kind === "postgres") return "ok";
  const file = databasePath(dataDir);
  const identity = identities.get(file);
  let now: { dev: number; ino: number };
  try {
    now = statSync(file);
  } catch {
    return "missing";
  }
  return identity && (identity.dev !== now.dev || identity.ino !== now.ino) ? "replaced" : "ok";
}

export interface OpenDbOptions {
  /** A postgresql:// URL: the metadata lives there. Absent: SQLite in the data directory. */
  databaseUrl?: string;
  /** The data directory's lock folder (OS locks, with SQLite). */
  locksDir: string;
  /**
   * Called with the database's name before a brand-new PostgreSQL schema is created,
   * to refuse it by throwing (the SQLite counterpart is core.ts's check of the missing file).
   */
  beforeNewStore?: (database: string) => void;
}

/** What server/db/postgres.ts provides once loaded. */
export interface PostgresSupport {
  open(store: Extract<MetadataStore, { kind: "postgres" }>, options: OpenDbOptions): OpenedDb;
}

// On globalThis, like the clients: the Next build may load this module more than once.
const SUPPORT = Symbol.for("safetynet.postgresSupport");
const supportSlot = globalThis as { [SUPPORT]?: PostgresSupport };

/** Loads what the configured metadata store needs (PostgreSQL's driver and client); call before openCore. */
export async function loadMetadataDriver(config: { databaseUrl?: string }): Promise<void> {
  if (!config.databaseUrl || supportSlot[SUPPORT]) return;
  supportSlot[SUPPORT] = (await import("./db/postgres")).postgresSupport;
}

export function openDb(dataDir: string, options: OpenDbOptions): OpenedDb {
  const existing = clients.get(dataDir);
  if (existing) return existing;
  makePrivateDir(dataDir);
  const store = metadataStoreOf(dataDir, options.databaseUrl);
  const { unrecorded } = checkDataDirStore(dataDir, store, existsSync(databasePath(dataDir)));
  let opened: OpenedDb;
  if (store.kind === "sqlite") opened = openSqlite(store, options.locksDir);
  else {
    const support = supportSlot[SUPPORT];
    if (!support) throw new InvalidInputError(`the metadata database ${store.display} is PostgreSQL, but its driver was not loaded (loadMetadataDriver)`, { field: "DATABASE_URL" });
    opened = support.open(store, options);
  }
  if (unrecorded) {
    // Recorded once the store works: a mistyped URL that never connected does not bind the data directory to it.
    const ready = opened.ready.then(() => recordDataDirStore(dataDir, store));
    ready.catch(() => undefined);
    opened = { ...opened, ready };
  }
  clients.set(dataDir, opened);
  return opened;
}

function openSqlite(store: Extract<MetadataStore, { kind: "sqlite" }>, locksDir: string): OpenedDb {
  const file = store.file;
  prepareDatabaseFile(file);
  const { dev, ino } = statSync(file);
  identities.set(file, { dev, ino });
  const client = new PrismaClient({ adapter: new PrismaBetterSQLite3({ url: "file:" + file, timeout: 10_000 }) });
  return {
    client,
    store,
    ready: Promise.resolve(),
    locks: osLockSpace(locksDir),
    close: async () => {
      identities.delete(file);
      await client.$disconnect();
      keepers.get(file)?.close();
      keepers.delete(file);
    },
  };
}

/**
 * Waits until the data directory's metadata store is usable, with the typed error
 * that refused it (an unreachable PostgreSQL server, a lost schema). Entry points
 * await it once; a query made before would fail with the same cause, less clearly.
 */
export async function databaseReady(dataDir: string): Promise<void> {
  await clients.get(dataDir)?.ready;
}

/** The metadata store of an opened data directory. */
export function metadataStore(dataDir: string): MetadataStore | null {
  return clients.get(dataDir)?.store ?? null;
}

export async function closeDb(dataDir: string): Promise<void> {
  const opened = clients.get(dataDir);
  clients.delete(dataDir);
  await opened?.close();
}
