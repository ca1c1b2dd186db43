/**
 * The core context every operation receives: configuration, the database, the
 * object store, the logger and a clock (injectable so retention tests control time).
 * The CLI, the tRPC routers and the MCP server all build one with openCore().
 */
import { existsSync, realpathSync } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import { loadConfig, type SafetyNetConfig } from "./config";
import { closeDb, databasePath, databaseReady, loadMetadataDriver, openDb, type Db } from "./db";
import type { LockSpace } from "./locks";
import { OperationFailedError } from "./errors";
import { snapshotRecordIds } from "./checkpoints/snapshot-record";
import { ObjectStore } from "./store/object-store";
import { BucketTier } from "./store/bucket-tier";
import { cacheMaxBytes, lazyBucket, resolveStoreLocation } from "./store/store-location";
import { isCheckpointStructure } from "./checkpoints/tree-format";
import { createLogger } from "./audit/logger";
import { dataDirExposure, makePrivateDir } from "./private-files";

export interface Core {
  config: SafetyNetConfig;
  db: Db;
  /** Where component, store and retention locks live (OS locks with SQLite, advisory locks with PostgreSQL). */
  locks: LockSpace;
  store: ObjectStore;
  log: Logger;
  now: () => Date;
}

/** `cli:alice`, `token:ci-agent`, `cron`, `system` — recorded in history as who did it. */
export type Actor = string;

export interface DataPaths {
  store: string;
  locks: string;
  journal: string;
  statCache: string;
  logs: string;
}

export function dataPaths(dataDir: string): DataPaths {
  return {
    store: path.join(dataDir, "store"),
    locks: path.join(dataDir, "locks"),
    journal: path.join(dataDir, "journal"),
    statCache: path.join(dataDir, "stat-cache"),
    logs: path.join(dataDir, "logs"),
  };
}

const cores = new Map<string, Core>();

/** Refuses to start a new database (`what`) over a store whose snapshot records say checkpoints exist. */
function assertDatabaseNotLost(what: string, store: ObjectStore): void {
  const records = snapshotRecordIds(store).length;
  if (records === 0) return;
  throw new OperationFailedError(
    `the database ${what} is missing, but the store holds ${records} checkpoint record(s): starting a new, empty database would hide them. ` +
      `Run \`safetynet rebuild-db\` to rebuild it from the store (components, checkpoints, pins and retention), or restore the database from a backup`,
    { database: what, snapshotRecords: records },
  );
}

/** The data directory and the allowed roots as real paths (allowed roots that do not exist are kept as given). */
function resolvedConfig(config: SafetyNetConfig): SafetyNetConfig {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  return { ...config, dataDir: real(config.dataDir), allowedRoots: config.allowedRoots.map(real) };
}

export interface OpenOptions {
  now?: () => Date;
  logTo?: "stdout" | "file";
  /**
   * Let a new, empty database be created although the store holds checkpoints
   * (`safetynet rebuild-db` only). Otherwise a lost database is refused: starting
   * afresh would hide every checkpoint, and retention would then see garbage.
   */
  allowFreshDatabaseOverStore?: boolean;
}

export function openCore(config: SafetyNetConfig = loadConfig(), options: OpenOptions = {}): Core {
  const key = config.dataDir;
  const cached = cores.get(key);
  if (cached && !options.now) return cached;
  // Looked at before anything is created: a directory made here is private already.
  const exposure = dataDirExposure(config.dataDir);
  makePrivateDir(config.dataDir);
  // Compared against component roots by real path: a data directory reached through a symlink is the same directory.
  config = resolvedConfig(config);
  const paths = dataPaths(config.dataDir);
  for (const dir of [paths.locks, paths.journal, paths.statCache, paths.logs]) makePrivateDir(dir);
  const store = new ObjectStore(paths.store);
  store.init();
  const bucket = resolveStoreLocation(paths.store, config.objectStore);
  if (bucket) {
    store.attachBucket(new BucketTier(lazyBucket(bucket), paths.store));
    store.setCacheBound({ maxBytes: cacheMaxBytes(), keep: isCheckpointStructure });
  }
  const sqliteFile = databasePath(config.dataDir);
  if (!options.allowFreshDatabaseOverStore && !config.databaseUrl && !existsSync(sqliteFile)) assertDatabaseNotLost(sqliteFile, store);
  const opened = openDb(config.dataDir, {
    databaseUrl: config.databaseUrl,
    locksDir: paths.locks,
    beforeNewStore: options.allowFreshDatabaseOverStore ? undefined : (database) => assertDatabaseNotLost(database, store),
  });
  const core: Core = {
    config,
    db: opened.client,
    locks: opened.locks,
    store,
    log: createLogger(options.logTo === "stdout" ? undefined : path.join(paths.logs, "safetynet.log")),
    now: options.now ?? (() => new Date()),
  };
  if (exposure) {
    // Both: the CLI's log is a file nobody watches, and the server's stderr is its console.
    process.stderr.write(exposure.warning + "\n");
    core.log.warn({ event: "datadir.permissions", dataDir: config.dataDir, mode: exposure.mode.toString(8) }, exposure.warning);
  }
  if (!options.now) cores.set(key, core);
  return core;
}

/**
 * openCore for entry points (the CLI, the server, the MCP server): loads the
 * metadata store's driver first (PostgreSQL's, when configured) and waits until
 * the store is usable, so a refusal (unreachable, lost) comes out typed, here.
 */
export async function openReadyCore(config: SafetyNetConfig = loadConfig(), options: OpenOptions = {}): Promise<Core> {
  await loadMetadataDriver(config);
  const core = openCore(config, options);
  await databaseReady(core.config.dataDir);
  return core;
}

/** Closes the data directory's database and forgets its core (the next openCore opens it afresh). */
export async function closeCore(dataDir: string): Promise<void> {
  for (const [key, core] of cores) {
    if (key === dataDir || core.config.dataDir === dataDir) cores.delete(key);
  }
  await closeDb(dataDir);
}
