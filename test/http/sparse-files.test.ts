/**
 * Sparse files through the production server (`next start`): the server reads
 * hole maps too (its bundle loads the native addon), so a 1 TiB file with a few
 * blocks of data is checkpointed over tRPC by its data, rolled back with its
 * holes, and downloaded as a .tar.gz that GNU tar extracts with them.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { Api, makeComponent } from "./api";

const server = inject("main");
const admin = new Api(server.baseUrl, server.adminToken);
const scratch = mkdtempSync(path.join(os.tmpdir(), "safetynet-sparse-http-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const TiB = 1024 ** 4;
const GiB = 1024 ** 3;
const DATA: [number, Buffer][] = [
  [0, randomBytes(4096)],
  [600 * GiB, randomBytes(8192)],
];

function write(file: string, pieces: [number, Buffer][]): void {
  const fd = openSync(file, "r+");
  try {
    for (const [offset, bytes] of pieces) writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

function readAt(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, "r");
  try {
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, offset);
    return buffer;
  } finally {
    closeSync(fd);
  }
}

function expectSparseCopy(file: string): void {
  const st = statSync(file);
  expect(st.size).toBe(TiB);
  expect(st.blocks * 512).toBeLessThan(1024 * 1024);
  for (const [offset, bytes] of DATA) expect(readAt(file, offset, bytes.length).equals(bytes)).toBe(true);
  expect(readAt(file, 300 * GiB, 4096).equals(Buffer.alloc(4096))).toBe(true);
}

describe("a sparse file on the server", () => {
  it("is checkpointed by its data, rolled back with its holes, and downloaded as a tar that keeps them", async () => {
    const { name, root } = await makeComponent(admin, server.workspace, { "readme.txt": "hello\n" });
    const disk = path.join(root, "disk.img");
    execFileSync("truncate", ["-s", "1T", disk]);
    write(disk, DATA);
    const created = await admin.call<{ id: string; newBytes: number }>("checkpoint.create", { component: name });
    expect(created.newBytes).toBeLessThan(64 * 1024);

    write(disk, [[300 * GiB, Buffer.from("changed by the agent")]]);
    const plan = await admin.call<{ restore: { path: string; sparse?: { dataBytes: number } }[]; confirmToken: string }>("rollback.plan", { checkpointId: created.id });
    expect(plan.restore).toMatchObject([{ path: "disk.img", sparse: { dataBytes: 4096 + 8192 } }]);
    await admin.call("rollback.execute", { checkpointId: created.id, confirmToken: plan.confirmToken });
    expectSparseCopy(disk);

    const response = await fetch(`${server.baseUrl}/api/checkpoints/${created.id}/archive?format=tar.gz`, { headers: { authorization: `Bearer ${server.adminToken}` } });
    expect(response.status).toBe(200);
    const archive = path.join(scratch, "disk.tar.gz");
    writeFileSync(archive, Buffer.from(await response.arrayBuffer()));
    const into = mkdtempSync(path.join(scratch, "x-"));
    execFileSync("tar", ["-xzf", archive, "-C", into]);
    expectSparseCopy(path.join(into, `${name}-${created.id}`, "disk.img"));
  });
});
