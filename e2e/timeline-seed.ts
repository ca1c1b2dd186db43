/**
 * Long timelines for the browser tests: copies of a real checkpoint inserted
 * straight into the server's SQLite database, each at its own time with its own
 * reason, agent and task (taking a thousand real checkpoints would take minutes
 * and test nothing the console does). The copies share the template's manifest,
 * so each one opens, verifies and rolls back like the original. They carry no
 * change record, so none folds into a run of unchanged checkpoints.
 */
import path from "node:path";
import Database from "better-sqlite3";
import { newId } from "../server/ids";
import { DATA_DIR } from "./support";

export interface SeededCheckpoint {
  id: string;
  at: string;
  reason: string;
}

/** `count` copies of checkpoint `templateId`, the i-th at `startIso + i * stepMs` (oldest first). */
export function insertCheckpointCopies(templateId: string, count: number, startIso: string, stepMs: number): SeededCheckpoint[] {
  const db = new Database(path.join(DATA_DIR, "safetynet.db"));
  try {
    db.pragma("busy_timeout = 10000");
    const template = db.prepare(`SELECT * FROM "Checkpoint" WHERE "id" = ?`).get(templateId) as Record<string, unknown> | undefined;
    if (!template) throw new Error(`no checkpoint ${templateId}`);
    const columns = Object.keys(template);
    const insert = db.prepare(`INSERT INTO "Checkpoint" (${columns.map((c) => `"${c}"`).join(", ")}) VALUES (${columns.map((c) => `@${c}`).join(", ")})`);
    const start = Date.parse(startIso);
    const seeded: SeededCheckpoint[] = [];
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const ms = start + i * stepMs;
        const at = new Date(ms).toISOString();
        const reason = `step ${String(i).padStart(4, "0")}`;
        const id = newId("cp", ms);
        insert.run({
          ...template,
          id,
          createdAt: at.replace("Z", "+00:00"),
          reason,
          callerMeta: JSON.stringify({ agent: `agent-${i % 3}`, task: `TASK-${100 + (i % 40)}` }),
          baseId: null,
          added: null,
          modified: null,
          deleted: null,
        });
        seeded.push({ id, at, reason });
      }
    })();
    return seeded;
  } finally {
    db.close();
  }
}
