/**
 * The core context every operation receives: configuration, the database, the
 * object store, the logger and a clock (injectable so retention tests control time).
 * The CLI, the tRPC routers and the MCP server all build one with openCore().
 */
import path from "node:path";
import type { Logger } from "pino";
import { loadConfig, type SafetyNetConfig } from "./config";
import { openDb, type Db } from "./db";
import { ObjectStore } from "./store/object-store";
import { createLogger } from "./audit/logger";
import { dataDirExposure, makePrivateDir } from "./private-files";

export interface Core {
  config: SafetyNetConfig;
  db: Db;
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

export function openCore(config: SafetyNetConfig = loadConfig(), options: { now?: () => Date; logTo?: "stdout" | "file" } = {}): Core {
  const cached = cores.get(config.dataDir);
  if (cached && !options.now) return cached;
  const paths = dataPaths(config.dataDir);
  // Looked at before anything is created: a directory made here is private already.
  const exposure = dataDirExposure(config.dataDir);
  for (const dir of [config.dataDir, paths.locks, paths.journal, paths.statCache, paths.logs]) makePrivateDir(dir);
  const store = new ObjectStore(paths.store);
  store.init();
  const core: Core = {
    config,
    db: openDb(config.dataDir),
    store,
    log: createLogger(options.logTo === "stdout" ? undefined : path.join(paths.logs, "safetynet.log")),
    now: options.now ?? (() => new Date()),
  };
  if (exposure) {
    // Both: the CLI's log is a file nobody watches, and the server's stderr is its console.
    process.stderr.write(exposure.warning + "\n");
    core.log.warn({ event: "datadir.permissions", dataDir: config.dataDir, mode: exposure.mode.toString(8) }, exposure.warning);
  }
  if (!options.now) cores.set(config.dataDir, core);
  return core;
}
