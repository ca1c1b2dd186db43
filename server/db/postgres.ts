/**
 * The metadata store in PostgreSQL: the Prisma client of the PostgreSQL variant
 * through @prisma/adapter-pg, its migrations, and the advisory-lock space.
 * Loaded on demand (server/db.ts loadMetadataDriver): pg and a second Prisma
 * client are not what a SQLite CLI should load at every start.
 */
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import type { PrismaClient } from "../generated/prisma/client";
import { PrismaClient as PostgresPrismaClient } from "../generated/prisma-postgres/client";
import { packageRoot } from "../config";
import type { OpenDbOptions, OpenedDb, PostgresSupport } from "../db";
import { AdvisoryLockSpace } from "../locks/advisory-lock-space";
import type { MetadataStore } from "./metadata-store";
import { applyPostgresMigrations, isUnmigratedPostgres, postgresMigrationsDir } from "./migrate";
import { describePostgresError } from "./postgres-errors";

/** How many connections one process keeps for queries; lock sessions have a pool of their own. */
const QUERY_POOL_SIZE = 10;

function openPostgres(store: Extract<MetadataStore, { kind: "postgres" }>, options: OpenDbOptions): OpenedDb {
  const pool = new pg.Pool({ connectionString: store.connectionString, max: QUERY_POOL_SIZE, idleTimeoutMillis: 5_000, allowExitOnIdle: true });
  // An idle connection that breaks (a server restart) must not crash the process: the next query reconnects.
  pool.on("error", () => undefined);
  const ready = (async () => {
    let session: pg.PoolClient;
    try {
      session = await pool.connect();
    } catch (error) {
      throw describePostgresError(error, `the metadata database ${store.display}`);
    }
    try {
      if (await isUnmigratedPostgres(session, store.schema)) options.beforeNewStore?.(store.display);
      await applyPostgresMigrations(session, postgresMigrationsDir(packageRoot()), store.schema);
    } catch (error) {
      throw describePostgresError(error, `the metadata database ${store.display}`);
    } finally {
      session.release();
    }
  })();
  // Observed by whoever awaits databaseReady(); a query made before that fails with the same cause.
  ready.catch(() => undefined);
  const adapter = new PrismaPg(pool, { schema: store.schema });
  // Prisma connects on the first query: the schema is migrated before that connection is handed out.
  const migratingAdapter = {
    provider: "postgres" as const,
    adapterName: adapter.adapterName,
    connect: async () => {
      await ready;
      return adapter.connect();
    },
  };
  const client = new PostgresPrismaClient({ adapter: migratingAdapter }) as unknown as PrismaClient;
  const locks = new AdvisoryLockSpace(store, ready);
  return {
    client,
    store,
    ready,
    locks,
    close: async () => {
      await client.$disconnect().catch(() => undefined);
      await Promise.all([pool.end().catch(() => undefined), locks.close()]);
    },
  };
}

export const postgresSupport: PostgresSupport = { open: openPostgres };
