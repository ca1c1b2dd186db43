import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { addComponent, cleanUpAfterEach, openWorkspace, TEST_ACTOR, writeTree } from "../../test/support/workspace";
import { createCheckpoint } from "../checkpoints/create";
import { componentDrift, DRIFT_REUSE_MS } from "./drift";

cleanUpAfterEach();

const settle = () => new Promise((resolve) => setTimeout(resolve, DRIFT_REUSE_MS + 20));

describe("drift since the last checkpoint", () => {
  it("counts files added, modified and deleted since the last whole checkpoint, and goes to 0 after a new one", async () => {
    const ws = openWorkspace();
    writeTree(ws.root, { "a.txt": "one\n", "b.txt": "b\n", "src/c.txt": "c\n" });
    await addComponent(ws);
    expect(await componentDrift(ws.core, "app")).toMatchObject({ checkpointId: null, added: 0, modified: 0, deleted: 0 });
    const first = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    expect(await componentDrift(ws.core, "app")).toMatchObject({ checkpointId: first.id, added: 0, modified: 0, deleted: 0, paths: [] });
    fs.writeFileSync(path.join(ws.root, "a.txt"), "two\n");
    fs.rmSync(path.join(ws.root, "b.txt"));
    writeTree(ws.root, { "src/new/d.txt": "d\n" });
    // A touched file (same content) is no change.
    fs.utimesSync(path.join(ws.root, "src/c.txt"), new Date(), new Date(Date.now() + 5000));
    await settle();
    expect(await componentDrift(ws.core, "app")).toMatchObject({
      checkpointId: first.id,
      added: 1,
      modified: 1,
      deleted: 1,
      paths: [
        { path: "a.txt", change: "modified" },
        { path: "b.txt", change: "deleted" },
        { path: "src/new/d.txt", change: "added" },
      ],
    });
    // A checkpoint of some paths does not reset the drift of the whole component.
    await createCheckpoint(ws.core, { component: "app", paths: ["a.txt"] }, TEST_ACTOR);
    expect((await componentDrift(ws.core, "app")).checkpointId).toBe(first.id);
    const second = await createCheckpoint(ws.core, { component: "app" }, TEST_ACTOR);
    // Asked at once after it: the new checkpoint is compared with, not a reused answer.
    expect(await componentDrift(ws.core, "app")).toMatchObject({ checkpointId: second.id, added: 0, modified: 0, deleted: 0 });
  });
});
