/**
 * A rollback that stops part-way (the workspace's disk fills up while it writes)
 * and the recoveries that cannot complete it yet, through the CLI as a process:
 * every message says the state things are in (partly applied, journaled), where
 * it stopped, and what completes it; none says "nothing was changed" while the
 * tree is half rolled back. Also the rollback's own free-space refusal: the
 * documented NO_SPACE error, with the figures.
 */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  assertCliBundleFresh,
  cleanUpAfterEach,
  cliJson,
  fillDisk,
  journalFiles,
  jsonOf,
  makeWorkspaceDirs,
  mountTinyDisk,
  readTree,
  runCli,
  tmpfsUnavailableReason,
  treeDifferences,
  writeTree,
  type CliErrorJson,
  type TreeState,
  type WorkspaceDirs,
} from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";
import type { HistoryItem } from "../../server/audit/history";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

const noTmpfs = tmpfsUnavailableReason() !== null;

interface Stopped {
  ws: WorkspaceDirs;
  original: TreeState;
  checkpoint: CheckpointCreated;
}

/**
 * web holds a.txt, b.txt and c.txt; all three are edited, and a rollback to the
 * checkpoint is run with the workspace's disk "filling up" at its 4th change
 * there: a.txt is written, renamed and its mtime set, then writing b.txt's temp
 * file fails with ENOSPC (test/support/fault-seam.mjs).
 */
async function threeFileComponent(label: string, options: { tinyDisk?: boolean; names?: [string | Buffer, string | Buffer, string | Buffer] } = {}): Promise<Stopped> {
  const ws = makeWorkspaceDirs(label);
  if (options.tinyDisk) mountTinyDisk(ws.root, 2048);
  const names = options.names ?? ["a.txt", "b.txt", "c.txt"];
  names.forEach((name, i) => fs.writeFileSync(Buffer.concat([Buffer.from(ws.root + "/"), Buffer.from(name)]), `v1 of file ${i}\n`));
  await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
  const original = readTree(ws.root);
  const checkpoint = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
  names.forEach((name, i) => fs.writeFileSync(Buffer.concat([Buffer.from(ws.root + "/"), Buffer.from(name)]), `v2 of file ${i}, by the agent\n`));
  return { ws, original, checkpoint };
}

const FULL_AT_SECOND_FILE = 4;

describe("a rollback stopped by a full workspace disk", () => {
  it("says it is partly applied and journaled, where it stopped, and that `safetynet recover` completes it; which it then does exactly", async () => {
    const { ws, original, checkpoint } = await threeFileComponent("stopped-json");

    const stopped = await runCli(ws, ["rollback", checkpoint.id, "--yes", "--json"], { fault: { after: FULL_AT_SECOND_FILE, under: ws.root, mode: "enospc" } });

    expect(stopped.status, stopped.stderr).toBe(1);
    const { error } = jsonOf<CliErrorJson>(stopped);
    const [journal] = journalFiles(ws.dataDir);
    expect(journal).toBeDefined();
    const rollbackId = path.basename(journal as string, ".json");
    expect(error.code).toBe("NO_SPACE");
    expect(error.details).toMatchObject({
      rollbackId,
      component: "web",
      checkpointId: checkpoint.id,
      pending: true,
      partlyApplied: true,
      journal: path.join(ws.dataDir, "journal", journal as string),
      failedAt: { step: "restore", path: "b.txt" },
      changesMade: 1,
      changesPlanned: 3,
      completeWith: "safetynet recover",
      cause: expect.stringMatching(/^no space left on device while writing .*\.b\.txt\.sn-[0-9a-f]+$/),
    });
    expect(error.message).toMatch(new RegExp(`^rollback ${rollbackId} of web to ${checkpoint.id} stopped part-way while restoring b\\.txt: no space left on device while writing `));
    expect(error.message).toMatch(/ the rollback is partly applied \(1 of 3 changes made\) and journaled in \S+journal\/rb_\w+\.json/);
    expect(error.message).toMatch(new RegExp(`free some space on the disk of ${ws.root}, then run \`safetynet recover\` to complete it exactly`));
    expect(error.message).not.toMatch(/nothing was (changed|written)/);
    // Half old, half new: a.txt is back, b.txt and c.txt are not yet.
    expect(treeDifferences(original, readTree(ws.root), { mtime: false }).sort()).toEqual([expect.stringMatching(/^b\.txt: sha256/), expect.stringMatching(/^c\.txt: sha256/)]);

    const recovered = await cliJson<{ recovered: { outcome: string }[] }>(ws, ["recover"]);
    expect(recovered.recovered).toEqual([expect.objectContaining({ rollbackId, outcome: "recovered" })]);
    expect(treeDifferences(original, readTree(ws.root), { mtime: "all" })).toEqual([]);
    expect(journalFiles(ws.dataDir)).toEqual([]);
    // History keeps what the rollback said when it stopped.
    const history = await cliJson<{ items: HistoryItem[] }>(ws, ["history", "web"]);
    expect(history.items.find((e) => e.kind === "rollback")).toMatchObject({ outcome: "failed", error: error.message });
  });

  it("names the path for people in the human message (bytes that are not UTF-8 as \\xHH)", async () => {
    const { ws, checkpoint } = await threeFileComponent("stopped-human", { names: ["a.txt", Buffer.from([0x62, 0xff, 0x2e, 0x74, 0x78, 0x74]), "c.txt"] });

    const stopped = await runCli(ws, ["rollback", checkpoint.id, "--yes"], { fault: { after: FULL_AT_SECOND_FILE, under: ws.root, mode: "enospc" } });

    expect(stopped.status).toBe(1);
    expect(stopped.stdout).toBe("");
    expect(stopped.stderr).toMatch(/^safetynet: rollback rb_\w+ of web to cp_\w+ stopped part-way while restoring b\\xff\.txt: no space left on device while writing \S*\.b\\xff\.txt\.sn-/);
    expect(stopped.stderr).toMatch(/partly applied \(1 of 3 changes made\) and journaled/);
    expect(stopped.stderr).toMatch(/`safetynet recover`/);
    expect(stopped.stderr).not.toContain("\ufffd");
  });
});

describe("a recovery that cannot complete the rollback yet", () => {
  it("says the rollback is still pending (partly applied, journaled) and what to do, never that nothing was changed", async () => {
    const { ws, original, checkpoint } = await threeFileComponent("stopped-recover");
    await runCli(ws, ["rollback", checkpoint.id, "--yes"], { fault: { after: FULL_AT_SECOND_FILE, under: ws.root, mode: "enospc" } });
    const halfway = readTree(ws.root);

    // Still full: the recovery's first write into the workspace fails too.
    const failed = await runCli(ws, ["recover", "--json"], { fault: { after: 1, under: ws.root, mode: "enospc" } });

    expect(failed.status).toBe(1);
    const [result] = jsonOf<{ recovered: Record<string, unknown>[] }>(failed).recovered;
    expect(result).toMatchObject({
      component: "web",
      checkpointId: checkpoint.id,
      outcome: "failed",
      pending: true,
      partlyApplied: true,
      journal: expect.stringMatching(/journal\/rb_\w+\.json$/),
      failedAt: { step: "restore", path: "b.txt" },
      completeWith: "safetynet recover",
      error: expect.stringMatching(/^no space left on device while writing .*\.b\.txt\.sn-/),
    });
    expect(result?.message).toMatch(/^rollback rb_\w+ of web to cp_\w+ is still pending: completing it stopped while restoring b\.txt: no space left on device/);
    expect(result?.message).toMatch(/partly applied \(1 of 3 changes made when it stopped\) and journaled in \S+journal\/rb_\w+\.json/);
    expect(result?.message).toMatch(/free some space on the disk of .*, then run `safetynet recover`/);
    expect(JSON.stringify(result)).not.toMatch(/nothing was (changed|written)/);
    expect(treeDifferences(halfway, readTree(ws.root))).toEqual([]);

    const completed = await cliJson<{ recovered: { outcome: string }[] }>(ws, ["recover"]);
    expect(completed.recovered).toEqual([expect.objectContaining({ outcome: "recovered" })]);
    expect(treeDifferences(original, readTree(ws.root), { mtime: "all" })).toEqual([]);
  });

  it.skipIf(noTmpfs)("on a disk that is really full: `recover`, the next command and a change to the component all say it is still pending", async () => {
    const { ws, original, checkpoint } = await threeFileComponent("stopped-full", { tinyDisk: true });
    await runCli(ws, ["rollback", checkpoint.id, "--yes"], { fault: { after: FULL_AT_SECOND_FILE, under: ws.root, mode: "enospc" } });
    const filler = path.join(ws.root, "node_modules", "filler.bin");
    fillDisk(filler, 0);
    const halfway = readTree(ws.root);

    const recover = await runCli(ws, ["recover"]);
    const next = await runCli(ws, ["component", "list", "--json"]);
    const change = await runCli(ws, ["checkpoint", "create", "web", "--json"]);

    expect(recover.status).toBe(1);
    expect(recover.stdout).toMatch(/^rollback rb_\w+ of web to cp_\w+ is still pending: completing it was refused: not enough free space in .* for this rollback: it needs about \d+ bytes more, \d+ are available/);
    expect(recover.stdout).toMatch(/partly applied \(1 of 3 changes made when it stopped\) and journaled in \S+journal\/rb_\w+\.json/);
    expect(recover.stdout).toMatch(new RegExp(`free some space on the disk of ${ws.root}, then run \`safetynet recover\``));
    expect(next.status).toBe(0);
    expect(next.stderr).toMatch(/safetynet: could not complete interrupted rollback rb_\w+: not enough free space in .*; the rollback is partly applied \(1 of 3 changes made when it stopped\) and journaled/);
    expect(change.status).toBe(3);
    const refusal = jsonOf<CliErrorJson>(change).error;
    expect(refusal.message).toMatch(/interrupted rollback rb_\w+ \(journal .*journal\/rb_\w+\.json\) that could not be completed: not enough free space/);
    expect(refusal.message).toMatch(/partly applied \(1 of 3 changes made when it stopped\)/);
    expect(refusal.details).toMatchObject({ pending: true, partlyApplied: true, completeWith: "safetynet recover" });
    for (const output of [recover.stdout, recover.stderr, next.stderr, change.stdout]) expect(output).not.toMatch(/nothing was (changed|written)/);
    expect(treeDifferences(halfway, readTree(ws.root))).toEqual([]);

    fs.rmSync(filler);
    const completed = await cliJson<{ recovered: { outcome: string }[] }>(ws, ["recover"]);
    expect(completed.recovered).toEqual([expect.objectContaining({ outcome: "recovered" })]);
    expect(treeDifferences(original, readTree(ws.root), { mtime: "all" })).toEqual([expect.stringMatching(/^unexpected: node_modules/)]);
  });
});

describe("the rollback's own free-space check", () => {
  it.skipIf(noTmpfs)("refuses a rollback that does not fit with NO_SPACE (exit 1), the bytes needed and available, before anything changes", async () => {
    const ws = makeWorkspaceDirs("space-refusal");
    mountTinyDisk(ws.root, 2048);
    writeTree(ws.root, { "a-small.txt": "small\n", "b-big.bin": Buffer.alloc(900 * 1024, 1) });
    await cliJson(ws, ["component", "add", "web", "--root", ws.root]);
    const checkpoint = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "web"]);
    writeTree(ws.root, { "a-small.txt": "edited\n", "b-big.bin": "shrunk by the agent\n" });
    fillDisk(path.join(ws.root, "node_modules", "filler.bin"), 200);
    const before = readTree(ws.root);

    const refused = await runCli(ws, ["rollback", checkpoint.id, "--yes", "--json"]);

    expect(refused.status).toBe(1);
    const { error } = jsonOf<CliErrorJson>(refused);
    expect(error.code).toBe("NO_SPACE");
    const { neededBytes, availableBytes } = error.details as { neededBytes: number; availableBytes: number };
    expect(neededBytes).toBeGreaterThan(availableBytes);
    expect(availableBytes).toBeGreaterThan(0);
    expect(error.details).toMatchObject({ root: ws.root, errno: "ENOSPC" });
    expect(error.message).toBe(
      `not enough free space in ${ws.root} for this rollback: it needs about ${neededBytes} bytes more, ${availableBytes} are available; nothing was changed. Free some space on that disk, then roll back again`,
    );
    expect(treeDifferences(before, readTree(ws.root), { inode: true })).toEqual([]);
    expect(journalFiles(ws.dataDir)).toEqual([]);
  });
});
