import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, journalFiles, makeWorkspaceDirs, runCli, writeTree, type CliErrorJson, type WorkspaceDirs } from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import type { RollbackPlanBody } from "../../server/rollback/plan";
import type { RollbackResult } from "../../server/rollback/execute";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

type RollbackJson = Omit<RollbackResult, "restoredPaths" | "deletedPaths"> & { restoredPaths: string[]; deletedPaths: string[] };
interface HistoryItem {
  kind: string;
  outcome: string;
  details: { rollbackId?: string; movedObstacles?: { path: string; to: string }[]; movedObstaclesCount?: number };
}

const REPORT = "quarterly totals\nQ1 120\nQ2 135\n";

/**
 * A component whose `report` was a file at the checkpoint; the agent then made
 * `report/` a folder holding a file in scope and files .gitignore leaves out
 * (a log and a node_modules folder): the rollback must put the file back where
 * that folder is, and may not touch the ignored files.
 */
async function agentReplacedFileWithFolder(ws: WorkspaceDirs): Promise<CheckpointCreated> {
  writeTree(ws.root, { ".gitignore": "*.log\n", report: REPORT, "src/index.ts": "export const total = 255;\n" });
  await cliJson(ws, ["component", "add", "reports", "--root", ws.root]);
  const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "reports", "--reason", "before the agent"]);
  fs.rmSync(path.join(ws.root, "report"));
  writeTree(ws.root, {
    "report/summary.md": "# Summary\n",
    "report/build.log": "compiled 3 files\n",
    "report/node_modules/left-pad/index.js": "module.exports = (s) => s;\n",
    "report/drafts/notes.md": "draft\n",
    "report/drafts/debug.log": "trace\n",
  });
  return created;
}

describe("safetynet rollback --move-obstacles", () => {
  it("refuses a rollback blocked by ignored files, and the refusal says how to move them aside", async () => {
    const ws = makeWorkspaceDirs("obstacles-refused");
    const created = await agentReplacedFileWithFolder(ws);

    const refused = await runCli(ws, ["rollback", created.id, "--yes", "--json"]);
    expect(refused.status).toBe(3);
    const error = (JSON.parse(refused.stdout) as CliErrorJson).error;
    expect(error.message).toContain("report (in the way: report/build.log");
    expect(error.message).toContain("--move-obstacles");
    // Nothing changed: the agent's folder and its ignored files are all still there.
    expect(fs.readFileSync(path.join(ws.root, "report/build.log"), "utf8")).toBe("compiled 3 files\n");
    expect(fs.existsSync(path.join(ws.root, "report/summary.md"))).toBe(true);
    expect(fs.existsSync(path.join(ws.dataDir, "quarantine"))).toBe(false);
  });

  it("with --move-obstacles, shows the moves in the plan, moves them into the quarantine, restores the file and records it in history", async () => {
    const ws = makeWorkspaceDirs("obstacles-moved");
    const created = await agentReplacedFileWithFolder(ws);

    const plan = await cliJson<RollbackPlanBody>(ws, ["rollback", created.id, "--dry-run", "--move-obstacles"]);
    expect(plan.obstaclesToMove).toEqual([
      { path: "report/build.log", inTheWayOf: "report" },
      { path: "report/drafts/debug.log", inTheWayOf: "report" },
      { path: "report/node_modules", inTheWayOf: "report" },
    ]);
    expect(plan.delete.map((d) => d.path).sort()).toEqual(["report/drafts", "report/drafts/notes.md", "report/summary.md"]);
    const text = await runCli(ws, ["rollback", created.id, "--dry-run", "--move-obstacles"]);
    expect(text.stdout).toContain("move aside       report/node_modules (in the way of report; moved into the data directory's quarantine)");

    const result = await cliJson<RollbackJson>(ws, ["rollback", created.id, "--yes", "--move-obstacles"]);
    expect(result.outcome).toBe("succeeded");
    const quarantine = path.join(ws.dataDir, "quarantine", result.rollbackId);
    expect(result.movedObstacles).toEqual([
      { path: "report/build.log", to: path.join(quarantine, "report/build.log") },
      { path: "report/drafts/debug.log", to: path.join(quarantine, "report/drafts/debug.log") },
      { path: "report/node_modules", to: path.join(quarantine, "report/node_modules") },
    ]);

    // The file is back, and the rest of the component is as it was.
    expect(fs.lstatSync(path.join(ws.root, "report")).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(ws.root, "report"), "utf8")).toBe(REPORT);
    expect(fs.readFileSync(path.join(ws.root, "src/index.ts"), "utf8")).toBe("export const total = 255;\n");
    // The ignored files are in the quarantine, whole, in private folders.
    expect(fs.readFileSync(path.join(quarantine, "report/build.log"), "utf8")).toBe("compiled 3 files\n");
    expect(fs.readFileSync(path.join(quarantine, "report/drafts/debug.log"), "utf8")).toBe("trace\n");
    expect(fs.readFileSync(path.join(quarantine, "report/node_modules/left-pad/index.js"), "utf8")).toBe("module.exports = (s) => s;\n");
    for (const dir of [path.join(ws.dataDir, "quarantine"), quarantine, path.join(quarantine, "report")]) expect(fs.statSync(dir).mode & 0o777).toBe(0o700);

    const history = (await cliJson<{ items: HistoryItem[] }>(ws, ["history", "reports"])).items;
    const row = history.find((h) => h.kind === "rollback" && h.details.rollbackId === result.rollbackId);
    expect(row?.outcome).toBe("succeeded");
    expect(row?.details.movedObstacles).toEqual(result.movedObstacles);
    expect(row?.details.movedObstaclesCount).toBe(3);

    // The agent's own in-scope files are in the safety checkpoint: undoing brings them back (beside nothing ignored).
    const undo = await cliJson<RollbackJson>(ws, ["rollback", result.safetyCheckpointId as string, "--yes"]);
    expect(undo.outcome).toBe("succeeded");
    expect(fs.readFileSync(path.join(ws.root, "report/summary.md"), "utf8")).toBe("# Summary\n");
    expect(fs.readFileSync(path.join(ws.root, "report/drafts/notes.md"), "utf8")).toBe("draft\n");
  });

  it("a rollback killed while it moves obstacles is completed by recovery, which moves the rest into the same quarantine", async () => {
    const ws = makeWorkspaceDirs("obstacles-crash");
    const created = await agentReplacedFileWithFolder(ws);
    // The first changes the rollback makes in the workspace are the moves: killed at the second one.
    const crashed = await runCli(ws, ["rollback", created.id, "--yes", "--move-obstacles", "--json"], { fault: { after: 2, under: ws.root } });
    expect(crashed.signal).toBe("SIGKILL");
    expect(journalFiles(ws.dataDir)).toHaveLength(1);
    const [rollbackId] = fs.readdirSync(path.join(ws.dataDir, "quarantine"));
    const quarantine = path.join(ws.dataDir, "quarantine", rollbackId as string);
    expect(fs.existsSync(path.join(quarantine, "report/build.log"))).toBe(true);
    expect(fs.existsSync(path.join(ws.root, "report/node_modules/left-pad/index.js"))).toBe(true);

    const recovered = await cliJson<{ recovered: { outcome: string; rollbackId: string }[] }>(ws, ["recover"]);
    expect(recovered.recovered).toEqual([expect.objectContaining({ outcome: "recovered", rollbackId })]);
    expect(fs.readFileSync(path.join(ws.root, "report"), "utf8")).toBe(REPORT);
    expect(fs.readFileSync(path.join(quarantine, "report/build.log"), "utf8")).toBe("compiled 3 files\n");
    expect(fs.readFileSync(path.join(quarantine, "report/drafts/debug.log"), "utf8")).toBe("trace\n");
    expect(fs.readFileSync(path.join(quarantine, "report/node_modules/left-pad/index.js"), "utf8")).toBe("module.exports = (s) => s;\n");
    const history = (await cliJson<{ items: HistoryItem[] }>(ws, ["history", "reports"])).items;
    const recoverRow = history.find((h) => h.kind === "recover" && h.details.rollbackId === rollbackId);
    expect(recoverRow?.details.movedObstacles?.map((o) => o.path)).toEqual(expect.arrayContaining(["report/node_modules"]));
  });

  it("a rollback without obstacles moves nothing and creates no quarantine", async () => {
    const ws = makeWorkspaceDirs("obstacles-none");
    writeTree(ws.root, { "a.txt": "a\n", "b.log": "ignored\n", ".gitignore": "*.log\n" });
    await cliJson(ws, ["component", "add", "plain", "--root", ws.root]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "plain"]);
    fs.writeFileSync(path.join(ws.root, "a.txt"), "changed\n");
    const result = await cliJson<RollbackJson>(ws, ["rollback", created.id, "--yes", "--move-obstacles"]);
    expect(result.movedObstacles).toEqual([]);
    expect(fs.readFileSync(path.join(ws.root, "a.txt"), "utf8")).toBe("a\n");
    expect(fs.existsSync(path.join(ws.dataDir, "quarantine"))).toBe(false);
  });
});
