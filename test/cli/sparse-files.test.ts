/**
 * Sparse files through the CLI as a process: a 1 TiB file (`truncate -s 1T`) with
 * a few blocks of data is checkpointed by its data, not its apparent size (one
 * such file used to make every checkpoint fail for lack of space), and comes
 * back from a rollback, a restore into a folder and a tar export with the same
 * size, the same bytes at the same offsets, and its holes still holes. A zip,
 * which cannot hold a hole, leaves it out and says so.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  assertCliBundleFresh,
  cleanUpAfterEach,
  cliJson,
  jsonOf,
  makeTempDir,
  makeWorkspaceDirs,
  mountTinyDisk,
  runCli,
  tmpfsUnavailableReason,
  type CliErrorJson,
  type WorkspaceDirs,
} from "../support/workspace";
import type { CheckpointCreated } from "../../server/checkpoints/commit";

beforeAll(assertCliBundleFresh);
cleanUpAfterEach();

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

type Piece = [offset: number, bytes: Buffer];

/** What the agent's file holds: a few blocks of data in a terabyte of holes (one piece not aligned to a block). */
const PIECES: Piece[] = [
  [0, randomBytes(4 * KiB)],
  [7 * GiB + 123, Buffer.from("written at an odd offset\n")],
  [900 * GiB, randomBytes(64 * KiB)],
];
const DATA_BYTES = PIECES.reduce((sum, [, bytes]) => sum + bytes.length, 0);

interface DiffSideJson {
  size: number;
  sha256?: string;
  sparse?: { dataBytes: number };
}
interface DiffJson {
  added: { path: string }[];
  modified: { path: string; before?: DiffSideJson; after?: DiffSideJson }[];
  deleted: { path: string }[];
  modeChanged: unknown[];
  typeChanged: unknown[];
  linkChanged: unknown[];
  mtimeChanged: unknown[];
}
interface PlanJson {
  restore: { path: string; action: string; size: number; sparse?: { dataBytes: number } }[];
  delete: { path: string }[];
  bytesToWrite: number;
}

/** `truncate -s <size>` as a user would, then each piece written at its offset. */
function makeSparse(file: string, size: string, pieces: readonly Piece[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  execFileSync("truncate", ["-s", size, file]);
  writePieces(file, pieces);
}

function writePieces(file: string, pieces: readonly Piece[]): void {
  const fd = fs.openSync(file, "r+");
  try {
    for (const [offset, bytes] of pieces) fs.writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    fs.closeSync(fd);
  }
}

function readAt(file: string, offset: number, length: number): Buffer {
  const fd = fs.openSync(file, "r");
  try {
    const buffer = Buffer.alloc(length);
    const n = fs.readSync(fd, buffer, 0, length, offset);
    return buffer.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/** Same apparent size, the same bytes at each piece's offset, zeros where `holes` are, and still sparse (few blocks). */
function expectSparseCopy(file: string, size: number, pieces: readonly Piece[], holes: readonly number[] = []): void {
  const st = fs.statSync(file);
  expect(st.size).toBe(size);
  const data = pieces.reduce((sum, [, bytes]) => sum + bytes.length, 0);
  expect(st.blocks * 512).toBeLessThan(data + 1 * MiB);
  for (const [offset, bytes] of pieces) expect(readAt(file, offset, bytes.length).equals(bytes), `bytes at ${offset}`).toBe(true);
  for (const offset of holes) expect(readAt(file, offset, 4 * KiB).equals(Buffer.alloc(4 * KiB)), `zeros at ${offset}`).toBe(true);
}

/** Bytes of every object in the store (on disk: a compressed object at its compressed size). */
function storeBytes(dataDir: string): number {
  const objects = path.join(dataDir, "store", "objects");
  let total = 0;
  for (const fanout of fs.readdirSync(objects)) for (const name of fs.readdirSync(path.join(objects, fanout))) total += fs.statSync(path.join(objects, fanout, name)).size;
  return total;
}

async function workspace(label: string): Promise<WorkspaceDirs> {
  const ws = makeWorkspaceDirs(label);
  makeSparse(path.join(ws.root, "disk.img"), "1T", PIECES);
  fs.writeFileSync(path.join(ws.root, "notes.txt"), "an ordinary file\n");
  await cliJson(ws, ["component", "add", "vm", "--root", ws.root]);
  return ws;
}

function expectNoChanges(diff: DiffJson): void {
  expect([diff.added, diff.modified, diff.deleted, diff.modeChanged, diff.typeChanged, diff.linkChanged, diff.mtimeChanged].map((l) => l.length)).toEqual([0, 0, 0, 0, 0, 0, 0]);
}

describe("a sparse file", () => {
  it("is checkpointed by its data, and a rollback puts it back with its holes, the same bytes at the same offsets", async () => {
    const ws = await workspace("sparse-rollback");
    const disk = path.join(ws.root, "disk.img");

    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "vm"]);
    expect(created.files).toBe(2);
    expect(created.unstable).toEqual([]);
    // The store grew by about the data, not by a terabyte.
    expect(created.newBytes).toBeLessThan(DATA_BYTES + 64 * KiB);
    expect(storeBytes(ws.dataDir)).toBeLessThan(DATA_BYTES + 64 * KiB);
    expect(await cliJson(ws, ["checkpoint", "verify", created.id])).toMatchObject({ state: "verified" });
    // Nothing changed: the checkpoint and the file agree.
    expectNoChanges(await cliJson<DiffJson>(ws, ["checkpoint", "diff", created.id]));

    // The agent writes into a hole and over the first block.
    writePieces(disk, [
      [500 * GiB, Buffer.from("the agent was here")],
      [0, Buffer.alloc(4 * KiB, 0x41)],
    ]);
    const diff = await cliJson<DiffJson>(ws, ["checkpoint", "diff", created.id]);
    expect(diff.modified.map((m) => m.path)).toEqual(["disk.img"]);
    expect(diff.modified[0]?.before).toMatchObject({ size: TiB, sparse: { dataBytes: expect.any(Number) } });
    expect(diff.modified[0]?.after).toMatchObject({ size: TiB, sparse: { dataBytes: expect.any(Number) } });
    expect((await runCli(ws, ["checkpoint", "diff", created.id])).stdout).toMatch(/^M disk\.img \(sparse, 1\.0 TiB with .* data -> sparse, 1\.0 TiB with .* data\)$/m);

    const plan = await cliJson<PlanJson>(ws, ["rollback", created.id, "--dry-run"]);
    expect(plan.restore).toEqual([{ path: "disk.img", kind: "file", action: "write", size: TiB, sparse: { dataBytes: expect.any(Number) } }]);
    expect(plan.bytesToWrite).toBeLessThan(DATA_BYTES + 64 * KiB);

    const rolledBack = await cliJson<{ outcome: string; restored: number; safetyCheckpointId: string }>(ws, ["rollback", created.id, "--yes"]);
    expect(rolledBack).toMatchObject({ outcome: "succeeded", restored: 1 });
    expectSparseCopy(disk, TiB, PIECES, [500 * GiB]);
    expectNoChanges(await cliJson<DiffJson>(ws, ["checkpoint", "diff", created.id]));
    expect(await cliJson(ws, ["checkpoint", "verify", created.id])).toMatchObject({ state: "verified" });

    // Deleted, it comes back sparse too.
    fs.rmSync(disk);
    expect((await cliJson<DiffJson>(ws, ["checkpoint", "diff", created.id])).deleted.map((d) => d.path)).toEqual(["disk.img"]);
    await cliJson(ws, ["rollback", created.id, "--yes"]);
    expectSparseCopy(disk, TiB, PIECES, [500 * GiB]);

    // The first rollback's safety checkpoint held the agent's version, sparse: undoing it brings that back.
    await cliJson(ws, ["rollback", rolledBack.safetyCheckpointId, "--yes"]);
    expectSparseCopy(disk, TiB, [[0, Buffer.alloc(4 * KiB, 0x41)], [500 * GiB, Buffer.from("the agent was here")], ...PIECES.slice(1)]);
    expect(storeBytes(ws.dataDir)).toBeLessThan(3 * (DATA_BYTES + 64 * KiB));
  });

  it("unchanged, is the same object in the next checkpoint (the stat cache keeps it sparse)", async () => {
    const ws = await workspace("sparse-cache");
    const first = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "vm"]);
    // Past the racy window, so the stat cache vouches for both files.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const second = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "vm"]);
    const third = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "vm"]);
    expect(third.filesRead).toBe(0);
    expect(third.manifestSha256).toBe(second.manifestSha256);
    expect(second.manifestSha256).toBe(first.manifestSha256);
    expectNoChanges(await cliJson<DiffJson>(ws, ["checkpoint", "diff", third.id]));
  });

  it("keeps its holes in a restore into another folder and in a tar export (GNU sparse format, read by GNU tar)", async () => {
    const ws = await workspace("sparse-restore");
    // A name too long for a tar header of its own: it travels in the pax records, beside the sparse ones.
    const deep = `nested/${"d".repeat(90)}/also-sparse.img`;
    const deepPieces: Piece[] = [[2 * GiB, Buffer.from("deep data")]];
    makeSparse(path.join(ws.root, deep), "3G", deepPieces);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "vm"]);

    const target = path.join(ws.base, "restored");
    const restored = await cliJson<{ files: number; bytes: number }>(ws, ["checkpoint", "restore", created.id, "--to", target]);
    expect(restored.files).toBe(3);
    expect(restored.bytes).toBeLessThan(DATA_BYTES + 64 * KiB);
    expectSparseCopy(path.join(target, "disk.img"), TiB, PIECES, [500 * GiB]);
    expectSparseCopy(path.join(target, deep), 3 * GiB, deepPieces, [GiB]);

    const archive = path.join(ws.base, "vm.tar.gz");
    await cliJson(ws, ["checkpoint", "export", created.id, "--format", "tar.gz", "-o", archive]);
    expect(fs.statSync(archive).size).toBeLessThan(DATA_BYTES + 64 * KiB);
    const listing = execFileSync("tar", ["-tvzf", archive], { encoding: "utf8" });
    expect(listing).toMatch(new RegExp(`\\s${TiB}\\s.*vm-${created.id}/disk\\.img$`, "m"));
    expect(listing).not.toMatch(/GNUSparseFile/);
    const unpacked = makeTempDir("sparse-untar");
    execFileSync("tar", ["-xzf", archive, "--sparse", "-C", unpacked]);
    expectSparseCopy(path.join(unpacked, `vm-${created.id}`, "disk.img"), TiB, PIECES, [500 * GiB]);
    expectSparseCopy(path.join(unpacked, `vm-${created.id}`, deep), 3 * GiB, deepPieces, [GiB]);
    expect(fs.readFileSync(path.join(unpacked, `vm-${created.id}`, "notes.txt"), "utf8")).toBe("an ordinary file\n");
  });

  it("is left out of a zip when it is large, with a note, and written out in full when it is small", async () => {
    const ws = await workspace("sparse-zip");
    const small: Piece[] = [[5 * MiB, randomBytes(4 * KiB)]];
    makeSparse(path.join(ws.root, "small.img"), "8M", small);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "vm"]);

    const archive = path.join(ws.base, "vm.zip");
    const report = await cliJson<{ warnings: { path: string; archivedAs: string | null; reason: string }[] }>(ws, ["checkpoint", "export", created.id, "--format", "zip", "-o", archive]);
    expect(report.warnings).toEqual([{ path: "disk.img", archivedAs: null, reason: expect.stringMatching(/^it is a sparse file of 1099511627776 bytes \(\d+ bytes of data, the rest holes\), which a zip could only hold written out in full; export as tar\.gz/) }]);
    const unpacked = makeTempDir("sparse-unzip");
    execFileSync("unzip", ["-q", archive, "-d", unpacked]);
    const folder = path.join(unpacked, `vm-${created.id}`);
    expect(fs.existsSync(path.join(folder, "disk.img"))).toBe(false);
    const notes = JSON.parse(fs.readFileSync(path.join(folder, ".safetynet-export-notes.json"), "utf8")) as { path: string; archivedAs: string | null }[];
    expect(notes.map((n) => [n.path, n.archivedAs])).toEqual([["disk.img", null]]);
    const expanded = fs.readFileSync(path.join(folder, "small.img"));
    const expected = Buffer.alloc(8 * MiB);
    (small[0] as Piece)[1].copy(expected, 5 * MiB);
    expect(expanded.equals(expected)).toBe(true);
  });

  it("sparse at the checkpoint and dense now (same bytes), or the other way round, is modified; the rollback puts back the checkpoint's form", async () => {
    const ws = makeWorkspaceDirs("sparse-dense");
    const pieces: Piece[] = [[3 * MiB, randomBytes(8 * KiB)]];
    makeSparse(path.join(ws.root, "sparse.img"), "16M", pieces);
    makeSparse(path.join(ws.root, "dense.img"), "16M", pieces);
    // dense.img: the same bytes, every block allocated.
    execFileSync("cp", ["--sparse=never", path.join(ws.root, "sparse.img"), path.join(ws.root, "dense.img")]);
    expect(fs.statSync(path.join(ws.root, "dense.img")).blocks * 512).toBeGreaterThanOrEqual(16 * MiB);
    await cliJson(ws, ["component", "add", "vm", "--root", ws.root]);
    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "vm"]);

    // Swap their forms, keeping every byte.
    const nowDense = path.join(ws.base, "now-dense");
    const nowSparse = path.join(ws.base, "now-sparse");
    execFileSync("cp", ["--sparse=never", path.join(ws.root, "sparse.img"), nowDense]);
    execFileSync("cp", ["--sparse=always", path.join(ws.root, "dense.img"), nowSparse]);
    fs.renameSync(nowDense, path.join(ws.root, "sparse.img"));
    fs.renameSync(nowSparse, path.join(ws.root, "dense.img"));
    expect(fs.statSync(path.join(ws.root, "dense.img")).blocks * 512).toBeLessThan(1 * MiB);
    const swapped = await cliJson<DiffJson>(ws, ["checkpoint", "diff", created.id]);
    const byPath = new Map(swapped.modified.map((m) => [m.path, m]));
    expect([...byPath.keys()].sort()).toEqual(["dense.img", "sparse.img"]);
    expect(byPath.get("dense.img")?.before?.sparse).toBeUndefined();
    expect(byPath.get("dense.img")?.after?.sparse).toEqual({ dataBytes: 8 * KiB });
    expect(byPath.get("sparse.img")?.before?.sparse).toEqual({ dataBytes: 8 * KiB });
    expect(byPath.get("sparse.img")?.after?.sparse).toBeUndefined();

    await cliJson(ws, ["rollback", created.id, "--yes"]);
    expectSparseCopy(path.join(ws.root, "sparse.img"), 16 * MiB, pieces, [0, 8 * MiB]);
    const dense = fs.statSync(path.join(ws.root, "dense.img"));
    expect(dense.blocks * 512).toBeGreaterThanOrEqual(16 * MiB);
    expect(readAt(path.join(ws.root, "dense.img"), 3 * MiB, 8 * KiB).equals((pieces[0] as Piece)[1])).toBe(true);
    expectNoChanges(await cliJson<DiffJson>(ws, ["checkpoint", "diff", created.id]));
  });
});

describe.skipIf(tmpfsUnavailableReason() !== null)("free-space checks count a sparse file's real bytes", () => {
  it("a terabyte-sized sparse file does not stop checkpoints on a small data disk, nor rollbacks on a small workspace disk", async () => {
    const ws = makeWorkspaceDirs("sparse-small-disks");
    fs.rmdirSync(ws.root);
    mountTinyDisk(ws.root, 16 * 1024);
    makeSparse(path.join(ws.root, "disk.img"), "1T", PIECES);
    await cliJson(ws, ["component", "add", "vm", "--root", ws.root]);
    // After `component add` made the data dir: the store now lives on an 8 MiB disk.
    fs.rmSync(path.join(ws.dataDir, "store"), { recursive: true });
    mountTinyDisk(path.join(ws.dataDir, "store"), 8 * 1024);

    const created = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "vm"]);
    expect(created.files).toBe(1);
    writePieces(path.join(ws.root, "disk.img"), [[200 * GiB, Buffer.from("changed")]]);
    await cliJson(ws, ["rollback", created.id, "--yes"]);
    expectSparseCopy(path.join(ws.root, "disk.img"), TiB, PIECES, [200 * GiB]);
  });

  it("a restore into a folder on a small disk writes the sparse file, and refuses before writing anything what really does not fit", async () => {
    const ws = makeWorkspaceDirs("sparse-restore-space");
    makeSparse(path.join(ws.root, "disk.img"), "1T", PIECES);
    await cliJson(ws, ["component", "add", "vm", "--root", ws.root]);
    const sparseOnly = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "vm"]);
    fs.writeFileSync(path.join(ws.root, "blob.bin"), randomBytes(12 * MiB));
    const withBlob = await cliJson<CheckpointCreated>(ws, ["checkpoint", "create", "vm"]);

    const small = path.join(ws.base, "small-disk");
    mountTinyDisk(small, 8 * 1024);
    await cliJson(ws, ["checkpoint", "restore", sparseOnly.id, "--to", path.join(small, "a")]);
    expectSparseCopy(path.join(small, "a", "disk.img"), TiB, PIECES, [500 * GiB]);

    const refused = await runCli(ws, ["checkpoint", "restore", withBlob.id, "--to", path.join(small, "b"), "--json"]);
    expect(refused.status).toBe(1);
    expect(jsonOf<CliErrorJson>(refused).error.message).toMatch(new RegExp(`^not enough free space in ${small} to restore this checkpoint: it needs about \\d+ bytes, \\d+ are available; nothing was written$`));
    expect(fs.existsSync(path.join(small, "b"))).toBe(false);
  });
});
