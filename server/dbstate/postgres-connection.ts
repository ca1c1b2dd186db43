/**
 * Reaching a PostgreSQL target: its URL comes from the environment variable the
 * target names, read in the process that does the work (the server, or the CLI
 * on the data directory), and never stored or printed. Failures name the target
 * and say what is wrong (describePostgresError).
 */
import pg from "pg";
import { describePostgresError } from "../db/postgres-errors";
import { InvalidInputError } from "../errors";
import type { PostgresTarget } from "./targets";

/** Query parameters only Prisma understands: libpq (pg_dump, psql) refuses them. */
const PRISMA_ONLY_PARAMS = ["schema", "connection_limit", "pool_timeout", "pgbouncer", "sslaccept", "socket_timeout", "statement_cache_size", "connect_timeout_ms"];

export interface TargetConnection {
  /** For libpq tools: the URL without its password (given through PGPASSWORD instead, so it never shows in a process list). */
  toolUrl: string;
  password: string | null;
  /** For the pg driver. */
  driverUrl: string;
}

export function targetConnection(target: PostgresTarget, env: NodeJS.ProcessEnv = process.env): TargetConnection {
  const raw = env[target.urlEnv];
  if (!raw) {
    throw new InvalidInputError(`database target ${target.name}: the environment variable ${target.urlEnv} is not set in this process (it must hold the database URL, postgresql://user:password@host:5432/db)`, {
      target: target.name,
      field: target.urlEnv,
    });
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidInputError(`database target ${target.name}: ${target.urlEnv} does not hold a valid URL (expected postgresql://user:password@host:5432/db)`, { target: target.name, field: target.urlEnv });
  }
  if (url.protocol !== "postgresql:" && url.protocol !== "postgres:") {
    throw new InvalidInputError(`database target ${target.name}: ${target.urlEnv} holds a ${url.protocol.replace(":", "")} URL, not a postgresql:// one`, { target: target.name, field: target.urlEnv });
  }
  for (const param of PRISMA_ONLY_PARAMS) url.searchParams.delete(param);
  const driverUrl = url.toString();
  const password = url.password ? decodeURIComponent(url.password) : null;
  url.password = "";
  return { toolUrl: url.toString(), password, driverUrl };
}

/** A connected client for the target; the caller ends it. */
export async function connectTarget(target: PostgresTarget, connection: TargetConnection = targetConnection(target)): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: connection.driverUrl, connectionTimeoutMillis: 15_000 });
  // A connection that breaks while idle must not crash the process: the next query reports it.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw describePostgresError(error, `database target ${target.name}`);
  }
  return client;
}

/** Runs `fn` with a connected client, ending it afterwards; query errors name the target. */
export async function withTarget<T>(target: PostgresTarget, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectTarget(target);
  try {
    return await fn(client);
  } catch (error) {
    throw describePostgresError(error, `database target ${target.name}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The server's major version (15 for 15.20) and its full version string. */
export async function serverVersion(client: pg.Client): Promise<{ major: number; version: string }> {
  const { rows } = await client.query<{ num: string; version: string }>("SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS version");
  const num = Number(rows[0]?.num ?? 0);
  return { major: Math.floor(num / 10_000), version: `PostgreSQL ${rows[0]?.version ?? "?"}` };
}
