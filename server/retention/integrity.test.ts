import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { listHistory } from "../audit/history";
import { readManifest } from "../checkpoints/manifest";
import { findChild, openManifest, readTree } from "../checkpoints/tree-read";
import { ACTOR, openFixture, type Fixture } from "./test-fixture";
import { verifyAll } from "./integrity";

let f: Fixture;
beforeEach(async () => {
  f = await openFixture();
  await f.component("app");
});
afterEach(async () => {
  vi.restoreAllMocks();
  await f.close();
});

async function stateOf(id: string): Promise<string> {
  return (await f.core.db.checkpoint.findUniqueOrThrow({ where: { id } })).verifyState;
}

function damage(sha256: string, how: "corrupt" | "missing"): void {
  const p = (f.core.store.locate(sha256)?.path as string);
  if (how === "missing") rmSync(p);
  else {
    chmodSync(p, 0o644);
    writeFileSync(p, "tampered");
  }
}

it("reads each tree object once however many checkpoints share it, and reports a damaged folder tree in every checkpoint holding it", async () => {
  f.write("app", { "lib/deep/x.txt": "x", "lib/y.txt": "y", "top.txt": "1" });
  const one = await f.checkpoint("app");
  f.write("app", { "top.txt": "2" });
  const two = await f.checkpoint("app");
  const libTree = findChild(readTree(f.core.store, openManifest(f.core.store, two.manifestSha256).root), "lib")?.tree as string;
  expect(findChild(readTree(f.core.store, openManifest(f.core.store, one.manifestSha256).root), "lib")?.tree).toBe(libTree);
  const reads = vi.spyOn(f.core.store, "readBuffer");
  const result = await verifyAll(f.core, ACTOR);
  expect(result.failures).toEqual([]);
  expect(reads.mock.calls.filter(([sha]) => sha === libTree)).toHaveLength(1);
  // 2 manifests, 2 root trees, lib/ and lib/deep/ once, x, y, top v1 and v2.
  expect(result.objectsChecked).toBe(10);

  reads.mockRestore();
  damage(libTree, "corrupt");
  const damaged = await verifyAll(f.core, ACTOR);
  expect(damaged.failures.map((c) => c.checkpointId).sort()).toEqual([one.id, two.id].sort());
  for (const failure of damaged.failures) expect(failure.problems).toEqual([{ path: "lib", sha256: libTree, state: "corrupt" }]);
  expect(await stateOf(one.id)).toBe("corrupt");
});

it("verifies every active checkpoint, re-hashing each shared object once", async () => {
  f.write("app", { "shared.txt": "shared", "a.txt": "a" });
  const one = await f.checkpoint("app");
  f.write("app", { "a.txt": "b" });
  const two = await f.checkpoint("app");
  const spy = vi.spyOn(f.core.store, "verifyObject");
  const result = await verifyAll(f.core, ACTOR);
  expect(result).toMatchObject({ outcome: "succeeded", checkpoints: 2, verified: 2, corrupt: 0, missing: 0, failures: [] });
  expect(spy).toHaveBeenCalledTimes(3); // shared.txt, a (v1), a (v2)
  expect(result.objectsChecked).toBe(7); // + two manifests and their two root trees
  expect(await stateOf(one.id)).toBe("verified");
  expect(await stateOf(two.id)).toBe("verified");
});

it("marks the checkpoints that reference a corrupt or missing object, reports them, and records a failed verify", async () => {
  f.write("app", { "shared.txt": "shared by both", "a.txt": "a" });
  const one = await f.checkpoint("app");
  f.clock.advance(1000); // ids sort by creation time
  f.write("app", { "a.txt": "only in two" });
  const two = await f.checkpoint("app");
  f.clock.advance(1000);
  f.write("app", { "a.txt": "only in three", "shared.txt": "changed" });
  const three = await f.checkpoint("app");
  const manifest = (await f.core.db.checkpoint.findUniqueOrThrow({ where: { id: two.id } })).manifestSha;
  const sharedSha = readManifest(f.core.store, manifest).entries.find((e) => e.path === "shared.txt")?.sha256 as string;
  const onlyTwo = readManifest(f.core.store, manifest).entries.find((e) => e.path === "a.txt")?.sha256 as string;
  damage(sharedSha, "corrupt");
  damage(onlyTwo, "missing");

  const result = await verifyAll(f.core, ACTOR);

  expect(result).toMatchObject({ outcome: "failed", checkpoints: 3, verified: 1, corrupt: 2, missing: 0 });
  expect(result.failures.map((x) => x.checkpointId)).toEqual([one.id, two.id]);
  expect(result.failures[1]?.problems).toEqual(
    expect.arrayContaining([
      { path: "shared.txt", sha256: sharedSha, state: "corrupt" },
      { path: "a.txt", sha256: onlyTwo, state: "missing" },
    ]),
  );
  expect(await stateOf(one.id)).toBe("corrupt");
  expect(await stateOf(two.id)).toBe("corrupt");
  expect(await stateOf(three.id)).toBe("verified");
  const event = (await listHistory(f.core, { kind: "checkpoint.verify" })).items[0];
  expect(event).toMatchObject({ id: result.historyEventId, outcome: "failed", details: { scope: "all", corrupt: 2, missing: 0 } });
});

it("reports a checkpoint whose manifest is gone as missing", async () => {
  f.write("app", { "a.txt": "a" });
  const one = await f.checkpoint("app");
  damage(one.manifestSha256, "missing");
  const result = await verifyAll(f.core, ACTOR);
  expect(result).toMatchObject({ missing: 1, failures: [{ checkpointId: one.id, state: "missing", problems: [{ path: null, state: "missing" }] }] });
  expect(await stateOf(one.id)).toBe("missing");
});
