/**
 * Seeds a data directory for `npm run bench -- --console` (scripts/bench-console.mjs
 * bundles it with esbuild into dist/bench/ and runs it once): one component with a
 * real checkpoint, then N checkpoints spread over D days inserted straight into the
 * database through the core's client (taking ten thousand real checkpoints would
 * take minutes and measure nothing the console does), each with its
 * checkpoint.create history event, plus a rollback every few days and a
 * verification a day, so the timeline has every kind of item.
 *
 * Input: one JSON argument {dataDir, cwd, root, name, checkpoints, days}.
 * Output: one JSON line {component, checkpoints, rollbacks, events, newestDay, oldestDay, ms}.
 */
import { loadConfig } from "../server/config";
import { openCore } from "../server/core";
import { closeDb } from "../server/db";
import { newId } from "../server/ids";
import { upsertComponent } from "../server/registry/components";
import { createCheckpoint } from "../server/checkpoints/create";

const ACTOR = "bench:console";
const DAY_MS = 86_400_000;
const CHUNK = 500;

interface SeedRequest {
  dataDir: string;
  cwd: string;
  root: string;
  name: string;
  checkpoints: number;
  days: number;
}

async function seed(request: SeedRequest) {
  const t0 = performance.now();
  const core = openCore(loadConfig({ dataDir: request.dataDir, cwd: request.cwd }));
  const component = await upsertComponent(core, { name: request.name, root: request.root }, ACTOR);
  const real = await createCheckpoint(core, { component: request.name, reason: "the real one" }, ACTOR);
  const { id: _id, createdAt: _createdAt, verifyProblems: _problems, componentMeta, ...template } = await core.db.checkpoint.findUniqueOrThrow({ where: { id: real.id } });
  const now = Date.now();
  const spanMs = request.days * DAY_MS;
  const count = request.checkpoints - 1;
  const checkpoints = [];
  const events = [];
  const rollbacks = [];
  for (let i = 0; i < count; i++) {
    // Oldest first, evenly over the span, ending a minute before the real one.
    const at = new Date(now - spanMs + Math.floor((i * spanMs) / count) - 60_000);
    const id = newId("cp", at.getTime());
    checkpoints.push({
      ...template,
      id,
      createdAt: at,
      retentionUntil: new Date(at.getTime() + 365 * DAY_MS),
      reason: `agent run ${i}: refactor step ${i % 17}`,
      callerMeta: { agent: `agent-${i % 5}`, task: `TASK-${1000 + (i % 300)}`, git: null },
      componentMeta: (componentMeta ?? {}) as object,
      paths: [],
      dbSnapshots: [],
    });
    events.push({
      id: newId("ev", at.getTime()),
      kind: "checkpoint.create",
      component: request.name,
      checkpointId: id,
      actor: ACTOR,
      outcome: "succeeded",
      startedAt: at,
      durationMs: template.durationMs,
      files: template.files,
      bytes: template.bytes,
      checksum: template.manifestSha,
      details: {},
    });
    if (i % 250 === 249) {
      const rolledAt = new Date(at.getTime() + 1000);
      rollbacks.push({ id: newId("rb", rolledAt.getTime()), componentId: component.id, checkpointId: id, safetyCheckpointId: null, actor: ACTOR, outcome: "succeeded", restored: 3, deleted: 1, bytes: BigInt(1024), startedAt: rolledAt, durationMs: 40 });
    }
    if (i % Math.max(1, Math.floor(count / request.days)) === 0) {
      const verifiedAt = new Date(at.getTime() + 2000);
      events.push({ id: newId("ev", verifiedAt.getTime()), kind: "checkpoint.verify", component: request.name, checkpointId: id, actor: "cron", outcome: "succeeded", startedAt: verifiedAt, durationMs: 5, files: template.files, bytes: template.bytes, checksum: template.manifestSha, details: { state: "verified", problems: [] } });
    }
  }
  for (let i = 0; i < checkpoints.length; i += CHUNK) await core.db.checkpoint.createMany({ data: checkpoints.slice(i, i + CHUNK) });
  for (let i = 0; i < events.length; i += CHUNK) await core.db.auditEvent.createMany({ data: events.slice(i, i + CHUNK) });
  if (rollbacks.length) await core.db.rollback.createMany({ data: rollbacks });
  await closeDb(request.dataDir);
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return {
    component: request.name,
    checkpoints: checkpoints.length + 1,
    rollbacks: rollbacks.length,
    events: events.length + 1,
    newestDay: day(now),
    oldestDay: day(now - spanMs - 60_000),
    ms: Math.round(performance.now() - t0),
  };
}

seed(JSON.parse(process.argv[2] ?? "{}") as SeedRequest).then(
  (result) => process.stdout.write(JSON.stringify(result) + "\n"),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
