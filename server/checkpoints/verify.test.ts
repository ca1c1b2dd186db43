import { describe, expect, it } from "vitest";
import { addComponent, cleanUpAfterEach, corruptObject, deleteObject, openWorkspace, sha256Of, TEST_ACTOR, writeTree, type Workspace } from "../../test/support/workspace";
import { listHistory } from "../audit/history";
import { createCheckpoint } from "./create";
import { getCheckpoint } from "./queries";
import { verifyCheckpoint } from "./verify";

cleanUpAfterEach();

async function checkpointed(ws: Workspace) {
  writeTree(ws.root, { "a.txt": "shared content\n", "copy/a.txt": "shared content\n", "b.txt": "bee\n", "empty.txt": "" });
  await addComponent(ws);
  return createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
}

describe("checkpoint verify", () => {
  it("re-hashes the manifest and every object, and records the checkpoint as verified", async () => {
    const ws = openWorkspace();
    const checkpoint = await checkpointed(ws);

    const result = await verifyCheckpoint(ws.core, checkpoint.id, TEST_ACTOR);

    expect(result).toMatchObject({ checkpointId: checkpoint.id, state: "verified", problems: [], objectsChecked: 6 }); // files, manifest and tree objects
    expect(await getCheckpoint(ws.core, checkpoint.id)).toMatchObject({ verifyState: "verified", verifiedAt: result.verifiedAt });
    expect((await listHistory(ws.core, { kind: "checkpoint.verify" })).items[0]).toMatchObject({ outcome: "succeeded", checksum: checkpoint.manifestSha256 });
  });

  it("reports a corrupt object with every path that holds its content", async () => {
    const ws = openWorkspace();
    const checkpoint = await checkpointed(ws);
    const sha256 = sha256Of("shared content\n");
    await corruptObject(ws.dataDir, sha256);

    const result = await verifyCheckpoint(ws.core, checkpoint.id, TEST_ACTOR);

    expect(result.state).toBe("corrupt");
    expect(result.problems).toEqual([
      { path: "a.txt", sha256, state: "corrupt" },
      { path: "copy/a.txt", sha256, state: "corrupt" },
    ]);
    expect((await getCheckpoint(ws.core, checkpoint.id)).verifyState).toBe("corrupt");
    const event = (await listHistory(ws.core, { kind: "checkpoint.verify" })).items[0];
    expect(event).toMatchObject({ outcome: "failed" });
    expect(event?.error).toBe("2 problem(s): a.txt corrupt, copy/a.txt corrupt");
  });

  it("reports a missing object as missing", async () => {
    const ws = openWorkspace();
    const checkpoint = await checkpointed(ws);
    await deleteObject(ws.dataDir, sha256Of("bee\n"));

    const result = await verifyCheckpoint(ws.core, checkpoint.id, TEST_ACTOR);

    expect(result).toMatchObject({ state: "missing", problems: [{ path: "b.txt", sha256: sha256Of("bee\n"), state: "missing" }] });
    expect((await getCheckpoint(ws.core, checkpoint.id)).verifyState).toBe("missing");
  });

  it("reports a corrupt manifest as a problem of the checkpoint itself", async () => {
    const ws = openWorkspace();
    const checkpoint = await checkpointed(ws);
    await corruptObject(ws.dataDir, checkpoint.manifestSha256);

    const result = await verifyCheckpoint(ws.core, checkpoint.id, TEST_ACTOR);

    expect(result).toMatchObject({ state: "corrupt", problems: [{ path: null, sha256: checkpoint.manifestSha256, state: "corrupt" }] });
  });
});
