/**
 * A file rewritten in place while it is checkpointed (same size, pwrite at offset
 * 0, within one clock tick of the file system's timestamps) must never be stored
 * as a mix of two versions: each checkpoint holds a version that existed on disk
 * at one moment, or records the file as unstable, lists it, and its rollbacks
 * leave it alone. Through the CLI as a process, with a real writer process.
 */
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { assertCliBundleFresh, cleanUpAfterEach, cliJson, inspectData, makeWorkspaceDirs, runCli, type WorkspaceDirs } from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import { startInPlaceWriter, VERSION_A, versionOf } from "../support/in-place-writer";
import { readManifest } from "../../server/checkpoints/manifest";
import { findCheckpointRow } from "../../server/checkpoints/queries";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

const SIZE = 1_000_000;

const writers: ChildProcess[] = [];
afterEach(() => {
  for (const writer of writers.splice(0)) writer.kill("SIGKILL");
});

async function workspace(label: string): Promise<WorkspaceDirs & { hot: string }> {
  const ws = makeWorkspaceDirs(label);
  fs.writeFileSync(path.join(ws.root, "hot.bin"), Buffer.alloc(SIZE, VERSION_A));
  fs.writeFileSync(path.join(ws.root, "calm.txt"), "nobody writes me\n");
  await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
  return { ...ws, hot: path.join(ws.root, "hot.bin") };
}

/** What the checkpoint's manifest says of hot.bin: the version its stored content is, or "unstable". */
async function storedVersion(ws: WorkspaceDirs, checkpointId: string): Promise<string> {
  const core = inspectData(ws);
  {
    const row = await findCheckpointRow(core, checkpointId);
    const entry = readManifest(core.store, row.manifestSha).entries.find((e) => e.path === "hot.bin");
    if (!entry) throw new Error("hot.bin is not in the checkpoint");
    if (entry.unstable) {
      expect(entry.sha256).toBeUndefined();
      return "unstable";
    }
    return versionOf(core.store.readBuffer(entry.sha256 as string, { verify: true }), SIZE);
  }
}

describe("a file rewritten in place while it is checkpointed", () => {
  it("is stored as one version that existed, or recorded as unstable; never as a mix, and the checkpoint never fails", async () => {
    const ws = await workspace("torn");
    writers.push(startInPlaceWriter(ws.hot, SIZE, 2));
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) {
      const created = await cliJson<CheckpointCreated & { unstable: string[] }>(ws, ["checkpoint", "create", "web"]);
      const version = await storedVersion(ws, created.id);
      seen.push(version);
      expect(["A", "B", "unstable"], `checkpoint ${i + 1}`).toContain(version);
      expect(created.unstable).toEqual(version === "unstable" ? ["hot.bin"] : []);
      expect(await cliJson(ws, ["checkpoint", "verify", created.id])).toMatchObject({ state: "verified" });
    }
    // The calm file is always there, whatever happened to the hot one.
    expect(seen).toHaveLength(8);
  });

  it("keeps changing: the checkpoint lists it as unstable (result, text, history), and its rollback leaves it alone and says so", async () => {
    const ws = await workspace("unstable");
    writers.push(startInPlaceWriter(ws.hot, SIZE, 0));
    // Back-to-back writes leave no moment for two reads to agree; should one ever agree, take another.
    let created: CheckpointCreated & { unstable: string[] } | undefined;
    for (let i = 0; i < 5 && !created; i++) {
      const attempt = await cliJson<CheckpointCreated & { unstable: string[] }>(ws, ["checkpoint", "create", "web", "--reason", "before the agent"]);
      if (attempt.unstable.length > 0) created = attempt;
    }
    if (!created) throw new Error("five checkpoints in a row read a back-to-back writer's file consistently: the writer never ran?");
    expect(created.unstable).toEqual(["hot.bin"]);
    expect(created.files).toBe(2);
    const history = await cliJson<{ items: { kind: string; checkpointId: string; details: { unstable?: string[] } }[] }>(ws, ["history", "web"]);
    expect(history.items.find((h) => h.checkpointId === created?.id)?.details.unstable).toEqual(["hot.bin"]);

    writers.splice(0).forEach((w) => w.kill("SIGKILL"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const hotNow = fs.readFileSync(ws.hot);
    fs.writeFileSync(path.join(ws.root, "calm.txt"), "the agent's edit\n");

    const plan = await cliJson<{ restore: { path: string }[]; delete: unknown[]; unstable: string[] }>(ws, ["rollback", created.id, "--dry-run"]);
    expect(plan.restore.map((r) => r.path)).toEqual(["calm.txt"]);
    expect(plan.unstable).toEqual(["hot.bin"]);
    const text = await runCli(ws, ["rollback", created.id, "--dry-run"]);
    expect(text.stdout).toMatch(/left alone.*hot\.bin/s);

    const rollback = await cliJson<{ outcome: string }>(ws, ["rollback", created.id, "--yes"]);
    expect(rollback.outcome).toBe("succeeded");
    expect(fs.readFileSync(path.join(ws.root, "calm.txt"), "utf8")).toBe("nobody writes me\n");
    expect(fs.readFileSync(ws.hot).equals(hotNow)).toBe(true);
    // A checkpoint of a quiet file is exact again.
    const after = await cliJson<CheckpointCreated & { unstable: string[] }>(ws, ["checkpoint", "create", "web"]);
    expect(after.unstable).toEqual([]);
  });
});
