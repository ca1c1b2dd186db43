/**
 * A rollback that stops part-way inside the server because the workspace's disk
 * fills up: rollback.execute answers 507 NO_SPACE saying the rollback is partly
 * applied and journaled, where it stopped and what completes it; while the disk
 * stays full, a change to the component is refused (409) saying the rollback is
 * still pending (never "nothing was changed"); once space is freed, the next
 * change completes it exactly.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fillDisk, tmpfsUnavailableReason } from "../support/workspace";
import { Api, expectError, hashTree } from "./api";
import { PACKAGE_ROOT, startServer, type RunningServer } from "./server";

const unavailable = tmpfsUnavailableReason();
const COMPONENT = "tight";

describe.skipIf(unavailable !== null)(`a rollback stopped by a full workspace disk, through the server${unavailable ? ` (skipped: ${unavailable})` : ""}`, () => {
  let server: RunningServer;
  let admin: Api;
  let root: string;
  const journals = () => readdirSync(path.join(server.dataDir, "journal")).filter((n) => n.endsWith(".json"));

  beforeAll(async () => {
    // This server's process fails its 4th file-system change inside the component's folder with ENOSPC, once
    // (test/support/fault-seam.mjs): a.txt is written, renamed and its mtime set, then b.txt's temp file fails.
    server = await startServer({
      name: "stopped",
      env: ({ workspace }) => ({
        NODE_OPTIONS: `--import ${path.join(PACKAGE_ROOT, "test", "support", "fault-seam.mjs")}`,
        SAFETYNET_FAULT_AFTER: "4",
        SAFETYNET_FAULT_MODE: "enospc",
        SAFETYNET_FAULT_UNDER: path.join(workspace, COMPONENT),
      }),
    });
    admin = new Api(server.baseUrl, server.adminToken);
    root = path.join(server.workspace, COMPONENT);
    mkdirSync(root);
    // A real small disk too, to be filled up after the rollback stopped.
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", root]);
  });
  afterAll(async () => {
    if (root) {
      try {
        execFileSync("umount", ["-l", root]);
      } catch {
        // not mounted
      }
    }
    await server?.stop();
  });

  it("answers 507 saying it is partly applied and journaled; a change refused meanwhile says it is still pending; the next change completes it", async () => {
    for (const f of ["a", "b", "c"]) writeFileSync(path.join(root, `${f}.txt`), `${f}1\n`);
    await admin.call("component.upsert", { name: COMPONENT, root });
    const checkpoint = await admin.call<{ id: string }>("checkpoint.create", { component: COMPONENT });
    const original = hashTree(root);
    for (const f of ["a", "b", "c"]) writeFileSync(path.join(root, `${f}.txt`), `${f}2, by the agent\n`);
    const plan = await admin.call<{ confirmToken: string }>("rollback.plan", { checkpointId: checkpoint.id });

    const stopped = expectError(await admin.mutation("rollback.execute", { checkpointId: checkpoint.id, confirmToken: plan.confirmToken }), 507);

    expect(stopped.data.safetynetCode).toBe("NO_SPACE");
    expect(journals()).toHaveLength(1);
    const rollbackId = path.basename(journals()[0] as string, ".json");
    expect(stopped.data.details).toMatchObject({
      rollbackId,
      pending: true,
      partlyApplied: true,
      journal: path.join(server.dataDir, "journal", `${rollbackId}.json`),
      failedAt: { step: "restore", path: "b.txt" },
      changesMade: 1,
      changesPlanned: 3,
      completeWith: "safetynet recover",
    });
    expect(stopped.message).toMatch(new RegExp(`^rollback ${rollbackId} of ${COMPONENT} to ${checkpoint.id} stopped part-way while restoring b\\.txt: no space left on device`));
    expect(stopped.message).toMatch(/the rollback is partly applied \(1 of 3 changes made\) and journaled in /);
    expect(stopped.message).toMatch(/then run `safetynet recover` to complete it exactly/);

    // The disk really fills up: the recovery the next change runs first cannot complete it.
    const filler = path.join(root, "node_modules", "filler.bin");
    fillDisk(filler, 0);
    const halfway = hashTree(root);
    const refused = expectError(await admin.mutation("checkpoint.create", { component: COMPONENT }), 409);
    expect(refused.message).toMatch(new RegExp(`interrupted rollback ${rollbackId} \\(journal .*\\) that could not be completed: not enough free space in ${root}`));
    expect(refused.message).toMatch(/it is still pending: the rollback is partly applied \(1 of 3 changes made when it stopped\) and journaled/);
    expect(refused.message).not.toMatch(/nothing was (changed|written)/);
    expect(refused.data.details).toMatchObject({ rollbackId, pending: true, partlyApplied: true, completeWith: "safetynet recover" });
    expect(hashTree(root)).toEqual(halfway);
    const history = await admin.get<{ items: { kind: string; outcome: string; error: string | null }[] }>("history.list", { component: COMPONENT, kind: "recover" });
    expect(history.items[0]).toMatchObject({ outcome: "failed", error: expect.stringMatching(/^rollback rb_\w+ of tight to cp_\w+ is still pending: completing it was refused: /) });

    rmSync(filler);
    rmSync(path.dirname(filler), { recursive: true });
    await admin.call("checkpoint.create", { component: COMPONENT });

    expect(hashTree(root)).toEqual(original);
    expect(journals()).toEqual([]);
  });
});
