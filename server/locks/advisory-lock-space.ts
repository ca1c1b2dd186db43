/**
 * The lock space of a metadata store in PostgreSQL: session-level advisory locks.
 * Each lock session is one connection, checked out of a pool of its own for the
 * whole operation (queries go through Prisma's pool, so a busy server cannot
 * starve its own lock holders of connections, or the other way round). The
 * server releases a session's locks when its connection ends, so a process that
 * dies, on whatever host, frees its locks at once.
 *
 * A key becomes a 64-bit lock id from sha256("safetynet:<schema>:<key>"): two
 * installations in different schemas of one database never collide. Who holds a
 * lock is written to the LockHolder table by the holding session; a row is only
 * believed while pg_locks shows that session holding the lock.
 */
import { createHash } from "node:crypto";
import pg from "pg";
import { describePostgresError } from "../db/postgres-errors";
import { quoteIdent } from "../db/sql-identifier";
import type { LockHolder } from "./holder";
import type { LockKey, LockSession, LockSpace } from "./lock-space";

/** Connections kept for lock sessions: one per operation in progress in this process. */
const LOCK_POOL_SIZE = 32;

export function advisoryLockId(schema: string, key: LockKey): bigint {
  const digest = createHash("sha256").update(`safetynet:${schema}:${key}`).digest();
  return digest.readBigInt64BE(0);
}

/** How pg_locks shows an advisory lock on a bigint: the high and low 32 bits. */
function lockParts(id: bigint): { classid: string; objid: string } {
  const unsigned = BigInt.asUintN(64, id);
  return { classid: String(unsigned >> 32n), objid: String(unsigned & 0xffffffffn) };
}

class AdvisoryLockSession implements LockSession {
  private readonly held = new Map<LockKey, { mode: "exclusive" | "shared"; described: boolean }>();
  private broken = false;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly schema: string,
    private readonly subject: string,
  ) {}

  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.client.query<R>(sql, params);
    } catch (error) {
      this.broken = true;
      throw describePostgresError(error, this.subject);
    }
  }

  private id(key: LockKey): string {
    return String(advisoryLockId(this.schema, key));
  }

  async tryExclusive(key: LockKey): Promise<boolean> {
    return this.take(key, "exclusive", "pg_try_advisory_lock");
  }

  async tryShared(key: LockKey): Promise<boolean> {
    return this.take(key, "shared", "pg_try_advisory_lock_shared");
  }

  private async take(key: LockKey, mode: "exclusive" | "shared", fn: string): Promise<boolean> {
    // Advisory locks are re-entrant within a session: never ask twice for what this session holds.
    if (this.held.has(key)) return false;
    const { rows } = await this.query<{ ok: boolean }>(`SELECT ${fn}($1::bigint) AS ok`, [this.id(key)]);
    if (!rows[0]?.ok) return false;
    this.held.set(key, { mode, described: false });
    return true;
  }

  async describeHolder(key: LockKey, holder: LockHolder): Promise<void> {
    const entry = this.held.get(key);
    if (!entry) return;
    await this.query(
      `INSERT INTO ${quoteIdent(this.schema)}."LockHolder" ("lockKey", "backendPid", pid, host, "processStartedAt", operation, since)
       VALUES ($1, pg_backend_pid(), $2, $3, $4, $5, $6)
       ON CONFLICT ("lockKey") DO UPDATE SET "backendPid" = EXCLUDED."backendPid", pid = EXCLUDED.pid, host = EXCLUDED.host,
         "processStartedAt" = EXCLUDED."processStartedAt", operation = EXCLUDED.operation, since = EXCLUDED.since`,
      [key, holder.pid, holder.host, holder.processStartedAt, holder.operation, new Date(holder.since)],
    );
    entry.described = true;
  }

  async release(key: LockKey): Promise<void> {
    const entry = this.held.get(key);
    if (!entry) return;
    this.held.delete(key);
    if (entry.described) await this.query(`DELETE FROM ${quoteIdent(this.schema)}."LockHolder" WHERE "lockKey" = $1 AND "backendPid" = pg_backend_pid()`, [key]);
    await this.query(`SELECT ${entry.mode === "exclusive" ? "pg_advisory_unlock" : "pg_advisory_unlock_shared"}($1::bigint)`, [this.id(key)]);
  }

  async end(): Promise<void> {
    try {
      if (!this.broken) for (const key of [...this.held.keys()].reverse()) await this.release(key);
    } catch {
      // The connection is destroyed below: the server releases whatever it still held.
    } finally {
      // A session whose release failed is not reused: ending its connection releases its locks for certain.
      this.client.release(this.broken || this.held.size > 0 ? true : undefined);
      this.held.clear();
    }
  }
}

export class AdvisoryLockSpace implements LockSpace {
  readonly kind = "advisory" as const;
  private readonly pool: pg.Pool;
  private readonly schema: string;
  private readonly subject: string;

  constructor(
    options: { connectionString: string; schema: string; display: string },
    /** Settles when the schema (and its LockHolder table) is migrated. */
    private readonly ready: Promise<void>,
  ) {
    this.schema = options.schema;
    this.subject = `the metadata database ${options.display} (locks)`;
    this.pool = new pg.Pool({ connectionString: options.connectionString, max: LOCK_POOL_SIZE, idleTimeoutMillis: 5_000, allowExitOnIdle: true });
    this.pool.on("error", () => undefined);
  }

  async session(): Promise<LockSession> {
    await this.ready;
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw describePostgresError(error, this.subject);
    }
    return new AdvisoryLockSession(client, this.schema, this.subject);
  }

  async holder(key: LockKey): Promise<LockHolder | null> {
    await this.ready;
    const { classid, objid } = lockParts(advisoryLockId(this.schema, key));
    let rows: { pid: number; host: string; processStartedAt: string; operation: string; since: Date }[];
    try {
      ({ rows } = await this.pool.query(
        `SELECT h.pid, h.host, h."processStartedAt", h.operation, h.since
           FROM ${quoteIdent(this.schema)}."LockHolder" h
           JOIN pg_locks l ON l.pid = h."backendPid" AND l.locktype = 'advisory' AND l.granted AND l.mode = 'ExclusiveLock'
            AND l.classid = $2::oid AND l.objid = $3::oid AND l.objsubid = 1
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          WHERE h."lockKey" = $1`,
        [key, classid, objid],
      ));
    } catch (error) {
      throw describePostgresError(error, this.subject);
    }
    const row = rows[0];
    return row ? { pid: row.pid, host: row.host, processStartedAt: row.processStartedAt, operation: row.operation, since: row.since.toISOString() } : null;
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
