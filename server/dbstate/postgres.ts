/**
 * PostgreSQL targets: the selected schemas or tables of a database an agent's
 * migrations change.
 *
 * Snapshot: one repeatable-read transaction exports its snapshot; the row counts
 * are read in it and pg_dump (custom format) dumps from it, so both see the same
 * moment. Without client tools the same transaction streams the in-process
 * equivalent (postgres-copy.ts). The file goes into the store with its sha256.
 *
 * Restore: in one transaction, the selection is cleared (postgres-selection.ts:
 * tables and columns a migration added go, dropped ones come back) and the
 * snapshot replayed; an error anywhere rolls everything back.
 *
 * Both wait for locks other sessions hold on the tables at most
 * SAFETYNET_DB_LOCK_TIMEOUT_MS each (postgres-locks.ts), then refuse naming the table.
 */
import { rmSync } from "node:fs";
import type pg from "pg";
import { describePostgresError } from "../db/postgres-errors";
import { ConflictError, SafetyNetError } from "../errors";
import type { ObjectStore } from "../store/object-store";
import { connectTarget, serverVersion, targetConnection, withTarget } from "./postgres-connection";
import { dumpWithCopy, restoreWithCopy } from "./postgres-copy";
import { lockForReading, planReplacement, selectedTables, selectionSize, summarizeTables } from "./postgres-selection";
import { findClientTools, runPgDump, runPgRestore } from "./postgres-tools";
import { isLockTimeout, lockRefusal, lockTimeoutMs, LockWaitError } from "./postgres-locks";
import type { DatabaseSnapshot, TableSummary, TakenSnapshot } from "./snapshot-types";
import { assertSpaceFor } from "./space";
import type { PostgresTarget } from "./targets";

async function readOnlySnapshot(client: pg.Client): Promise<string> {
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  // Definitions read from the catalogs come out schema-qualified: they are replayed with another search_path.
  await client.query("SET LOCAL search_path TO pg_catalog");
  // A table another session keeps locked (a migration in an open transaction) is refused, not waited for without end.
  await client.query(`SET LOCAL lock_timeout = ${lockTimeoutMs()}`);
  const { rows } = await client.query<{ id: string }>("SELECT pg_export_snapshot() AS id");
  return rows[0]?.id as string;
}

export async function snapshotPostgres(store: ObjectStore, target: PostgresTarget): Promise<TakenSnapshot> {
  const connection = targetConnection(target);
  const client = await connectTarget(target, connection);
  const tmp = store.tmpFilePath("postgres-snapshot");
  let format: DatabaseSnapshot["format"];
  let tables: TableSummary[];
  let version: string;
  try {
    const server = await serverVersion(client);
    version = server.version;
    const tools = findClientTools(server.major, target.name);
    const snapshotId = await readOnlySnapshot(client);
    const selection = await selectedTables(client, target);
    await lockForReading(client, selection);
    assertSpaceFor(store.dir, await selectionSize(client, selection), `the snapshot of database target ${target.name}`, { target: target.name });
    tables = await summarizeTables(client, selection);
    if (tools) {
      format = "pg_dump";
      await runPgDump(tools, connection, target, snapshotId, tmp, target.name, lockTimeoutMs());
    } else {
      format = "pg_copy";
      await dumpWithCopy(client, target, tmp);
    }
    await client.query("COMMIT");
  } catch (error) {
    rmSync(tmp, { force: true });
    if (error instanceof LockWaitError) throw lockRefusal(target.name, error.waitedFor, lockTimeoutMs(), "nothing was checkpointed");
    if (isLockTimeout(error)) throw lockRefusal(target.name, "the tables", lockTimeoutMs(), "nothing was checkpointed");
    throw describePostgresError(error, `database target ${target.name}`, "nothing was checkpointed");
  } finally {
    await client.end().catch(() => undefined);
  }
  // pg_dump's custom format compresses the table data itself (--compress=1): compressing it again would not pay.
  const stored = await store.adoptTmpFile(tmp, { compress: format !== "pg_dump" });
  return {
    snapshot: { target: target.name, engine: "postgres", format, state: "present", sha256: stored.sha256, size: stored.size, tables, serverVersion: version },
    newBytes: stored.written ? stored.size : 0,
  };
}

export interface PostgresLiveState {
  state: "present";
  tables: TableSummary[];
}

/** The live selection's tables, row counts and columns (for the diff). */
export async function livePostgresState(target: PostgresTarget): Promise<PostgresLiveState> {
  return withTarget(target, async (client) => {
    await readOnlySnapshot(client);
    const selection = await selectedTables(client, target).catch((error: unknown) => {
      // A table target whose table a migration dropped: the diff shows it gone rather than failing.
      if (error instanceof SafetyNetError && error.code === "NOT_FOUND" && target.tables.length > 0) return selectedTables(client, { ...target, tables: [] }).then((all) => all.filter((t) => target.tables.includes(t.name)));
      throw error;
    });
    await lockForReading(client, selection).catch((error: unknown) => {
      throw error instanceof LockWaitError ? lockRefusal(target.name, error.waitedFor, lockTimeoutMs(), "its tables were not read") : error;
    });
    const tables = await summarizeTables(client, selection);
    await client.query("COMMIT");
    return { state: "present" as const, tables };
  });
}

/**
 * The checks a rollback makes before it changes anything: the database is
 * reachable with the credentials, the client tools (if any) can talk to it, and
 * nothing outside the target would be lost (planReplacement refuses).
 */
export async function assertPostgresRestorable(target: PostgresTarget, snapshot: DatabaseSnapshot): Promise<void> {
  await withTarget(target, async (client) => {
    if (snapshot.format === "pg_dump") findClientTools((await serverVersion(client)).major, target.name);
    await client.query("BEGIN READ ONLY");
    await client.query("SET LOCAL search_path TO pg_catalog");
    await planReplacement(client, target, { lockTimeoutMs: lockTimeoutMs() });
    await client.query("ROLLBACK");
  });
}

/** Replaces the selection with the snapshot in one transaction. The snapshot object must have been verified by the caller. */
export async function restorePostgres(store: ObjectStore, target: PostgresTarget, snapshot: DatabaseSnapshot): Promise<void> {
  // pg_restore and the in-process reader read the snapshot from a file: the object's own, or a compressed one inflated to a temp file.
  const beforeInflating = (bytes: number, tmpDir: string) => assertSpaceFor(tmpDir, bytes, `inflating the snapshot of database target ${target.name}`, { target: target.name });
  await store.withObjectFile(snapshot.sha256 as string, (archive) => restoreFromFile(store, target, snapshot, archive), { beforeInflating });
}

async function restoreFromFile(store: ObjectStore, target: PostgresTarget, snapshot: DatabaseSnapshot, archive: string): Promise<void> {
  const connection = targetConnection(target);

  const client = await connectTarget(target, connection);
  try {
    const server = await serverVersion(client);
    if (snapshot.format === "pg_dump") {
      const tools = findClientTools(server.major, target.name);
      if (!tools) {
        throw new ConflictError(
          `database target ${target.name}: its snapshot was taken with pg_dump, and the PostgreSQL client tools (pg_restore, psql) are not available here (SAFETYNET_PG_BIN); nothing was restored`,
          { target: target.name },
        );
      }
      // The plan is read now (what exists now is what is dropped), and runs inside psql's single transaction.
      await client.query("BEGIN READ ONLY");
      await client.query("SET LOCAL search_path TO pg_catalog");
      const plan = await planReplacement(client, target, { lockTimeoutMs: lockTimeoutMs() });
      await client.query("ROLLBACK");
      await runPgRestore(tools, connection, archive, store.tmpFilePath("pg-restore-list"), plan, target.name, lockTimeoutMs());
      return;
    }
    await client.query("BEGIN");
    try {
      await client.query("SET LOCAL search_path TO pg_catalog");
      const plan = await planReplacement(client, target, { lockTimeoutMs: lockTimeoutMs() });
      await restoreWithCopy(client, archive, plan);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    }
  } catch (error) {
    if (error instanceof SafetyNetError) throw error;
    if (error instanceof LockWaitError) throw lockRefusal(target.name, error.waitedFor, lockTimeoutMs(), "nothing was restored");
    if (isLockTimeout(error)) throw lockRefusal(target.name, "the tables", lockTimeoutMs(), "nothing was restored");
    throw describePostgresError(error, `database target ${target.name}`, "nothing was restored (one transaction, rolled back)");
  } finally {
    await client.end().catch(() => undefined);
  }
}
