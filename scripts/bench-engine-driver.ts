/**
 * In-process engine driver for `npm run bench` (scripts/bench.mjs bundles it with
 * esbuild into dist/bench/ and runs it as a child process). It opens the core once
 * and then executes one request per stdin line, answering one JSON line on stdout
 * with the time measured around the engine call only (performance.now()), so the
 * bench sees what a long-lived host (the web server, the MCP server) would pay,
 * without process start-up, module loading or the database migration check.
 *
 * Requests: {op:"open", dataDir, cwd} | {op:"add", name, root} | {op:"checkpoint", component}
 *           | {op:"rollback", id} | {op:"restore", id, to} | {op:"rss"} | {op:"close"}
 * Answers:  {ok:true, ms, ...result} or {ok:false, error}
 */
import { createInterface } from "node:readline";
import { loadConfig } from "../server/config";
import { openCore, type Core } from "../server/core";
import { closeDb } from "../server/db";
import { upsertComponent } from "../server/registry/components";
import { createCheckpoint } from "../server/checkpoints/create";
import { findCheckpointRow } from "../server/checkpoints/queries";
import { performRollback } from "../server/rollback/execute";
import { restoreCheckpointInto } from "../server/rollback/restore-into";
import { checkpointCreateInput } from "../server/schemas";

const ACTOR = "bench:engine";

type Request =
  | { op: "open"; dataDir: string; cwd: string }
  | { op: "add"; name: string; root: string }
  | { op: "checkpoint"; component: string }
  | { op: "rollback"; id: string }
  | { op: "restore"; id: string; to: string }
  | { op: "rss" }
  | { op: "close" };

let core: Core | undefined;

function opened(): Core {
  if (!core) throw new Error("send {op:'open'} first");
  return core;
}

/** Times `work` alone: the engine call, nothing around it. */
async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const t0 = performance.now();
  const result = await work();
  return { ms: performance.now() - t0, result };
}

async function handle(request: Request): Promise<Record<string, unknown>> {
  switch (request.op) {
    case "open": {
      const { ms } = await timed(async () => {
        core = openCore(loadConfig({ dataDir: request.dataDir, cwd: request.cwd }));
      });
      return { ms };
    }
    case "add": {
      const { ms, result } = await timed(() => upsertComponent(opened(), { name: request.name, root: request.root }, ACTOR));
      return { ms, id: result.id };
    }
    case "checkpoint": {
      const input = checkpointCreateInput.parse({ component: request.component });
      const { ms, result } = await timed(() => createCheckpoint(opened(), input, ACTOR));
      return { ms, id: result.id, files: result.files, bytes: result.bytes, newBytes: result.newBytes, filesRead: result.filesRead };
    }
    case "rollback": {
      const c = opened();
      const { ms, result } = await timed(async () => performRollback(c, await findCheckpointRow(c, request.id), ACTOR));
      return { ms, restored: result.restored, deleted: result.deleted, outcome: result.outcome };
    }
    case "restore": {
      const { ms, result } = await timed(() => restoreCheckpointInto(opened(), request.id, request.to, { actor: ACTOR }));
      return { ms, files: result.files, bytes: result.bytes };
    }
    case "rss":
      // maxRSS is in kilobytes: the peak of this whole process so far.
      return { maxRssKb: process.resourceUsage().maxRSS };
    case "close":
      if (core) await closeDb(core.config.dataDir);
      return {};
  }
}

async function main(): Promise<void> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let answer: Record<string, unknown>;
    let request: Request | undefined;
    try {
      request = JSON.parse(line) as Request;
      answer = { ok: true, ...(await handle(request)) };
    } catch (error) {
      answer = { ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
    process.stdout.write(JSON.stringify(answer) + "\n");
    if (request?.op === "close") break;
  }
}

await main();
