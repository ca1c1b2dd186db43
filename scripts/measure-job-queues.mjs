#!/usr/bin/env node
// How fast a job queue on PostgreSQL hands a job to a worker, and what it costs:
// the figures that chose graphile-worker for routing between instances (README,
// "Many hosts"). 200 jobs, one after the other: enqueue -> the worker starts it,
// and enqueue -> the caller sees its result (a NOTIFY from the worker, the same for
// every queue); start-up time and the RSS the queue adds.
//
//   node scripts/measure-job-queues.mjs graphile|pgboss|table [jobs]
//
// pg-boss is not a dependency: `npm i --no-save pg-boss@10.4.2` first (its last
// release for Node 20). `table` is the reference: a table claimed with FOR UPDATE
// SKIP LOCKED and woken with LISTEN/NOTIFY. Needs a database `qbench` on
// 127.0.0.1:5432 (`createdb -h 127.0.0.1 -U postgres qbench`); QB_SCHEMA=<name>
// keeps the schema between runs (to time a start on an existing schema).
import { performance } from "node:perf_hooks";
import pg from "pg";
const which = process.argv[2];
const N = Number(process.argv[3] ?? 200);
const URL0 = "postgresql://postgres@127.0.0.1:5432/qbench";
const schema = process.env.QB_SCHEMA ?? `qb_${which}_${process.pid}`;
const rss = () => process.memoryUsage().rss / 1048576;
const pool = new pg.Pool({ connectionString: URL0, max: 4 });
await pool.query("select 1");
const listener = new pg.Client({ connectionString: URL0 });
await listener.connect();
await listener.query("LISTEN qb_result");
const waiters = new Map();
listener.on("notification", (n) => { const w = waiters.get(n.payload); if (w) { waiters.delete(n.payload); w(performance.now()); } });
const baseRss = rss();
const starts = new Map();
async function done(id) { starts.set(id, starts.get(id) ?? performance.now()); await pool.query("select pg_notify('qb_result', $1)", [id]); }
let enqueue, stop, startupMs;
const t0 = performance.now();
if (which === "pgboss") {
  const { default: PgBoss } = await import("pg-boss");
  const boss = new PgBoss({ connectionString: URL0, schema, max: 4, supervise: true, schedule: false });
  boss.on("error", (e) => console.error(e));
  await boss.start();
  await boss.createQueue("inst-a", { retryLimit: 0 });
  await boss.work("inst-a", { pollingIntervalSeconds: 0.5, batchSize: 1 }, async ([job]) => { starts.set(job.data.id, performance.now()); await done(job.data.id); return { ok: true }; });
  startupMs = performance.now() - t0;
  enqueue = (id) => boss.send("inst-a", { id }, { retryLimit: 0 });
  stop = () => boss.stop({ graceful: false, wait: true });
} else if (which === "graphile") {
  const { run, makeWorkerUtils } = await import("graphile-worker");
  const runner = await run({ connectionString: URL0, schema, concurrency: 1, noHandleSignals: true, pollInterval: 2000, logger: undefined,
    taskList: { "inst-a": async (payload) => { starts.set(payload.id, performance.now()); await done(payload.id); } } });
  const utils = await makeWorkerUtils({ connectionString: URL0, schema });
  startupMs = performance.now() - t0;
  enqueue = (id) => utils.addJob("inst-a", { id }, { maxAttempts: 1 });
  stop = async () => { await runner.stop(); await utils.release(); };
} else {
  // A small table, claim with FOR UPDATE SKIP LOCKED, wake-up with LISTEN/NOTIFY.
  await pool.query(`create schema ${schema}; create table ${schema}.job (id text primary key, target text not null, payload jsonb, state text not null default 'queued', claimed_at timestamptz)`);
  const wl = new pg.Client({ connectionString: URL0 }); await wl.connect(); await wl.query("LISTEN qb_job");
  let busy = false, again = false;
  const drain = async () => {
    if (busy) { again = true; return; } busy = true;
    try { for (;;) { again = false;
      const { rows } = await pool.query(`update ${schema}.job set state='running', claimed_at=now() where id = (select id from ${schema}.job where target='inst-a' and state='queued' order by id for update skip locked limit 1) returning id`);
      if (!rows[0]) { if (!again) break; continue; }
      starts.set(rows[0].id, performance.now()); await done(rows[0].id);
      await pool.query(`update ${schema}.job set state='done' where id=$1`, [rows[0].id]); } } finally { busy = false; }
  };
  wl.on("notification", () => void drain());
  const timer = setInterval(drain, 2000);
  startupMs = performance.now() - t0;
  enqueue = (id) => pool.query(`with i as (insert into ${schema}.job (id, target, payload) values ($1,'inst-a','{}') returning id) select pg_notify('qb_job', 'inst-a') from i`, [id]);
  stop = async () => { clearInterval(timer); await wl.end(); };
}
const afterStartRss = rss();
const pick = [], res = [];
for (let i = 0; i < N; i++) {
  const id = `j${i}`;
  const got = new Promise((r) => waiters.set(id, r));
  const e = performance.now();
  await enqueue(id);
  const r = await got;
  pick.push(starts.get(id) - e); res.push(r - e);
}
const q = (a, p) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1); };

console.log(JSON.stringify({ which, N, startupMs: +startupMs.toFixed(0), pickup: { p50: q(pick, .5), p95: q(pick, .95) }, result: { p50: q(res, .5), p95: q(res, .95) }, rssBaseMB: +baseRss.toFixed(1), rssAfterStartMB: +(afterStartRss - baseRss).toFixed(1), rssAfterJobsMB: +(rss() - baseRss).toFixed(1) }));
await stop();
if (!process.env.QB_SCHEMA) await pool.query(`drop schema ${schema} cascade`);
await listener.end(); await pool.end();
process.exit(0);
