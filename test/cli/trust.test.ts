/**
 * The safety net must hold when it is needed: each defect found from outside,
 * replayed through the CLI as a process, the way a user or an agent met it.
 */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  assertCliBundleFresh,
  cleanUpAfterEach,
  cliJson,
  corruptObject,
  inspectData,
  journalFiles,
  jsonOf,
  makeWorkspaceDirs,
  readTree,
  runCli,
  treeDifferences,
  writeTree,
  type CliErrorJson,
  type WorkspaceDirs,
} from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import type { CheckpointDiff } from "../../server/checkpoints/diff";
import type { HistoryItem } from "../../server/audit/history";
import { RACY_WINDOW_MS } from "../../server/scan/stat-cache";
import { readManifest } from "../../server/checkpoints/manifest";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

interface RollbackJson {
  rollbackId: string;
  outcome: string;
  restored: number;
  deleted: number;
  safetyCheckpointId: string;
  restoredPaths: string[];
  deletedPaths: string[];
}
interface VerifyJson {
  state: string;
  problems: { path: string; state: string }[];
}
interface PlanJson {
  restore: { path: string; action: string }[];
  delete: { path: string }[];
  unchanged: number;
}

/** Long enough that what was just written is no longer "racily clean" and may be cached. */
const pastRacyWindow = () => new Promise((resolve) => setTimeout(resolve, RACY_WINDOW_MS + 600));

async function component(label: string, tree: Parameters<typeof writeTree>[1]): Promise<WorkspaceDirs> {
  const ws = makeWorkspaceDirs(label);
  writeTree(ws.root, tree);
  await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
  return ws;
}

const at = (ws: WorkspaceDirs, rel: string) => path.join(ws.root, rel);

describe("a diff or a plan never vouches for content that was not stored", () => {
  it("checkpoint diff, then checkpoint create: the new checkpoint holds every file and verifies", async () => {
    const ws = await component("trust-diff", { "a.txt": "v1\n", "b.txt": "b\n" });
    await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    fs.writeFileSync(at(ws, "a.txt"), "v2: the agent's edit\n");
    await pastRacyWindow();

    const diff = await cliJson<CheckpointDiff>(ws, ["checkpoint", "diff", (await cliJson<{ items: { id: string }[] }>(ws, ["checkpoint", "list", "web"])).items[0]?.id as string]);
    expect(diff.modified.map((e) => e.path)).toEqual(["a.txt"]);
    const second = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);

    expect(await cliJson<VerifyJson>(ws, ["checkpoint", "verify", second.id])).toMatchObject({ state: "verified", problems: [] });
    // And it restores: put v1 back, then return to the second checkpoint.
    fs.writeFileSync(at(ws, "a.txt"), "v3\n");
    await cliJson(ws, ["rollback", second.id, "--yes"]);
    expect(fs.readFileSync(at(ws, "a.txt"), "utf8")).toBe("v2: the agent's edit\n");
  });

  it("rollback --dry-run, then rollback --yes: the safety checkpoint holds the agent's version and the undo gives it back", async () => {
    const ws = await component("trust-plan", { "a.txt": "v1\n", "src/b.ts": "export const b = 1;\n" });
    const first = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    fs.writeFileSync(at(ws, "a.txt"), "the agent's a\n");
    fs.writeFileSync(at(ws, "src/c.ts"), "export const c = 3;\n");
    await pastRacyWindow();
    const agentTree = readTree(ws.root);

    const plan = await cliJson<PlanJson>(ws, ["rollback", first.id, "--dry-run"]);
    expect(plan.restore.map((r) => r.path)).toEqual(["a.txt"]);
    const done = await cliJson<RollbackJson>(ws, ["rollback", first.id, "--yes"]);

    expect(await cliJson<VerifyJson>(ws, ["checkpoint", "verify", done.safetyCheckpointId])).toMatchObject({ state: "verified", problems: [] });
    await cliJson<RollbackJson>(ws, ["rollback", done.safetyCheckpointId, "--yes"]);
    expect(treeDifferences(agentTree, readTree(ws.root))).toEqual([]);
  });
});

describe("a crash mid-rollback (SIGKILL) never wedges the component", () => {
  it("the next rollback runs at once: the lock died with its holder, and the interrupted rollback is completed first", async () => {
    const ws = await component("trust-crash", { "a.txt": "v1\n", "b.txt": "b1\n", "c/d.txt": "d1\n" });
    const original = readTree(ws.root);
    const first = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    writeTree(ws.root, { "a.txt": "v2\n", "b.txt": "b2\n", "c/d.txt": "d2\n", "e.txt": "new\n" });
    const killed = await runCli(ws, ["rollback", first.id, "--yes", "--json"], { fault: { after: 4, under: ws.root } });
    expect(killed.signal).toBe("SIGKILL");
    expect(journalFiles(ws.dataDir)).toHaveLength(1);

    const next = await runCli(ws, ["rollback", first.id, "--yes", "--json"]);

    expect(next.status, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/completed interrupted rollback/);
    expect(treeDifferences(original, readTree(ws.root))).toEqual([]);
    expect(journalFiles(ws.dataDir)).toEqual([]);
  });

  it("a kill before the journal leaves the workspace as it was, and the rollback's row is reconciled as failed by the next command", async () => {
    const ws = await component("trust-crash-early", { "a.txt": "v1\n" });
    const first = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    fs.writeFileSync(at(ws, "a.txt"), "v2\n");
    const edited = readTree(ws.root);
    // Killed at its first write into the journal folder (after the start-up mkdir of that folder): the safety
    // checkpoint and the rollback's row exist, the journal does not.
    const killed = await runCli(ws, ["rollback", first.id, "--yes"], { fault: { after: 2, under: path.join(ws.dataDir, "journal") } });
    expect(killed.signal).toBe("SIGKILL");
    expect(journalFiles(ws.dataDir)).toEqual([]);
    expect(await inspectData(ws).db.rollback.findMany({ select: { outcome: true } })).toEqual([{ outcome: "running" }]);

    const history = await cliJson<{ items: HistoryItem[] }>(ws, ["history", "web"]);

    expect(treeDifferences(edited, readTree(ws.root), { inode: true })).toEqual([]);
    expect(history.items[0]).toMatchObject({ kind: "rollback", outcome: "failed", error: expect.stringMatching(/before the rollback changed anything/) });
    expect(await inspectData(ws).db.rollback.findMany({ select: { outcome: true } })).toEqual([{ outcome: "failed" }]);
    // Nothing is stuck: the same rollback now runs.
    await cliJson(ws, ["rollback", first.id, "--yes"]);
    expect(fs.readFileSync(at(ws, "a.txt"), "utf8")).toBe("v1\n");
  });

  it("a kill after the rollback finished, before its journal was removed, never replays it over later edits", async () => {
    const ws = await component("trust-crash-late", { "a.txt": "v1\n" });
    const first = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    fs.writeFileSync(at(ws, "a.txt"), "v2\n");
    // Changes in the journal folder: the start-up mkdir, the journal writer's mkdir, its temp file, its rename, then its removal: killed there.
    const killed = await runCli(ws, ["rollback", first.id, "--yes"], { fault: { after: 5, under: path.join(ws.dataDir, "journal") } });
    expect(killed.signal).toBe("SIGKILL");
    expect(journalFiles(ws.dataDir)).toHaveLength(1);
    expect(fs.readFileSync(at(ws, "a.txt"), "utf8")).toBe("v1\n");
    fs.writeFileSync(at(ws, "a.txt"), "v3: edited after the rollback\n");

    const history = await cliJson<{ items: HistoryItem[] }>(ws, ["history", "web"]);

    expect(fs.readFileSync(at(ws, "a.txt"), "utf8")).toBe("v3: edited after the rollback\n");
    expect(journalFiles(ws.dataDir)).toEqual([]);
    expect(history.items.filter((e) => e.kind === "rollback").map((e) => e.outcome)).toEqual(["succeeded"]);
    expect(history.items.some((e) => e.kind === "recover")).toBe(false);
  });

  it("while an interrupted rollback cannot be completed, every change to its component is refused naming the journal", async () => {
    const ws = await component("trust-barrier", { "a.txt": "v1\n", "big.bin": Buffer.alloc(4096, 7) });
    const first = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    writeTree(ws.root, { "a.txt": "v2\n", "big.bin": Buffer.alloc(4096, 9) });
    const killed = await runCli(ws, ["rollback", first.id, "--yes"], { fault: { after: 1, under: ws.root } });
    expect(killed.signal).toBe("SIGKILL");
    // (Read from the store directly: any CLI command would first complete the interrupted rollback.)
    const manifest = readManifest(inspectData(ws).store, first.manifestSha256);
    await corruptObject(ws.dataDir, manifest.entries.find((e) => e.path === "big.bin")?.sha256 as string);
    const halfway = readTree(ws.root);

    const create = await runCli(ws, ["checkpoint", "create", "web", "--json"]);

    expect(create.status).toBe(3);
    const error = jsonOf<CliErrorJson>(create).error;
    expect(error.message).toMatch(/interrupted rollback rb_\w+ \(journal .*journal\/rb_\w+\.json\) that could not be completed: .*big\.bin/);
    expect(treeDifferences(halfway, readTree(ws.root), { inode: true })).toEqual([]);
    expect(journalFiles(ws.dataDir)).toHaveLength(1);
  });
});

describe("a plan that cannot be carried out is refused before anything changes", () => {
  it("refuses to replace a folder that still holds ignored files, naming the folder and the files, and writes nothing", async () => {
    const ws = await component("trust-preflight", { ".gitignore": "*.log\n", "out": "a file at first\n", "keep.txt": "k1\n" });
    const first = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    fs.rmSync(at(ws, "out"));
    writeTree(ws.root, { "out/result.txt": "agent output\n", "out/debug.log": "ignored log\n", "keep.txt": "k2\n" });
    const before = readTree(ws.root);

    const refused = await runCli(ws, ["rollback", first.id, "--yes", "--json"]);

    expect(refused.status, refused.stderr).toBe(3);
    expect(jsonOf<CliErrorJson>(refused).error.message).toMatch(/out \(in the way: out\/debug\.log\)/);
    expect(treeDifferences(before, readTree(ws.root), { inode: true, mtime: "all" })).toEqual([]);
    expect(journalFiles(ws.dataDir)).toEqual([]);
    // The dry run says the same before anyone confirms.
    expect((await runCli(ws, ["rollback", first.id, "--dry-run", "--json"])).status).toBe(3);
  });
});

describe("checkpoint diff lists exactly what the rollback changes", () => {
  it("reports a file whose only change is its mtime, and the rollback restores exactly the listed paths", async () => {
    const ws = await component("trust-diff-mtime", { "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n" });
    const first = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    const original = readTree(ws.root);
    fs.utimesSync(at(ws, "b.txt"), new Date("2031-01-01"), new Date("2031-01-01"));
    fs.writeFileSync(at(ws, "c.txt"), "c2\n");

    const diff = await cliJson<CheckpointDiff>(ws, ["checkpoint", "diff", first.id]);
    expect(diff.mtimeChanged.map((e) => e.path)).toEqual(["b.txt"]);
    expect(diff.modified.map((e) => e.path)).toEqual(["c.txt"]);
    const text = await runCli(ws, ["checkpoint", "diff", first.id]);
    expect(text.stdout).toMatch(/t b\.txt \(only the modification time changed\)/);

    const done = await cliJson<RollbackJson>(ws, ["rollback", first.id, "--yes"]);

    expect(done.restoredPaths.sort()).toEqual(["b.txt", "c.txt"]);
    expect(treeDifferences(original, readTree(ws.root))).toEqual([]);
  });
});
