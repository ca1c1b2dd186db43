// --db-pg: a PostgreSQL table of --db-mb MB checkpointed with `checkpoint create --db`,
// changed by a destructive migration, rolled back, and checked against its checksum.
// Each CLI process is timed with its peak RSS. A database is made and dropped on --pg-url.
import fs from "node:fs";
import path from "node:path";
import { gnuTimeWorks, run } from "../processes.mjs";
import { cliOn } from "../tools/cli.mjs";

function psql(url, sql) {
  return run("psql", ["--no-psqlrc", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]).trim();
}

function withDatabase(url, name) {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** What the table holds: row count, columns and a checksum of every row. */
function tableChecksum(url) {
  return psql(url, "SELECT count(*) || ':' || (SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'big'::regclass AND attnum > 0 AND NOT attisdropped) || ':' || md5(string_agg(md5(t::text), '' ORDER BY id)) FROM big t");
}

function fillTable(url, mb) {
  process.stderr.write(`bench: filling a ${mb} MB PostgreSQL table ...\n`);
  psql(url, "CREATE TABLE big (id bigint PRIMARY KEY, payload text NOT NULL)");
  // About 1 KiB of hex per row: random enough that the dump does not shrink to nothing.
  const rowsPerBatch = 100_000;
  for (let next = 1; ; next += rowsPerBatch) {
    const bytes = Number(psql(url, "SELECT pg_total_relation_size('big')"));
    if (bytes >= mb * 1024 * 1024) break;
    psql(url, `INSERT INTO big SELECT g, (SELECT string_agg(md5(g::text || ':' || k || random()::text), '') FROM generate_series(1, 32) k) FROM generate_series(${next}, ${next + rowsPerBatch - 1}) g`);
  }
  psql(url, "VACUUM ANALYZE big");
}

export async function postgresScenario(opts, ctx) {
  if (!gnuTimeWorks()) throw new Error("--db-pg measures peak RSS with GNU time (/usr/bin/time): install it (apt-get install time)");
  const name = `sn_bench_${process.pid}`;
  const admin = opts.pgUrl;
  const url = withDatabase(admin, name);
  psql(admin, `DROP DATABASE IF EXISTS ${name}`);
  psql(admin, `CREATE DATABASE ${name}`);
  const dir = path.join(ctx.work, "db-pg");
  const root = path.join(dir, "app");
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(root, "migration.sql"), "-- the agent's migration\n");
  try {
    fillTable(url, opts.dbMb);
    const tableBytes = Number(psql(url, "SELECT pg_total_relation_size('big')"));
    const before = tableChecksum(url);
    // SAFETYNET_DATABASE_URL=sqlite: the metadata stays in the data directory whatever the caller's environment says.
    const env = { SAFETYNET_DATABASE_URL: "sqlite", BENCH_DATABASE_URL: url };
    const cli = cliOn(path.join(dir, "data"), { allowedRoots: ctx.work, server: false, env });
    cli.json("component", "add", "app", "--root", root, "--db", "postgres:BENCH_DATABASE_URL?tables=big");
    const checkpoint = cli.measured("checkpoint", "create", "app", "--db");
    const detail = cli.json("checkpoint", "show", checkpoint.value.id);
    // The agent's bad migration: half the rows gone, a column added.
    psql(url, "DELETE FROM big WHERE id % 2 = 0; ALTER TABLE big ADD COLUMN migrated boolean DEFAULT true");
    const rollback = cli.measured("rollback", checkpoint.value.id, "--yes");
    const after = tableChecksum(url);
    if (after !== before) throw new Error(`BENCH ABORTED: the restored table differs from the checkpointed one (${before} vs ${after})`);
    const strip = ({ sec, peakMb }) => ({ sec, peakMb });
    return { tableBytes, dumpBytes: detail.databases[0]?.size ?? 0, format: detail.databases[0]?.format, checkpoint: strip(checkpoint), rollback: strip(rollback), rows: Number(before.split(":")[0]) };
  } finally {
    psql(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    if (!opts.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}
