/**
 * A full disk under the server: the data directory on a 20 MB tmpfs, free space
 * squeezed to 80 KB and then 48 KB. Every request answers (nothing hangs), a
 * checkpoint that cannot fit is refused with 507 before anything is written,
 * nothing is left half-recorded, and the server works again once space is freed.
 * Then SIGTERM stops it within 10 s, even with an idle keep-alive connection open.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fillDisk, tmpfsUnavailableReason } from "../support/workspace";
import { Api, expectError, hashTree, makeComponent, uniqueName } from "./api";
import { startServer, type RunningServer } from "./server";

const unavailable = tmpfsUnavailableReason();

describe.skipIf(unavailable !== null)(`a full disk under the server${unavailable ? ` (skipped: ${unavailable})` : ""}`, () => {
  let server: RunningServer;
  let admin: Api;
  const filler = () => path.join(server.dataDir, "filler.bin");
  const records = () => readdirSync(path.join(server.dataDir, "store", "snapshots")).filter((n) => n.endsWith(".json")).length;

  beforeAll(async () => {
    server = await startServer({
      name: "full-disk",
      beforeStart: ({ dataDir }) => {
        mkdirSync(dataDir, { recursive: true });
        execFileSync("mount", ["-t", "tmpfs", "-o", "size=20m,mode=0700", "tmpfs", dataDir]);
      },
    });
    admin = new Api(server.baseUrl, server.adminToken);
  });
  afterAll(async () => {
    if (!server) return;
    await server.terminate();
    try {
      execFileSync("umount", ["-l", server.dataDir]);
    } catch {
      // already gone
    }
    await server.stop();
  });

  it("refuses what does not fit with 507 and records nothing half-way; everything works again once space is freed", async () => {
    const big = await makeComponent(admin, server.workspace, { "small.txt": "small\n", "big.bin": randomBytes(300_000) });
    const small = await makeComponent(admin, server.workspace, { "note.txt": "note\n" });
    const first = await admin.call<{ id: string }>("checkpoint.create", { component: big.name });
    writeFileSync(path.join(big.root, "big.bin"), randomBytes(300_000));
    const before = { checkpoints: (await admin.get<{ items: unknown[] }>("checkpoint.list", {})).items.length, records: records() };

    fillDisk(filler(), 80);
    const refused = expectError(await admin.mutation("checkpoint.create", { component: big.name }), 507);
    expect(refused.message).toMatch(/not enough free space for the checkpoint .* nothing was written/);
    expect(refused.data.safetynetCode).toBe("NO_SPACE");

    rmSync(filler());
    fillDisk(filler(), 48);
    expectError(await admin.mutation("checkpoint.create", { component: small.name }), 507);
    const pin = await admin.mutation("checkpoint.pin", { id: first.id, pinned: true });
    expect([200, 500, 507]).toContain(pin.status);

    expect((await admin.get<{ items: unknown[] }>("checkpoint.list", {})).items.length).toBe(before.checkpoints);
    expect(records()).toBe(before.records);
    expect(readdirSync(path.join(server.dataDir, "store", "tmp"))).toEqual([]);

    rmSync(filler());
    const next = await admin.call<{ id: string }>("checkpoint.create", { component: small.name });
    await admin.call("checkpoint.pin", { id: next.id, pinned: true });
    const bigAgain = await admin.call<{ id: string }>("checkpoint.create", { component: big.name });
    const history = await admin.get<{ items: { kind: string; outcome: string; checkpointId: string | null }[] }>("history.list", {});
    expect(history.items.filter((e) => e.outcome === "succeeded" && (e.checkpointId === next.id || e.checkpointId === bigAgain.id)).map((e) => e.kind).sort()).toEqual([
      "checkpoint.create",
      "checkpoint.create",
      "checkpoint.pin",
    ]);
    expect((await fetch(`${server.baseUrl}/api/health`)).status).toBe(200);
  });

  it("refuses a rollback that does not fit on the workspace's disk with 507 NO_SPACE, the bytes needed and available, before anything changes", async () => {
    const name = uniqueName("tight");
    const root = path.join(server.workspace, name);
    mkdirSync(root);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", root]);
    try {
      writeFileSync(path.join(root, "small.txt"), "small\n");
      writeFileSync(path.join(root, "big.bin"), Buffer.alloc(900 * 1024, 1));
      await admin.call("component.upsert", { name, root });
      const checkpoint = await admin.call<{ id: string }>("checkpoint.create", { component: name });
      writeFileSync(path.join(root, "big.bin"), "shrunk by the agent\n");
      fillDisk(path.join(root, "node_modules", "filler.bin"), 200);
      const before = hashTree(root);
      const plan = await admin.call<{ confirmToken: string }>("rollback.plan", { checkpointId: checkpoint.id });

      const refused = expectError(await admin.mutation("rollback.execute", { checkpointId: checkpoint.id, confirmToken: plan.confirmToken }), 507);

      expect(refused.data.safetynetCode).toBe("NO_SPACE");
      const { neededBytes, availableBytes } = refused.data.details as { neededBytes: number; availableBytes: number };
      expect(neededBytes).toBeGreaterThan(availableBytes);
      expect(refused.message).toBe(
        `not enough free space in ${root} for this rollback: it needs about ${neededBytes} bytes more, ${availableBytes} are available; nothing was changed. Free some space on that disk, then roll back again`,
      );
      expect(hashTree(root)).toEqual(before);
      expect(readdirSync(path.join(server.dataDir, "journal")).filter((n) => n.endsWith(".json"))).toEqual([]);
    } finally {
      execFileSync("umount", ["-l", root]);
    }
  });

  it("stops within 10 s of SIGTERM, with an idle keep-alive connection open", async () => {
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      http.get(`${server.baseUrl}/api/health`, { agent }, (response) => {
        response.resume();
        response.on("end", resolve);
      }).on("error", reject);
    });

    const tookMs = await server.terminate();

    agent.destroy();
    expect(tookMs).toBeLessThan(10_500);
  });
});
